"""The tables a destination writes, from a configured catalog: which streams, in which sync
mode, with which typed columns, and the names and values shared by every destination.

Column layout of every table (as Airbyte's "destinations v2" final tables):
`_airbyte_raw_id` (uuid text), `_airbyte_extracted_at` (the record's `emitted_at`),
`_airbyte_meta` (JSON `{"changes": [...], "sync_id": ...}`), `_airbyte_generation_id`, then one
typed column per top-level property of the stream's JSON Schema, then
`_airbyte_additional_properties`: a JSON object of the record's fields that the schema does not
declare (NULL when there are none), so nothing the source sent is lost.
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import msgspec

from sluice_connectors.entrypoint import ConfigError

try:  # optional: installed with the duckdb extra; the row-writing destinations only go faster
    import numpy as np
except ImportError:  # pragma: no cover
    np = None  # type: ignore[assignment]

json_encoder = msgspec.json.Encoder()

RAW_ID = "_airbyte_raw_id"
EXTRACTED_AT = "_airbyte_extracted_at"
META = "_airbyte_meta"
GENERATION_ID = "_airbyte_generation_id"
ADDITIONAL = "_airbyte_additional_properties"
META_COLUMNS = (RAW_ID, EXTRACTED_AT, META, GENERATION_ID)
RESERVED = frozenset((*META_COLUMNS, ADDITIONAL))

SYNC_MODES = ("overwrite", "append", "append_dedup")
KINDS = ("string", "integer", "number", "boolean", "json")


# -- catalog ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str  # the property name, as the source spells it
    kind: str  # one of KINDS


@dataclass
class StreamConfig:
    name: str
    namespace: str | None
    sync_mode: str
    columns: list[Column]
    primary_key: list[str]
    cursor: str | None
    generation_id: int | None
    sync_id: int | None

    @property
    def label(self) -> str:
        return f"{self.namespace}.{self.name}" if self.namespace else self.name

    @cached_property
    def default_meta(self) -> str:
        """The `_airbyte_meta` of a record without changes (shared by most rows)."""
        return json_encoder.encode({"changes": [], "sync_id": self.sync_id}).decode()

    def meta_for(self, meta: msgspec.Raw, changes: list[dict[str, str]] | None = None) -> str:
        """`_airbyte_meta` text for a record's `meta` (an empty Raw when it has none) plus
        the destination's own changes."""
        decoded = msgspec.json.decode(meta) if meta else None
        source_changes = decoded.get("changes") if isinstance(decoded, dict) else None
        every = [*(source_changes or []), *(changes or [])]
        if not every:
            return self.default_meta
        return json_encoder.encode({"changes": every, "sync_id": self.sync_id}).decode()


def column_kind(schema: Any) -> str:
    """Map one property's JSON Schema to a column kind. Unions and untyped properties are JSON."""
    if not isinstance(schema, dict):
        return "json"
    types = schema.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list):
        return "json"
    concrete = [t for t in types if t != "null"]
    if set(concrete) == {"integer", "number"}:
        concrete = ["number"]
    if len(concrete) != 1:
        return "json"
    kind = concrete[0]
    if kind == "number" and schema.get("airbyte_type") in ("integer", "big_integer"):
        return "integer"
    return kind if kind in ("string", "integer", "number", "boolean") else "json"


def _top_level(path: Any, what: str, stream: str) -> str:
    if isinstance(path, str):
        return path
    if isinstance(path, list) and len(path) == 1 and isinstance(path[0], str):
        return path[0]
    raise ConfigError(f"stream {stream}: {what} {path!r} must be one top-level field")


