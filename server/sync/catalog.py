"""The catalogs one attempt hands its connectors, and what the destination gets of a stream.

The source reads the connection's selected streams as the source names them; the destination
writes them under the names the connection's `namespaceDefinition`, `namespaceFormat` and
`prefix` give, as Airbyte's NamespacingMapper does, and, for a stream with mappers (field
selection, hashing, renaming...), with the mapped JSON schema, cursor and primary key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from server.mappers import StreamMapper
from server.protocol import ConfiguredAirbyteCatalog, ConfiguredAirbyteStream

StreamKey = tuple[str, str | None]  # (name, namespace)
SOURCE_NAMESPACE = "${SOURCE_NAMESPACE}"


class Namespacing:
    """Where a source stream lands: `map(name, namespace)` gives the destination's names;
    `mappers` the compiled mappers of the streams that have some (by source names)."""

    def __init__(
        self,
        connection: Mapping[str, Any],
        mappers: Mapping[StreamKey, StreamMapper] | None = None,
    ) -> None:
        """`connection`: the rules in the API's names (`namespaceDefinition`,
        `namespaceFormat`, `prefix`); absent ones take Airbyte's defaults."""
        self.mappers: dict[StreamKey, StreamMapper] = dict(mappers or {})
        self.definition = connection.get("namespaceDefinition") or "source"
        self.format = connection.get("namespaceFormat")
        self.prefix = connection.get("prefix") or ""
        self._cache: dict[StreamKey, StreamKey] = {}

    @property
    def may_rename(self) -> bool:
        return bool(self.prefix.strip()) or self.definition != "source"

    def namespace(self, namespace: str | None) -> str | None:
        if self.definition == "destination":
            return None  # the destination's configured default
        if self.definition == "customformat":
            fmt = self.format or ""
            result = fmt.replace(SOURCE_NAMESPACE, namespace or "") if fmt.strip() else ""
            return result if result.strip() else None
        return namespace

    def map(self, name: str, namespace: str | None) -> StreamKey:
        key = (name, namespace)
        mapped = self._cache.get(key)
        if mapped is None:
            prefix = self.prefix if self.prefix.strip() else ""
            mapped = self._cache[key] = (prefix + name, self.namespace(namespace))
        return mapped


def destination_catalog(
    catalog: ConfiguredAirbyteCatalog, namespacing: Namespacing
) -> ConfiguredAirbyteCatalog:
    """The same streams under the names the destination writes, mapped streams with their
    mapped schema, cursor and key (the source's state and cursor stay the source's: the
    relay passes states through untouched)."""
    streams: list[ConfiguredAirbyteStream] = []
    for configured in catalog.streams:
        key = (configured.stream.name, configured.stream.namespace)
        name, namespace = namespacing.map(*key)
        stream = msgspec.structs.replace(configured.stream, name=name, namespace=namespace)
        mapper = namespacing.mappers.get(key)
        if mapper is None:
            streams.append(msgspec.structs.replace(configured, stream=stream))
            continue
        # A cursor or key the mappers were not asked to keep (a full refresh's cursor, an
        # append's key) goes on if its field is still there.
        fields = mapper.json_schema.get("properties") or {}
        source = configured.stream
        stream = msgspec.structs.replace(
            stream,
            json_schema=mapper.json_schema,
            default_cursor_field=mapper.cursor_field
            or _kept_path(source.default_cursor_field, fields),
            source_defined_primary_key=mapper.primary_key
            or _kept_keys(source.source_defined_primary_key, fields),
        )
        mapped = msgspec.structs.replace(
            configured,
            stream=stream,
            cursor_field=mapper.cursor_field or _kept_path(configured.cursor_field, fields),
            primary_key=mapper.primary_key or _kept_keys(configured.primary_key, fields),
        )
        streams.append(mapped)
    return ConfiguredAirbyteCatalog(streams=streams)


def _kept_path(path: list[str] | None, fields: Mapping[str, Any]) -> list[str] | None:
    return path if path and path[0] in fields else None


def _kept_keys(keys: list[list[str]] | None, fields: Mapping[str, Any]) -> list[list[str]] | None:
    return keys if keys and all(key and key[0] in fields for key in keys) else None
