"""API keys (tag: api_keys): named Bearer keys, shown once, optionally expiring, revocable."""

from __future__ import annotations

from server.auth import credentials
from server.context import Context
from server.models.api_keys import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyIdRequestBody,
    ApiKeyRead,
    ApiKeyReadList,
)


async def create_api_key(body: ApiKeyCreate, ctx: Context) -> ApiKeyCreated:
    workspace = str(body.workspace_id) if body.workspace_id else None
    return await ctx.store.write(
        credentials.create_api_key, body.name, workspace, body.expires_at, ctx.now()
    )


async def list_api_keys(ctx: Context) -> ApiKeyReadList:
    return ApiKeyReadList(api_keys=await ctx.store.read(credentials.list_api_keys))


async def revoke_api_key(body: ApiKeyIdRequestBody, ctx: Context) -> ApiKeyRead:
    """Revoked at once: the next request with the key is a 401."""
    return await ctx.store.write(credentials.revoke_api_key, str(body.api_key_id), ctx.now())


handlers = [create_api_key, list_api_keys, revoke_api_key]
