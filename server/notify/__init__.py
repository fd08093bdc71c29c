"""Delivering notifications: the server's loop that sends the outbox's rows (see
`server.core.notifications` for how they are queued)."""
