"""API key models (tag: api_keys): long-lived Bearer credentials, a Sluice addition."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from server.models.base import Model

KeyName = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
# Epoch seconds, bounded to what SQLite's integers hold.
Epoch = Annotated[int, msgspec.Meta(ge=0, le=2**62)]


class ApiKeyCreate(Model):
    """`expiresAt` (epoch seconds) ends the key; `workspaceId` scopes it to one workspace."""

    name: KeyName
    workspace_id: UUID | None = None
    expires_at: Epoch | None = None


class ApiKeyIdRequestBody(Model):
    api_key_id: UUID


class ApiKeyRead(Model):
    """A key as listed: never its value, only the `prefix` it starts with."""

    api_key_id: UUID
    name: str
    prefix: str
    created_at: int
    workspace_id: UUID | None = None
    expires_at: int | None = None
    last_used_at: int | None = None
    revoked_at: int | None = None


class ApiKeyCreated(Model):
    """The reply to `api_keys/create`: the key as listed, plus the only sight of its `key`."""

    key: str
    api_key_id: UUID
    name: str
    prefix: str
    created_at: int
    workspace_id: UUID | None = None
    expires_at: int | None = None


class ApiKeyReadList(Model):
    api_keys: list[ApiKeyRead]
