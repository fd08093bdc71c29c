"""The public API's token operation (tag: applications), `POST /applications/token`.

Its body is JSON (with `grant-type`, `grant_type` or no grant type: dagster and PyAirbyte send
none) or form-encoded (the airbyte-api SDK, Airflow and Terraform; server.auth.forms turns that
into JSON first). The reply has `token_type` and `expires_in`, which the SDK requires. Also
answered outside `/api` at `/v1/applications/token` and `/applications/token` (ROOT_ALIASES),
where the SDK's and Terraform's default token URLs resolve.
"""

from __future__ import annotations

from server.auth import grants
from server.context import Context
from server.models.applications import ApplicationTokenRequestWithGrant, PublicAccessTokenResponse

# Root paths answered by the token operation (see the module docstring).
ROOT_ALIASES = {
    "/v1/applications/token": "createAccessToken",
    "/applications/token": "createAccessToken",
}


async def create_access_token(
    body: ApplicationTokenRequestWithGrant, ctx: Context
) -> PublicAccessTokenResponse:
    token = await grants.issue(ctx, body.client_id, body.client_secret)
    return PublicAccessTokenResponse(
        access_token=token, token_type="Bearer", expires_in=ctx.settings.token_expires_seconds
    )


handlers = [create_access_token]
