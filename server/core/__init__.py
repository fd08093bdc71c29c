"""The core: every rule about Sluice's objects, shared by every face (configuration API, and
later the public API, the UI and the command line). One module per resource; typed domain
objects in and out, typed domain errors (`core.errors`) that each face renders. The core
never imports a face (server.api, server.rpc, starlette)."""
