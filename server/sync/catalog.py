"""The catalogs one attempt hands its connectors, and the connection's namespace rules.

The source reads the connection's selected streams as the source names them; the destination
writes them under the names the connection's `namespaceDefinition`, `namespaceFormat` and
`prefix` give, as Airbyte's NamespacingMapper does.
"""

from __future__ import annotations

from typing import Any

import msgspec

from server.models.connections import AirbyteCatalog
from server.protocol import ConfiguredAirbyteCatalog, ConfiguredAirbyteStream, StreamDescriptor
from server.protocol_catalogs import configured_catalog

StreamKey = tuple[str, str | None]  # (name, namespace)
SOURCE_NAMESPACE = "${SOURCE_NAMESPACE}"


class Namespacing:
    """Where a source stream lands: `map(name, namespace)` gives the destination's names."""

    def __init__(self, connection: dict[str, Any]) -> None:
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


def _wanted(streams: list[StreamDescriptor] | None) -> set[StreamKey] | None:
    if streams is None:
        return None
    return {(s.name, s.namespace) for s in streams}


def _matches(wanted: set[StreamKey], name: str, namespace: str | None) -> bool:
    # A descriptor without a namespace names the stream in any namespace.
    return (name, namespace) in wanted or (name, None) in wanted


def source_catalog(
    sync_catalog: dict[str, Any],
    streams: list[StreamDescriptor] | None,
    sync_id: int,
    reset: bool = False,
) -> ConfiguredAirbyteCatalog:
    """The protocol catalog for the source: the selected streams, or the ones `streams`
    names. A reset takes them in full_refresh/overwrite (streams it names explicitly even if
    they are no longer selected: their data is still there)."""
    api = msgspec.convert(sync_catalog, AirbyteCatalog)
    if reset:
        items = []
        for item in api.streams:
            if item.config is not None:
                config = msgspec.structs.replace(
                    item.config,
                    sync_mode="full_refresh",
                    destination_sync_mode="overwrite",
                    selected=bool(item.config.selected is not False or streams is not None),
                )
                items.append(msgspec.structs.replace(item, config=config))
        api = AirbyteCatalog(streams=items)
    catalog = configured_catalog(api)
    wanted = _wanted(streams)
    result = []
    for configured in catalog.streams:
        if wanted is not None and not _matches(
            wanted, configured.stream.name, configured.stream.namespace
        ):
            continue
        # Airbyte's generations: an overwrite truncates what earlier generations wrote.
        overwrite = configured.destination_sync_mode == "overwrite"
        result.append(
            msgspec.structs.replace(
                configured,
                generation_id=configured.generation_id or 0,
                minimum_generation_id=(configured.generation_id or 0) if overwrite else 0,
                sync_id=sync_id,
            )
        )
    return ConfiguredAirbyteCatalog(streams=result)


def destination_catalog(
    catalog: ConfiguredAirbyteCatalog, namespacing: Namespacing
) -> ConfiguredAirbyteCatalog:
    """The same streams under the names the destination writes."""
    streams: list[ConfiguredAirbyteStream] = []
    for configured in catalog.streams:
        name, namespace = namespacing.map(configured.stream.name, configured.stream.namespace)
        stream = msgspec.structs.replace(configured.stream, name=name, namespace=namespace)
        streams.append(msgspec.structs.replace(configured, stream=stream))
    return ConfiguredAirbyteCatalog(streams=streams)
