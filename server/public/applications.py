"""Applications (tag: applications): list, create, get and delete (the admin's), over
server.auth.credentials as the configuration API's `applications/*`; and the token operation,
`POST /applications/token`.

An application's secret is shown once, in the reply to its creation; every other reply carries
the mask. Deleting one answers 200 with it, as Airbyte's public API does, and its tokens stop
working at once.

The token body is JSON (with `grant-type`, `grant_type` or no grant type: dagster and PyAirbyte
send none) or form-encoded (the airbyte-api SDK, Airflow and Terraform; server.auth.forms turns
that into JSON first). The reply has `token_type` and `expires_in`, which the SDK requires. Also
answered outside `/api` at `/v1/applications/token` and `/applications/token` (ROOT_ALIASES),
where the SDK's and Terraform's default token URLs resolve.
"""

from __future__ import annotations

from sqlite_utils import Database
from starlette.exceptions import HTTPException

from server.auth import credentials, grants
from server.context import Context
from server.core.errors import NotFound
from server.models.public.applications import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationReadList,
    ApplicationTokenRequestWithGrant,
    PublicAccessTokenResponse,
)

# Root paths answered by the token operation (see the module docstring).
ROOT_ALIASES = {
    "/v1/applications/token": "createAccessToken",
    "/applications/token": "createAccessToken",
}


def _find(db: Database, application_id: str) -> ApplicationRead:
    # Applications are few and credentials looks them up by client id only: a short scan.
    for application in credentials.list_applications(db):
        if application.id == application_id:
            return application
    raise NotFound(f"Could not find application with id: {application_id}", id=application_id)


def _take(db: Database, application_id: str) -> ApplicationRead:
    """Delete the application and return it as it was, in one transaction."""
    found = _find(db, application_id)
    credentials.delete_application(db, application_id)
    return found


async def list_applications(ctx: Context) -> ApplicationReadList:
    return ApplicationReadList(applications=await ctx.store.read(credentials.list_applications))


async def create_application(body: ApplicationCreate, ctx: Context) -> ApplicationRead:
    workspace = str(body.workspace_id) if body.workspace_id else None
    return await ctx.store.write(credentials.create_application, body.name, workspace, ctx.now())


def _not_the_token_path(application_id: str) -> None:
    # `/applications/token` has the shape of `/applications/{applicationId}`, whose route then
    # takes its other methods: they are the token path's 405, not a lookup of "token".
    if application_id == "token":
        raise HTTPException(405, headers={"Allow": "POST"})


async def get_application(application_id: str, ctx: Context) -> ApplicationRead:
    _not_the_token_path(application_id)
    return await ctx.store.read(_find, application_id)


async def delete_application(application_id: str, ctx: Context) -> ApplicationRead:
    _not_the_token_path(application_id)
    return await ctx.store.write(_take, application_id)


async def create_access_token(
    body: ApplicationTokenRequestWithGrant, ctx: Context
) -> PublicAccessTokenResponse:
    return await grants.grant(ctx, body.client_id, body.client_secret, PublicAccessTokenResponse)


handlers = [
    list_applications,
    create_application,
    get_application,
    delete_application,
    create_access_token,
]
