"""Connections in the public API (tag: connections), in Airbyte's public names.

A stream's `syncMode` is one public name for the config API's pair of modes (see
server.public.sync_modes); a schedule is `{scheduleType, cronExpression, basicTiming}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from server.models.base import Model
from server.models.connections import ConfiguredStreamMapper
from server.models.public.common import ListQuery, PageLinks

PublicSyncMode = Literal[
    "full_refresh_overwrite",
    "full_refresh_overwrite_deduped",
    "full_refresh_append",
    "full_refresh_update",
    "full_refresh_soft_delete",
    "incremental_append",
    "incremental_deduped_history",
    "incremental_update",
    "incremental_soft_delete",
]
# `locked` is Airbyte's too, but clients on airbyte-api 0.53 cannot read it: never sent.
PublicConnectionStatus = Literal["active", "inactive", "deprecated"]
ScheduleType = Literal["manual", "cron", "basic"]
NamespaceDefinition = Literal["source", "destination", "custom_format"]
NonBreakingSchemaUpdatesBehavior = Literal[
    "ignore", "disable_connection", "propagate_columns", "propagate_fully"
]
ConnectionName = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
StreamName = Annotated[str, msgspec.Meta(min_length=1)]


class SelectedFieldInfo(Model):
    field_path: list[str]


class StreamConfiguration(Model):
    """One stream of a connection. `selectedFields` and `mappers` are the config API's (checked
    by the same rules; an AES key is masked in replies, and a PATCH that sends the mask back
    keeps it). `includeFiles` and `destinationObjectName` are Airbyte's; Sluice has neither
    yet and refuses a request that sets them."""

    name: StreamName
    namespace: str | None = None
    sync_mode: PublicSyncMode | None = None
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None
    selected_fields: list[SelectedFieldInfo] | None = None
    mappers: list[ConfiguredStreamMapper] | None = None
    include_files: bool | None = None
    destination_object_name: str | None = None


class StreamConfigurations(Model):
    streams: list[StreamConfiguration] | None = None


class StreamConfigurationsResponse(Model):
    streams: list[StreamConfiguration]


class AirbyteApiConnectionSchedule(Model):
    """`cron` takes `cronExpression` (Quartz, as the config API; a trailing zone name such as
    `UTC` is the zone); `basic` takes `basicTiming`, e.g. `Every 24 hours`."""

    schedule_type: ScheduleType
    cron_expression: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    basic_timing: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class ConnectionScheduleResponse(Model):
    schedule_type: ScheduleType
    cron_expression: str | None = None
    basic_timing: str | None = None


class _ConnectionSettings(Model):
    # What a connection's create and PATCH both take; each names its own component.
    name: ConnectionName | None = None
    configurations: StreamConfigurations | None = None
    schedule: AirbyteApiConnectionSchedule | None = None
    namespace_definition: NamespaceDefinition | None = None
    namespace_format: str | None = None
    prefix: str | None = None
    non_breaking_schema_updates_behavior: NonBreakingSchemaUpdatesBehavior | None = None
    status: PublicConnectionStatus | None = None
    tags: list[dict[str, Any]] | None = None
    data_residency: str | None = None


# kw_only is per class in msgspec: required fields may follow the inherited optional ones.
class ConnectionCreateRequest(_ConnectionSettings, kw_only=True):
    """Without `configurations.streams`, every stream the source discovers is synced in a
    default mode it supports; with them, exactly those streams."""

    source_id: UUID
    destination_id: UUID


class ConnectionPatchRequest(_ConnectionSettings):
    """Only the fields sent change; `configurations.streams`, when sent, replaces the streams."""


class ConnectionResponse(Model):
    """The selected streams only; `tags` is always `[]` (Sluice has no tags)."""

    connection_id: UUID
    name: str
    source_id: UUID
    destination_id: UUID
    workspace_id: UUID
    status: PublicConnectionStatus
    schedule: ConnectionScheduleResponse
    configurations: StreamConfigurationsResponse
    created_at: int
    tags: list[dict[str, Any]]
    data_residency: str
    namespace_definition: NamespaceDefinition | None = None
    namespace_format: str | None = None
    prefix: str | None = None
    non_breaking_schema_updates_behavior: NonBreakingSchemaUpdatesBehavior | None = None


class ConnectionsResponse(PageLinks):
    data: list[ConnectionResponse]


class ListConnectionsQuery(ListQuery):
    """`tagIds` filters by tags; no Sluice connection has any, so naming one finds none."""

    tag_ids: list[UUID] = msgspec.field(default_factory=list)
