"""Web backend models (tag: web_backend): connections with their ends embedded, as Airbyte's
web app (and older tools built on its API) read them."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from server.models.base import Model, PageSize, RowOffset
from server.models.connections import (
    AirbyteCatalog,
    ConnectionSchedule,
    ConnectionScheduleData,
    ConnectionScheduleType,
    ConnectionStatus,
    NamespaceDefinitionType,
    NonBreakingChangesPreference,
    SourceSchema,
    SyncMode,
)
from server.models.definitions import ResourceRequirements
from server.models.destinations import DestinationRead
from server.models.discover import CatalogDiff
from server.models.operations import OperationRead
from server.models.sources import SourceRead

JobStatus = Literal["pending", "running", "incomplete", "failed", "succeeded", "cancelled"]
SchemaChange = Literal["no_change", "non_breaking", "breaking"]


class WebBackendConnectionRequestBody(Model):
    connection_id: UUID
    with_refreshed_catalog: bool | None = None


class WebBackendConnectionListRequestBody(Model):
    workspace_id: UUID
    page_size: PageSize | None = None
    row_offset: RowOffset = 0


class WebBackendConnectionRead(Model):
    connection_id: UUID
    name: str
    source_id: UUID
    destination_id: UUID
    workspace_id: UUID
    status: ConnectionStatus
    sync_catalog: AirbyteCatalog
    sync_schema: SourceSchema
    schedule_type: ConnectionScheduleType
    namespace_definition: NamespaceDefinitionType
    operation_ids: list[UUID]
    source: SourceRead
    destination: DestinationRead
    operations: list[OperationRead]
    is_syncing: bool
    schema_change: SchemaChange
    # Always sent, as in ConnectionRead; `syncMode` is required by the early web backend API.
    schedule: ConnectionSchedule | None
    sync_mode: SyncMode
    # Required by Airbyte's current WebBackendConnectionRead; Sluice has no tags and no
    # on-demand capacity, and notifies nobody by email.
    tags: list[dict[str, str]]
    on_demand_enabled: bool
    notify_schema_changes_by_email: bool
    non_breaking_changes_preference: NonBreakingChangesPreference
    notify_schema_changes: bool
    namespace_format: str | None = None
    prefix: str | None = None
    schedule_data: ConnectionScheduleData | None = None
    resource_requirements: ResourceRequirements | None = None
    catalog_id: UUID | None = None
    geography: str | None = None
    latest_sync_job_created_at: int | None = None
    latest_sync_job_status: JobStatus | None = None
    last_sync: int | None = None
    # Why the connection is inactive, when a schema change stopped it.
    status_reason: str | None = None
    # With `withRefreshedCatalog`: the connection's catalog against the discovered one.
    catalog_diff: CatalogDiff | None = None


class WebBackendConnectionReadList(Model):
    connections: list[WebBackendConnectionRead]
