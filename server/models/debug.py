"""Debug model (tag: debug): what this server is, for bug reports."""

from __future__ import annotations

from typing import Any

from server.models.base import Model


class DebugRead(Model):
    info: dict[str, Any]
