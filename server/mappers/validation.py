"""What a stream's fields become through its mappers, and what is wrong with them."""

from __future__ import annotations

from typing import Any

import msgspec


class FieldSpec(msgspec.Struct, rename="camel", kw_only=True):
    """Airbyte's FieldSpec: a top-level field and its FieldType (STRING, NUMBER, INTEGER,
    BOOLEAN, DATE, TIMESTAMP_WITH_TIMEZONE, TIMESTAMP_WITHOUT_TIMEZONE, TIME_WITH_TIMEZONE,
    TIME_WITHOUT_TIMEZONE, OBJECT, ARRAY, MULTI, UNKNOWN)."""

    name: str
    type: str


class MapperError(msgspec.Struct, rename="camel", kw_only=True):
    """Airbyte's MapperValidationError. `type`: FIELD_NOT_FOUND, FIELD_ALREADY_EXISTS,
    INVALID_MAPPER_CONFIG or MISSING_MAPPER (an unknown mapper type)."""

    type: str
    message: str


class MapperValidation(msgspec.Struct, rename="camel", kw_only=True):
    """Airbyte's MapperValidationResult: one mapper of `mappers`, the fields it gets and
    gives (a failed mapper gives what it got: it is skipped, as Airbyte does)."""

    id: str | None = None
    type: str
    mapper_configuration: dict[str, Any]
    input_fields: list[FieldSpec]
    output_fields: list[FieldSpec]
    validation_error: MapperError | None = None


class Problem(msgspec.Struct, kw_only=True):
    """One reason a configuration cannot be saved. `path` is where, in the stream's config:
    `selectedFields`, `hashedFields[0]`, `mappers[2]`, `mappers[2].mapperConfiguration.key`...;
    `mapper_id`/`mapper_type` name the mapper (None for the field selection)."""

    path: str
    mapper_id: str | None
    mapper_type: str | None
    type: str  # a MapperError type
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class StreamValidation(msgspec.Struct, kw_only=True):
    """The result of `validate_stream`.

    `initial_fields`: the stream's fields (after the field selection, which is not a mapper
    in Airbyte's reply); `mappers`: one result per entry of `hashedFields` then `mappers`;
    `output_fields`: what the destination gets; `json_schema`, `cursor_field`, `primary_key`:
    the mapped ones. `problems`: every reason not to save it (empty when it is fine)."""

    initial_fields: list[FieldSpec]
    mappers: list[MapperValidation]
    output_fields: list[FieldSpec]
    json_schema: dict[str, Any]
    cursor_field: list[str]
    primary_key: list[list[str]]
    problems: list[Problem]


def validate_stream(
    json_schema: dict[str, Any],
    config: dict[str, Any],
    cursor_field: list[str] | None,
    primary_key: list[list[str]] | None,
) -> StreamValidation:
    """Validate a stream's selection and mappers against its JSON schema (see the package's
    docstring for the configuration); never raises for bad input."""
    raise NotImplementedError
