"""What the public API's lists share: paging parameters and the page envelope's links."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from server.models.base import Model

# Airbyte's bounds: at most 100 a page, 20 by default.
Limit = Annotated[int, msgspec.Meta(ge=1, le=100)]
Offset = Annotated[int, msgspec.Meta(ge=0, le=2**62)]


class ListQuery(Model):
    """`workspaceIds` (repeated or comma-separated), `includeDeleted`, `limit`, `offset`."""

    workspace_ids: list[UUID] = msgspec.field(default_factory=list)
    include_deleted: bool = False
    limit: Limit = 20
    offset: Offset = 0


class PageLinks(Model):
    """`next` and `previous`: the neighbouring pages' URLs, `""` where there is none."""

    next: str
    previous: str
