"""Uploaded files: upload, list, get, delete, formats, preview and import (tag: files)."""

from __future__ import annotations

from server.rpc import Handler

handlers: list[Handler] = []
