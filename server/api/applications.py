"""Applications and their Bearer tokens (tag: applications).

`applications/token` (Configuration API) and `public/v1/applications/token` (public API, also
answered at the root paths the SDKs resolve their default token URL to) issue a signed token
for an application's client id and secret, or for the instance admin's username and password,
as Airbyte's community edition does. Wrong credentials are a 401 (not Airbyte's 400): the
same answer as any other failed credential check, and the one OAuth clients expect.
"""

from __future__ import annotations

from server.auth import credentials, tokens
from server.auth.hashing import same
from server.context import Context
from server.errors import ApiError
from server.models.applications import (
    AccessToken,
    ApplicationCreate,
    ApplicationIdRequestBody,
    ApplicationRead,
    ApplicationReadList,
    ApplicationTokenRequest,
    ApplicationTokenRequestWithGrant,
    PublicAccessTokenResponse,
)

# Root paths answered by the public token operation (see the module docstring).
TOKEN_ALIASES = {
    "/v1/applications/token": "publicGetAccessToken",
    "/applications/token": "publicGetAccessToken",
}


class InvalidClient(ApiError):
    """Invalid client id or secret."""

    status = 401
    class_name = "io.airbyte.commons.server.errors.AuthException"


async def create_application(body: ApplicationCreate, ctx: Context) -> ApplicationRead:
    workspace = str(body.workspace_id) if body.workspace_id else None
    return await ctx.store.write(credentials.create_application, body.name, workspace, ctx.now())


async def list_applications(ctx: Context) -> ApplicationReadList:
    return ApplicationReadList(applications=await ctx.store.read(credentials.list_applications))


async def delete_application(body: ApplicationIdRequestBody, ctx: Context) -> None:
    await ctx.store.write(credentials.delete_application, str(body.application_id))


async def _subject(body: ApplicationTokenRequest, ctx: Context) -> str:
    settings = ctx.settings
    admin_id = same(body.client_id, settings.username)
    if same(body.client_secret, settings.password) and admin_id:
        return tokens.ADMIN
    application_id = await ctx.store.read(
        credentials.application_for, body.client_id, body.client_secret
    )
    if application_id is None:
        raise InvalidClient()
    return f"app:{application_id}"


async def application_token_request(body: ApplicationTokenRequest, ctx: Context) -> AccessToken:
    token = tokens.issue(ctx.settings, await _subject(body, ctx), ctx.now())
    return AccessToken(
        access_token=token, token_type="Bearer", expires_in=ctx.settings.token_expires_seconds
    )


async def public_get_access_token(
    body: ApplicationTokenRequestWithGrant, ctx: Context
) -> PublicAccessTokenResponse:
    token = tokens.issue(ctx.settings, await _subject(body, ctx), ctx.now())
    return PublicAccessTokenResponse(
        access_token=token, token_type="Bearer", expires_in=ctx.settings.token_expires_seconds
    )


handlers = [
    create_application,
    list_applications,
    delete_application,
    application_token_request,
    public_get_access_token,
]
