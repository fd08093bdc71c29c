"""Connection models (tag: connection), in both the 2020 and the modern shape.

The modern shape (`syncCatalog`, `scheduleType`/`scheduleData`) is what is stored; the 2020
shape (`syncSchema` with per-field selection, connection-level `syncMode`, `schedule`) is
accepted on input and derived again on output, so old and new clients both read what they
expect.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.models.base import Model, PageSize, RowOffset
from server.models.definitions import ResourceRequirements

SyncMode = Literal["full_refresh", "incremental"]
DestinationSyncMode = Literal[
    "append", "overwrite", "append_dedup", "overwrite_dedup", "update", "soft_delete"
]
ConnectionStatus = Literal["active", "inactive", "deprecated", "locked"]
NamespaceDefinitionType = Literal["source", "destination", "customformat"]
ConnectionScheduleType = Literal["manual", "basic", "cron"]
TimeUnit = Literal["minutes", "hours", "days", "weeks", "months"]
DataType = Literal["string", "number", "boolean", "object", "array"]
NonBreakingChangesPreference = Literal["ignore", "disable", "propagate_columns", "propagate_fully"]
BackfillPreference = Literal["enabled", "disabled"]
Units = Annotated[int, Meta(gt=0, le=1_000_000)]
ConnectionName = Annotated[str, Meta(min_length=1, max_length=512)]


# ---- Modern catalog -------------------------------------------------------------------------


class AirbyteStream(Model):
    """The part of a stream the source defines. Airbyte's own spec lists `json_schema` (snake
    case) as required while naming the property `jsonSchema`; both spellings are accepted."""

    name: Annotated[str, Meta(min_length=1)]
    json_schema: dict[str, Any] | None = None
    json_schema_snake: dict[str, Any] | None = msgspec.field(default=None, name="json_schema")
    supported_sync_modes: list[SyncMode] | None = None
    source_defined_cursor: bool | None = None
    default_cursor_field: list[str] | None = None
    source_defined_primary_key: list[list[str]] | None = None
    namespace: str | None = None
    is_resumable: bool | None = None


class SelectedFieldInfo(Model):
    field_path: list[str]


# Airbyte's StreamMapperType, then Sluice's additions (server.mappers documents them all).
StreamMapperType = Literal[
    "hashing",
    "field-renaming",
    "row-filtering",
    "encryption",
    "field-filtering",
    "value-transform",
    "field-name-transform",
]


class ConfiguredStreamMapper(Model):
    """One mapper of a stream, applied in the list's order. `mapperConfiguration` is checked by
    server.mappers when the connection is saved (a 422 names the stream and the mapper); an
    AES `key` in it is a secret: sealed at rest, masked in replies. The server gives every
    mapper an `id`."""

    type: StreamMapperType
    mapper_configuration: dict[str, Any]
    id: UUID | None = None


class AirbyteStreamConfiguration(Model):
    """The part of a stream the user configures. `selectedFields` (with
    `fieldSelectionEnabled`), the deprecated `hashedFields` (each a SHA-256 hashing mapper)
    and `mappers` change what the destination gets, in that order."""

    sync_mode: SyncMode
    destination_sync_mode: DestinationSyncMode
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None
    alias_name: str | None = None
    selected: bool | None = None
    suggested: bool | None = None
    field_selection_enabled: bool | None = None
    selected_fields: list[SelectedFieldInfo] | None = None
    hashed_fields: list[SelectedFieldInfo] | None = None
    mappers: list[ConfiguredStreamMapper] | None = None


class AirbyteStreamAndConfiguration(Model):
    stream: AirbyteStream
    config: AirbyteStreamConfiguration | None = None


class AirbyteCatalog(Model):
    streams: list[AirbyteStreamAndConfiguration]


# ---- 2020 catalog ---------------------------------------------------------------------------


class SourceSchemaField(Model):
    name: str
    data_type: DataType
    cleaned_name: str | None = None
    selected: bool | None = None


class SourceSchemaStream(Model):
    name: Annotated[str, Meta(min_length=1)]
    fields: list[SourceSchemaField]
    cleaned_name: str | None = None
    supported_sync_modes: list[SyncMode] | None = None
    source_defined_cursor: bool | None = None
    default_cursor_field: list[str] | None = None
    cursor_field: list[str] | None = None
    sync_mode: SyncMode | None = None
    # The 2020 stream-level switch: false leaves the whole stream out, whatever its fields say.
    selected: bool | None = None


class SourceSchema(Model):
    streams: list[SourceSchemaStream]


# ---- Schedules ------------------------------------------------------------------------------


class ConnectionSchedule(Model):
    """The 2020 schedule, still accepted: every `units` `timeUnit`. Null means manual."""

    units: Units
    time_unit: TimeUnit


class BasicSchedule(Model):
    time_unit: TimeUnit
    units: Units


class CronSchedule(Model):
    cron_expression: Annotated[str, Meta(min_length=1, max_length=256)]
    cron_time_zone: Annotated[str, Meta(min_length=1, max_length=64)]


class ConnectionScheduleData(Model):
    basic_schedule: BasicSchedule | None = None
    cron: CronSchedule | None = None


# ---- Requests and replies -------------------------------------------------------------------


class ConnectionCreate(Model):
    source_id: UUID
    destination_id: UUID
    status: ConnectionStatus = "active"
    name: ConnectionName | None = None
    namespace_definition: NamespaceDefinitionType | None = None
    namespace_format: str | None = None
    prefix: str | None = None
    operation_ids: list[UUID] | None = None
    sync_catalog: AirbyteCatalog | None = None
    sync_schema: SourceSchema | None = None
    sync_mode: SyncMode | None = None
    schedule: ConnectionSchedule | None = None
    schedule_type: ConnectionScheduleType | None = None
    schedule_data: ConnectionScheduleData | None = None
    resource_requirements: ResourceRequirements | None = None
    source_catalog_id: UUID | None = None
    destination_catalog_id: UUID | None = None
    geography: str | None = None
    non_breaking_changes_preference: NonBreakingChangesPreference | None = None
    notify_schema_changes: bool | None = None
    backfill_preference: BackfillPreference | None = None


class ConnectionUpdate(Model):
    """Only the fields sent change. `schedule`, `scheduleType` and `scheduleData` tell "left
    out" (keep) from an explicit null (clear: a 2020 client sends `schedule: null` for manual)."""

    connection_id: UUID
    status: ConnectionStatus | None = None
    name: ConnectionName | None = None
    namespace_definition: NamespaceDefinitionType | None = None
    namespace_format: str | None = None
    prefix: str | None = None
    operation_ids: list[UUID] | None = None
    sync_catalog: AirbyteCatalog | None = None
    sync_schema: SourceSchema | None = None
    sync_mode: SyncMode | None = None
    schedule: ConnectionSchedule | UnsetType | None = UNSET
    schedule_type: ConnectionScheduleType | UnsetType | None = UNSET
    schedule_data: ConnectionScheduleData | UnsetType | None = UNSET
    resource_requirements: ResourceRequirements | None = None
    source_catalog_id: UUID | None = None
    destination_catalog_id: UUID | None = None
    geography: str | None = None
    non_breaking_changes_preference: NonBreakingChangesPreference | None = None
    notify_schema_changes: bool | None = None
    backfill_preference: BackfillPreference | None = None
    breaking_change: bool | None = None