def parse_catalog(catalog: Any) -> list[StreamConfig]:
    """The configured catalog's streams, checked for what a destination needs."""
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        raise ConfigError("the configured catalog must be an object with a `streams` list")
    streams = []
    for configured in catalog["streams"]:
        stream = configured.get("stream") or {}
        name = stream.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError("every configured stream needs `stream.name`")
        mode = configured.get("destination_sync_mode") or "append"
        if mode not in SYNC_MODES:
            raise ConfigError(f"stream {name}: destination_sync_mode {mode!r} is not supported")
        properties = (stream.get("json_schema") or {}).get("properties") or {}
        columns = [
            Column(key, column_kind(value))
            for key, value in properties.items()
            if key not in RESERVED
        ]
        names = {c.name for c in columns}
        pk_paths = configured.get("primary_key") or stream.get("source_defined_primary_key") or []
        primary_key = [_top_level(p, "primary key", name) for p in pk_paths]
        cursor_path = configured.get("cursor_field") or (
            stream.get("default_cursor_field") if stream.get("source_defined_cursor") else None
        )
        cursor = _top_level(cursor_path, "cursor field", name) if cursor_path else None
        if mode == "append_dedup":
            if not primary_key:
                raise ConfigError(f"stream {name}: append_dedup needs a primary key")
            missing = [k for k in [*primary_key, cursor] if k and k not in names]
            if missing:
                raise ConfigError(f"stream {name}: {missing} not in the stream's json_schema")
        streams.append(
            StreamConfig(
                name=name,
                namespace=stream.get("namespace") or None,
                sync_mode=mode,
                columns=columns,
                primary_key=primary_key if mode == "append_dedup" else [],
                cursor=cursor if mode == "append_dedup" else None,
                generation_id=configured.get("generation_id"),
                sync_id=configured.get("sync_id"),
            )
        )
    return streams


# -- names and values -------------------------------------------------------------------------


def sanitize(name: str, max_length: int = 0) -> str:
    """A table name from a stream name: ASCII letters, digits and `_` (as Airbyte's
    StandardNameTransformer), never starting with a digit."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    clean = re.sub(r"[^A-Za-z0-9_]", "_", ascii_name) or "_"
    if clean[0].isdigit():
        clean = "_" + clean
    return clean[:max_length] if max_length else clean


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def uuid4_strings(count: int) -> list[str]:
    """`count` random version-4 UUIDs as text, from one urandom call: formatted by numpy in
    bulk where it is installed (a tenth of the per-UUID Python below)."""
    if np is not None and count > 64:
        return _uuid4_numpy(count)
    hexes = os.urandom(16 * count).hex()
    variant = "89ab"
    return [
        f"{hexes[i : i + 8]}-{hexes[i + 8 : i + 12]}-4{hexes[i + 13 : i + 16]}-"
        f"{variant[int(hexes[i + 16], 16) & 3]}{hexes[i + 17 : i + 20]}-{hexes[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]


def _uuid4_numpy(count: int) -> list[str]:
    joined = uuid4_text(count).decode("ascii")
    return [joined[i : i + 36] for i in range(0, 36 * count, 36)]


def uuid4_text(count: int) -> bytes:
    """`count` random version-4 UUIDs as one run of 36-byte texts (numpy needed)."""
    assert np is not None
    raw = np.frombuffer(os.urandom(16 * count), np.uint8).reshape(count, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    digits = np.empty((count, 32), np.uint8)
    digits[:, 0::2], digits[:, 1::2] = raw >> 4, raw & 0x0F
    chars = np.frombuffer(b"0123456789abcdef", np.uint8)[digits]
    text = np.full((count, 36), ord("-"), np.uint8)
    for start, end, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, at : at + end - start] = chars[:, start:end]
    return text.tobytes()


class IsoTimes:
    """epoch ms -> ISO-8601 UTC text, remembering the last one (records share timestamps)."""

    def __init__(self) -> None:
        self.last_ms = -1
        self.last = ""

    def __call__(self, ms: int) -> str:
        if ms != self.last_ms:
            self.last_ms = ms
            moment = datetime.fromtimestamp(ms / 1000, UTC)
            self.last = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return self.last


def now_ms() -> int:
    return int(time.time() * 1000)
