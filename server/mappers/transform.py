"""The relay's per-stream record function, compiled once per attempt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# One entry of a record's `meta.changes` (Airbyte's AirbyteRecordMessageMetaChange):
# {"field": ..., "change": "NULLED", "reason": "PLATFORM_SERIALIZATION_ERROR"}.
Change = dict[str, str]


class StreamMapper:
    """A stream's compiled mappers.

    `json_schema`, `cursor_field`, `primary_key`: what the destination's configured catalog
    gets. `apply(data)` maps one record's data in place and returns it (None: filtered out)
    and the changes to add to the record's `meta.changes`."""

    def __init__(
        self,
        json_schema: dict[str, Any],
        cursor_field: list[str],
        primary_key: list[list[str]],
        apply: Callable[[dict[str, Any]], tuple[dict[str, Any] | None, list[Change]]],
    ) -> None:
        self.json_schema = json_schema
        self.cursor_field = cursor_field
        self.primary_key = primary_key
        self.apply = apply


def compile_stream(
    json_schema: dict[str, Any],
    config: dict[str, Any],
    cursor_field: list[str] | None,
    primary_key: list[list[str]] | None,
) -> StreamMapper | None:
    """The stream's record function, or None when it has no selection and no mapper.
    Raises MapperConfigError when `validate_stream` reports problems."""
    raise NotImplementedError
