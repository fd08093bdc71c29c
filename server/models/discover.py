"""Schema discovery (tags: source, scheduler), and the catalog diff in Airbyte's `CatalogDiff`
shape: what changed between a connection's catalog and the one its source discovers now."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import msgspec

from server.models.base import Model
from server.models.connections import AirbyteCatalog, ConnectionStatus, SourceSchema
from server.models.jobs import StreamDescriptor
from server.models.synchronous_jobs import SynchronousJobRead

SchemaChange = Literal["no_change", "non_breaking", "breaking"]
StreamTransformType = Literal["add_stream", "remove_stream", "update_stream"]
FieldTransformType = Literal["add_field", "remove_field", "update_field_schema"]


class FieldAdd(Model):
    schema: dict[str, Any] | None = None


class FieldRemove(Model):
    schema: dict[str, Any] | None = None


class FieldSchemaUpdate(Model):
    old_schema: dict[str, Any]
    new_schema: dict[str, Any]


class FieldTransform(Model):
    """A field added, removed or changed in type. `fieldName` is the path to the field
    (`["address", "city"]`); `breaking` is true when the change stops the connection."""

    transform_type: FieldTransformType
    field_name: list[str]
    breaking: bool
    add_field: FieldAdd | None = None
    remove_field: FieldRemove | None = None
    update_field_schema: FieldSchemaUpdate | None = None


class StreamAttributePrimaryKeyUpdate(Model):
    old_primary_key: list[list[str]] | None = None
    new_primary_key: list[list[str]] | None = None


class StreamAttributeTransform(Model):
    transform_type: Literal["update_primary_key"]
    breaking: bool
    update_primary_key: StreamAttributePrimaryKeyUpdate | None = None


class StreamTransformUpdateStream(Model):
    field_transforms: list[FieldTransform]
    stream_attribute_transforms: list[StreamAttributeTransform]


class StreamTransform(Model):
    transform_type: StreamTransformType
    stream_descriptor: StreamDescriptor
    update_stream: StreamTransformUpdateStream | None = None


class CatalogDiff(Model):
    """Describes the difference between two Airbyte catalogs."""

    transforms: list[StreamTransform]


class SourceDiscoverSchemaRequestBody(Model):
    source_id: UUID
    connection_id: UUID | None = None
    # Spelled in snake_case on the wire in Airbyte's API.
    disable_cache: bool | None = msgspec.field(default=None, name="disable_cache")
    notify_schema_change: bool | None = None
    priority: str | None = None


class SourceDiscoverSchemaRead(Model):
    """`catalog` (modern) and `schema` (2020) are present when the discover succeeded;
    `jobInfo.succeeded` says whether it did. With a `connectionId` in the request, `catalogDiff`
    compares the connection's catalog with the discovered one, `breakingChange` says whether
    that diff stops the connection and `connectionStatus` is the connection's status after."""

    job_info: SynchronousJobRead
    catalog: AirbyteCatalog | None = None
    catalog_id: UUID | None = None
    schema: SourceSchema | None = None
    catalog_diff: CatalogDiff | None = None
    breaking_change: bool | None = None
    connection_status: ConnectionStatus | None = None
