"""The catalog diff: a connection's `syncCatalog` against the catalog its source discovers now,
in Airbyte's `CatalogDiff` shape, with the rules Airbyte's CatalogDiffHelpers follow.

- A stream in one catalog and not the other is `add_stream` / `remove_stream`. Neither is
  breaking (Airbyte's `containsBreakingChange` looks only at updated streams): a removed stream
  is dropped by `propagate_fully` and left alone otherwise.
- A stream in both is compared only when it is selected (Airbyte compares the streams of the
  configured catalog): its fields (every property path of its JSON schema, nested ones too;
  `items` names an array's element) added, removed or changed in schema, and its
  source-defined primary key.
- A removed field is breaking when it is the cursor of an incremental stream or part of the
  primary key of a deduplicated one; a changed source-defined primary key is breaking when the
  stream is deduplicated on another key. The cursor and key are the configured ones, else the
  source's defaults (what the sync would use).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server.core.catalogs import configured_catalog
from server.models.connections import AirbyteCatalog, AirbyteStream
from server.models.discover import (
    CatalogDiff,
    FieldAdd,
    FieldRemove,
    FieldSchemaUpdate,
    FieldTransform,
    SchemaChange,
    StreamAttributePrimaryKeyUpdate,
    StreamAttributeTransform,
    StreamTransform,
    StreamTransformUpdateStream,
)
from server.models.jobs import StreamDescriptor
from server.protocol import ConfiguredAirbyteStream

StreamKey = tuple[str, str | None]
_DEDUP = {"append_dedup", "overwrite_dedup"}


def _key(stream: AirbyteStream) -> StreamKey:
    return (stream.name, stream.namespace)


def _sort_key(key: StreamKey) -> tuple[str, str]:
    return (key[1] or "", key[0])


def field_schemas(json_schema: dict[str, Any] | None) -> dict[tuple[str, ...], Any]:
    """Every field of a stream's JSON schema by its path, each with its own schema. A path
    seen twice (the same name under `properties` and `items`) keeps neither schema, as
    Airbyte marks it duplicated, so a change to either still shows."""
    found: dict[tuple[str, ...], Any] = {}
    for path, schema in _walk(json_schema or {}, ()):
        found[path] = "duplicated" if path in found else schema
    return found


def _walk(schema: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, child in properties.items():
            yield (*path, str(name)), child
            yield from _walk(child, (*path, str(name)))
    items = schema.get("items")
    if isinstance(items, dict) and path:
        yield (*path, "items"), items
        yield from _walk(items, (*path, "items"))


def _removal_breaks(configured: ConfiguredAirbyteStream, field: list[str]) -> bool:
    if configured.sync_mode == "incremental" and list(configured.cursor_field or []) == field:
        return True
    keys = [list(k) for k in configured.primary_key or []]
    return configured.destination_sync_mode in _DEDUP and field in keys


def _key_change_breaks(configured: ConfiguredAirbyteStream, new_key: list[list[str]]) -> bool:
    if not new_key or configured.destination_sync_mode not in _DEDUP:
        return False
    old = {tuple(k) for k in configured.primary_key or []}
    return old != {tuple(k) for k in new_key}


def _fields(
    old: AirbyteStream, new: AirbyteStream, configured: ConfiguredAirbyteStream
) -> list[FieldTransform]:
    before = field_schemas(old.json_schema or old.json_schema_snake)
    after = field_schemas(new.json_schema or new.json_schema_snake)
    transforms = []
    for path in sorted(before.keys() | after.keys()):
        name = list(path)
        if path not in after:
            schema = before[path] if isinstance(before[path], dict) else None
            transforms.append(
                FieldTransform(
                    transform_type="remove_field",
                    field_name=name,
                    breaking=_removal_breaks(configured, name),
                    remove_field=FieldRemove(schema=schema),
                )
            )
        elif path not in before:
            schema = after[path] if isinstance(after[path], dict) else None
            transforms.append(
                FieldTransform(
                    transform_type="add_field",
                    field_name=name,
                    breaking=False,
                    add_field=FieldAdd(schema=schema),
                )
            )
        elif before[path] != after[path]:
            old_schema, new_schema = before[path], after[path]
            transforms.append(
                FieldTransform(
                    transform_type="update_field_schema",
                    field_name=name,
                    breaking=False,
                    update_field_schema=FieldSchemaUpdate(
                        old_schema=old_schema if isinstance(old_schema, dict) else {},
                        new_schema=new_schema if isinstance(new_schema, dict) else {},
                    ),
                )
            )
    return transforms


def _attributes(
    old: AirbyteStream, new: AirbyteStream, configured: ConfiguredAirbyteStream
) -> list[StreamAttributeTransform]:
    old_key = old.source_defined_primary_key or []
    new_key = new.source_defined_primary_key or []
    if old_key == new_key:
        return []
    return [
        StreamAttributeTransform(
            transform_type="update_primary_key",
            breaking=_key_change_breaks(configured, new_key),
            update_primary_key=StreamAttributePrimaryKeyUpdate(
                old_primary_key=old_key, new_primary_key=new_key
            ),
        )
    ]


def catalog_diff(current: AirbyteCatalog, discovered: AirbyteCatalog) -> CatalogDiff:
    """What changed from the connection's catalog `current` to the `discovered` one (both in
    the API's shape), streams in namespace and name order, fields in path order."""
    old = {_key(s.stream): s.stream for s in current.streams}
    new = {_key(s.stream): s.stream for s in discovered.streams}
    selected = {(c.stream.name, c.stream.namespace): c for c in configured_catalog(current).streams}
    transforms = []
    for key in sorted(old.keys() | new.keys(), key=_sort_key):
        descriptor = StreamDescriptor(name=key[0], namespace=key[1])
        if key not in new:
            transforms.append(
                StreamTransform(transform_type="remove_stream", stream_descriptor=descriptor)
            )
        elif key not in old:
            transforms.append(
                StreamTransform(transform_type="add_stream", stream_descriptor=descriptor)
            )
        elif key in selected:
            fields = _fields(old[key], new[key], selected[key])
            attributes = _attributes(old[key], new[key], selected[key])
            if fields or attributes:
                transforms.append(
                    StreamTransform(
                        transform_type="update_stream",
                        stream_descriptor=descriptor,
                        update_stream=StreamTransformUpdateStream(
                            field_transforms=fields, stream_attribute_transforms=attributes
                        ),
                    )
                )
    return CatalogDiff(transforms=transforms)


