"""Mappers: validating a stream's mappers, as the web UI does (tag: web_backend)."""

from __future__ import annotations

from server.rpc import Handler

handlers: list[Handler] = []
