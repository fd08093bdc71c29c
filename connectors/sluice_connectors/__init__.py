"""Sluice's own connectors. Each is a program that speaks the Airbyte protocol:
`spec`, `check --config`, `discover --config`, `read --config --catalog [--state]`,
`write --config --catalog` (messages on stdin), one JSON message per line on stdout."""
