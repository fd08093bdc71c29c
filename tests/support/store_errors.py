"""The not-found error a store function raises: the core's (server.core.errors.NotFound),
which each face renders (the configuration API as a 404 with id, message and
exceptionClassName)."""

from __future__ import annotations

from server.core.errors import NotFound

NOT_FOUND = NotFound
