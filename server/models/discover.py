"""Schema discovery (tags: source, scheduler)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from server.models.base import Model
from server.models.connections import AirbyteCatalog, SourceSchema
from server.models.synchronous_jobs import SynchronousJobRead


class SourceDiscoverSchemaRequestBody(Model):
    source_id: UUID
    connection_id: UUID | None = None
    # Spelled in snake_case on the wire in Airbyte's API.
    disable_cache: bool | None = msgspec.field(default=None, name="disable_cache")
    notify_schema_change: bool | None = None
    priority: str | None = None


class SourceDiscoverSchemaRead(Model):
    """`catalog` (modern) and `schema` (2020) are present when the discover succeeded;
    `jobInfo.succeeded` says whether it did."""

    job_info: SynchronousJobRead
    catalog: AirbyteCatalog | None = None
    catalog_id: UUID | None = None
    schema: SourceSchema | None = None
    breaking_change: bool | None = None
