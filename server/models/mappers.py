"""Mapper validation (`web_backend/mappers/validate`), in Airbyte's names: given a stream of a
connection and a draft list of mappers, the stream's fields, what each mapper takes and gives,
and each mapper's problem. A mapper's problem is a result (`validationError`), not an error."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from server.models.base import Model
from server.models.connections import ConfiguredStreamMapper, StreamMapperType
from server.models.jobs import StreamDescriptor

FieldType = Literal[
    "STRING",
    "BOOLEAN",
    "DATE",
    "TIMESTAMP_WITHOUT_TIMEZONE",
    "TIMESTAMP_WITH_TIMEZONE",
    "TIME_WITHOUT_TIMEZONE",
    "TIME_WITH_TIMEZONE",
    "INTEGER",
    "NUMBER",
    "ARRAY",
    "OBJECT",
    "MULTI",
    "UNKNOWN",
]
MapperValidationErrorType = Literal[
    "MISSING_MAPPER", "INVALID_MAPPER_CONFIG", "FIELD_NOT_FOUND", "FIELD_ALREADY_EXISTS"
]


class WebBackendValidateMappersRequestBody(Model):
    """The stream's JSON schema, cursor and primary key are the connection's; `mappers` replace
    the stream's own for this check (nothing is saved)."""

    connection_id: UUID
    stream_descriptor: StreamDescriptor
    mappers: list[ConfiguredStreamMapper]


class FieldSpec(Model):
    """A top-level field; `isSelectedCursor`/`isSelectedPrimaryKey` say whether the stream's
    cursor or primary key is (or starts with) it."""

    name: str
    type: FieldType
    is_selected_primary_key: bool
    is_selected_cursor: bool


class MapperValidationError(Model):
    type: MapperValidationErrorType
    message: str


class MapperValidationResult(Model):
    """One mapper: the fields it takes and gives (a mapper in error gives what it took)."""

    type: StreamMapperType
    mapper_configuration: dict[str, Any]
    input_fields: list[FieldSpec]
    output_fields: list[FieldSpec]
    id: UUID | None = None
    validation_error: MapperValidationError | None = None


class WebBackendValidateMappersResponse(Model):
    initial_fields: list[FieldSpec]
    mappers: list[MapperValidationResult]
    output_fields: list[FieldSpec]
