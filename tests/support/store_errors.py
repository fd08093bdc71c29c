"""The not-found errors a store function may raise: the API's today, the core's once the
store raises domain errors (store tests accept either, and check the message)."""

from __future__ import annotations

from server.core.errors import NotFound as DomainNotFound
from server.errors import NotFound as ApiNotFound

NOT_FOUND = (ApiNotFound, DomainNotFound)