class ConnectionRead(Model):
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
    breaking_change: bool
    # The 2020 schedule, null for a manual (or cron) connection: always sent, since 2020
    # clients read `conn["schedule"]` unguarded.
    schedule: ConnectionSchedule | None
    # The 2020 connection-level mode, required by the 2020 API: the mode every selected stream
    # shares, else full_refresh (the 2020 API had no way to say "mixed").
    sync_mode: SyncMode
    # Airbyte spells this one in snake case.
    created_at: int = msgspec.field(name="created_at")
    namespace_format: str | None = None
    prefix: str | None = None
    schedule_data: ConnectionScheduleData | None = None
    resource_requirements: ResourceRequirements | None = None
    source_catalog_id: UUID | None = None
    destination_catalog_id: UUID | None = None
    geography: str | None = None
    non_breaking_changes_preference: NonBreakingChangesPreference | None = None
    notify_schema_changes: bool | None = None
    backfill_preference: BackfillPreference | None = None
    # Why Sluice set the connection inactive (a breaking schema change, its
    # nonBreakingChangesPreference `disable`, or jobs that kept failing); cleared when its
    # status is changed by hand (server.core.connections.stop and apply_update).
    status_reason: str | None = None


class ConnectionIdRequestBody(Model):
    connection_id: UUID


class ConnectionListRequestBody(Model):
    """`connections/list`: `{workspaceId}`; `pageSize`/`rowOffset` page a large workspace."""

    workspace_id: UUID
    page_size: PageSize | None = None
    row_offset: RowOffset = 0


class ConnectionReadList(Model):
    connections: list[ConnectionRead]