def is_breaking(diff: CatalogDiff) -> bool:
    """Whether a field or attribute change of an updated stream is breaking (as Airbyte's
    `containsBreakingChange`)."""
    for transform in diff.transforms:
        update = transform.update_stream
        if update is None:
            continue
        if any(f.breaking for f in update.field_transforms):
            return True
        if any(a.breaking for a in update.stream_attribute_transforms):
            return True
    return False


def schema_change(diff: CatalogDiff) -> SchemaChange:
    if not diff.transforms:
        return "no_change"
    return "breaking" if is_breaking(diff) else "non_breaking"


def _stream_name(descriptor: StreamDescriptor) -> str:
    prefix = f"{descriptor.namespace}." if descriptor.namespace else ""
    return f"'{prefix}{descriptor.name}'"


def describe(transform: StreamTransform) -> str:
    """One line a person reads: "Modified stream 'users': added fields ['email'], ..."."""
    name = _stream_name(transform.stream_descriptor)
    if transform.transform_type == "add_stream":
        return f"Added stream {name}"
    if transform.transform_type == "remove_stream":
        return f"Removed stream {name}"
    update = transform.update_stream
    parts = []
    for kind, label in (
        ("add_field", "added"),
        ("remove_field", "removed"),
        ("update_field_schema", "changed the type of"),
    ):
        names = [
            "'" + ".".join(f.field_name) + "'" + (" (breaking)" if f.breaking else "")
            for f in (update.field_transforms if update else [])
            if f.transform_type == kind
        ]
        if names:
            parts.append(f"{label} fields [{', '.join(names)}]")
    for attribute in update.stream_attribute_transforms if update else []:
        change = attribute.update_primary_key
        old = change.old_primary_key if change else None
        new = change.new_primary_key if change else None
        breaking = " (breaking)" if attribute.breaking else ""
        parts.append(f"changed the source's primary key from {old} to {new}{breaking}")
    return f"Modified stream {name}: {', '.join(parts)}"


def summary(diff: CatalogDiff) -> str:
    """All the changes in one line ("no changes" when there are none)."""
    if not diff.transforms:
        return "no changes"
    return "; ".join(describe(t) for t in diff.transforms)
