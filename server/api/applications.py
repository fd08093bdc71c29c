"""Applications and their Bearer tokens (tag: applications).

`applications/token` issues a signed token for an application's client id and secret, or for
the instance admin's username and password (server.auth.grants); the public API's token
operation (server/public/applications.py) does the same.
"""

from __future__ import annotations

from server.auth import credentials, grants
from server.context import Context
from server.models.applications import (
    AccessToken,
    ApplicationCreate,
    ApplicationIdRequestBody,
    ApplicationRead,
    ApplicationReadList,
    ApplicationTokenRequest,
)


async def create_application(body: ApplicationCreate, ctx: Context) -> ApplicationRead:
    workspace = str(body.workspace_id) if body.workspace_id else None
    return await ctx.store.write(credentials.create_application, body.name, workspace, ctx.now())


async def list_applications(ctx: Context) -> ApplicationReadList:
    return ApplicationReadList(applications=await ctx.store.read(credentials.list_applications))


async def delete_application(body: ApplicationIdRequestBody, ctx: Context) -> None:
    await ctx.store.write(credentials.delete_application, str(body.application_id))


async def application_token_request(body: ApplicationTokenRequest, ctx: Context) -> AccessToken:
    return await grants.grant(ctx, body.client_id, body.client_secret, AccessToken)


handlers = [
    create_application,
    list_applications,
    delete_application,
    application_token_request,
]
