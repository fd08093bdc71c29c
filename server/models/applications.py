"""Application models (tag: applications): Airbyte's client credentials for Bearer tokens."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from server.models.base import Model

AppName = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
# Client ids and secrets are ours (a UUID and 43 characters); the bound keeps junk out of scrypt.
Credential = Annotated[str, msgspec.Meta(max_length=1024)]


class ApplicationCreate(Model):
    """`workspaceId` (a Sluice addition) scopes the application's tokens to one workspace."""

    name: AppName
    workspace_id: UUID | None = None


class ApplicationIdRequestBody(Model):
    application_id: UUID


class ApplicationRead(Model):
    """`clientSecret` is shown once, in the reply to `applications/create`; it is stored hashed,
    so other replies carry the mask `**********` (Airbyte's schema requires the field)."""

    id: str
    name: str
    client_id: str
    client_secret: str
    created_at: int
    workspace_id: UUID | None = None


class ApplicationReadList(Model):
    applications: list[ApplicationRead]


class ApplicationTokenRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The Configuration API's token request, `{client_id, client_secret}` (snake_case on the
    wire, as Airbyte spells it). A grant type may come as `grant_type` (OAuth, and the
    form-encoded body) or `grant-type` (Airbyte's schema); only `client_credentials` exists."""

    client_id: Credential
    client_secret: Credential
    grant_type: Literal["client_credentials"] | None = None
    grant_type_dashed: Literal["client_credentials"] | None = msgspec.field(
        default=None, name="grant-type"
    )


class ApplicationTokenRequestWithGrant(ApplicationTokenRequest):
    """The public API's token request; JSON or `application/x-www-form-urlencoded`. The grant
    type is optional here too: dagster and PyAirbyte send JSON without one."""


class AccessToken(msgspec.Struct, kw_only=True):
    """A signed Bearer token. Airbyte's Configuration API sends only `access_token`; the other
    two fields (the public API's reply) are sent too, since SDK clients require them."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class PublicAccessTokenResponse(AccessToken):
    """The public API's token reply."""
