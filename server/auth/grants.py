"""Who a token request speaks for: the instance admin's username and password, or an
application's client id and secret (as Airbyte's community edition does). Both APIs' token
operations call this; wrong credentials are a 401 (not Airbyte's 400), the same answer as any
other failed credential check and the one OAuth clients expect."""

from __future__ import annotations

from typing import TypeVar

from server.auth import credentials, tokens
from server.auth.hashing import same
from server.context import Context
from server.errors import ApiError
from server.models.applications import AccessToken

T = TypeVar("T", bound=AccessToken)


class InvalidClient(ApiError):
    """Invalid client id or secret."""

    status = 401
    class_name = "io.airbyte.commons.server.errors.AuthException"


async def subject(ctx: Context, client_id: str, client_secret: str) -> str:
    """The token subject for these credentials; InvalidClient when they match nothing."""
    settings = ctx.settings
    admin_id = same(client_id, settings.username)
    if same(client_secret, settings.password) and admin_id:
        return tokens.ADMIN
    application_id = await ctx.store.read(credentials.application_for, client_id, client_secret)
    if application_id is None:
        raise InvalidClient()
    return f"app:{application_id}"


async def issue(ctx: Context, client_id: str, client_secret: str) -> str:
    return tokens.issue(ctx.settings, await subject(ctx, client_id, client_secret), ctx.now())


async def grant(ctx: Context, client_id: str, client_secret: str, reply: type[T]) -> T:
    """The token reply (`access_token`, `token_type`, `expires_in`) of either API's model."""
    token = await issue(ctx, client_id, client_secret)
    return reply(
        access_token=token, token_type="Bearer", expires_in=ctx.settings.token_expires_seconds
    )
