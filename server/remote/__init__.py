"""Commands that drive a Sluice server over its HTTP API (a client: no server internals)."""
