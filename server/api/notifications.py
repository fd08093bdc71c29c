"""Notifications: trying a webhook, and what was delivered (tag: notifications)."""

from __future__ import annotations

from server.rpc import Handler

handlers: list[Handler] = []
