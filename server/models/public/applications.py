"""Applications in the public API (tag: applications).

Airbyte's public API uses the configuration API's shapes here (`ApplicationCreate {name}`,
`ApplicationRead {id, name, clientId, clientSecret, createdAt}`, `ApplicationReadList
{applications}`), so the public face takes and sends the same models as `/api/v1/applications/*`,
Sluice's optional `workspaceId` (an application scoped to one workspace) included.
"""

from __future__ import annotations

from server.models.applications import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationReadList,
    ApplicationTokenRequestWithGrant,
    PublicAccessTokenResponse,
)

__all__ = [
    "ApplicationCreate",
    "ApplicationRead",
    "ApplicationReadList",
    "ApplicationTokenRequestWithGrant",
    "PublicAccessTokenResponse",
]
