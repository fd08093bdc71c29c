"""What every Sluice destination shares: reading the message stream, batching records per stream,
committing in transactions, echoing STATE messages only once what precedes them is committed,
and the mapping of a configured catalog to typed tables.

The engine-specific part is a `TableWriter` (one per `write` run): it receives batches of the
original RECORD lines of one stream (plus each line's decoded head), writes them inside an open
transaction, commits, and at the end of a successful run swaps the `overwrite` tables into place.

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
import select
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, BinaryIO, Protocol

import msgspec

from sluice_connectors.entrypoint import ConfigError, Destination

# Records per commit; SLUICE_BATCH_RECORDS overrides it (tests use tiny batches).
BATCH_RECORDS = int(os.environ.get("SLUICE_BATCH_RECORDS") or 10_000)
BATCH_BYTES = 32 * 1024 * 1024
# A STATE that arrives while records are buffered waits at most this long for its commit, and
# an idle input commits at once: the platform sees states promptly even from a slow source.
STATE_WAIT_SECONDS = 1.0
IDLE_SECONDS = 0.2
READ_SIZE = 1 << 20

RAW_ID = "_airbyte_raw_id"
EXTRACTED_AT = "_airbyte_extracted_at"
META = "_airbyte_meta"
GENERATION_ID = "_airbyte_generation_id"
ADDITIONAL = "_airbyte_additional_properties"
META_COLUMNS = (RAW_ID, EXTRACTED_AT, META, GENERATION_ID)
RESERVED = frozenset((*META_COLUMNS, ADDITIONAL))

SYNC_MODES = ("overwrite", "append", "append_dedup")
KINDS = ("string", "integer", "number", "boolean", "json")


# -- messages ---------------------------------------------------------------------------------


class RecordHead(msgspec.Struct):
    """A RECORD's routing fields; `data` stays undecoded for the writer to parse its own way."""

    stream: str
    data: msgspec.Raw
    emitted_at: int = 0
    namespace: str | None = None
    meta: msgspec.Raw = msgspec.Raw()  # empty when the record has none


class StreamDescriptor(msgspec.Struct):
    name: str
    namespace: str | None = None


class StreamStatus(msgspec.Struct):
    stream_descriptor: StreamDescriptor
    status: str


class TraceHead(msgspec.Struct):
    type: str
    stream_status: StreamStatus | None = None


class Message(msgspec.Struct):
    type: str
    record: RecordHead | None = None
    trace: TraceHead | None = None


message_decoder = msgspec.json.Decoder(Message)
json_encoder = msgspec.json.Encoder()


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

    def meta_for(self, meta: msgspec.Raw) -> str:
        """`_airbyte_meta` text for a record's `meta` (empty Raw: the record has none)."""
        decoded = msgspec.json.decode(meta) if meta else None
        changes = decoded.get("changes") if isinstance(decoded, dict) else None
        if not changes:
            return self.default_meta
        return json_encoder.encode({"changes": changes, "sync_id": self.sync_id}).decode()


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
    """`count` random version-4 UUIDs as text, from one urandom call (5x uuid.uuid4())."""
    hexes = os.urandom(16 * count).hex()
    variant = "89ab"
    return [
        f"{hexes[i : i + 8]}-{hexes[i + 8 : i + 12]}-4{hexes[i + 13 : i + 16]}-"
        f"{variant[int(hexes[i + 16], 16) & 3]}{hexes[i + 17 : i + 20]}-{hexes[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]


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


# -- the write loop ---------------------------------------------------------------------------


@dataclass
class Batch:
    """Records of one stream since the last commit: the original lines and their heads."""

    lines: list[bytes] = field(default_factory=list)
    heads: list[RecordHead] = field(default_factory=list)


class TableWriter(Protocol):
    def write(self, stream: StreamConfig, batch: Batch) -> None:
        """Write one stream's batch inside the current transaction."""

    def commit(self) -> None:
        """Make everything written so far durable."""

    def finish(self, streams: list[StreamConfig]) -> None:
        """After the last commit of a successful run: move `overwrite` streams into place."""

    def close(self) -> None: ...


def input_lines(stdin: BinaryIO) -> Iterator[bytes | None]:
    """Lines of stdin without their newline; None when no input came for IDLE_SECONDS."""
    try:
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):
        for line in stdin:
            yield line.rstrip(b"\r\n")
        return
    carry = b""
    while True:
        ready, _, _ = select.select([fd], [], [], IDLE_SECONDS)
        if not ready:
            yield None
            continue
        chunk = os.read(fd, READ_SIZE)
        if not chunk:
            break
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        yield from lines
    if carry:
        yield carry


class BatchingDestination(Destination):
    """A destination whose `write` is the shared loop; subclasses provide `open_writer`."""

    def open_writer(self, config: dict[str, Any], streams: list[StreamConfig]) -> TableWriter:
        raise NotImplementedError

    def write(self, config: dict[str, Any], catalog: dict[str, Any], stdin: BinaryIO) -> None:
        streams = parse_catalog(catalog)
        writer = self.open_writer(config, streams)
        try:
            Sync(self, writer, streams).run(stdin)
        finally:
            writer.close()


class Sync:
    """One `write` run: route records to batches, commit, echo states in order."""

    def __init__(
        self, destination: Destination, writer: TableWriter, streams: list[StreamConfig]
    ) -> None:
        self.out = destination.out
        self.writer = writer
        self.streams = streams
        self.by_key = {(s.namespace, s.name): s for s in streams}
        by_name: dict[str, list[StreamConfig]] = {}
        for s in streams:
            by_name.setdefault(s.name, []).append(s)
        # A record whose namespace differs from the catalog's still finds a stream of its name.
        self.by_name = {name: found[0] for name, found in by_name.items() if len(found) == 1}
        self.batches: dict[tuple[str | None, str], Batch] = {}
        self.pending_states: list[bytes] = []
        self.buffered = 0
        self.buffered_bytes = 0
        self.last_commit = time.monotonic()
        self.statuses: dict[tuple[str | None, str], str] = {}
        self.counts: dict[tuple[str | None, str], int] = {}

    def stream_for(self, record: RecordHead) -> StreamConfig:
        stream = self.by_key.get((record.namespace or None, record.stream)) or self.by_name.get(
            record.stream
        )
        if stream is None:
            known = ", ".join(s.label for s in self.streams) or "none"
            where = f"{record.namespace}.{record.stream}" if record.namespace else record.stream
            raise ValueError(
                f"received a record of stream {where!r}, which is not in the configured "
                f"catalog (configured: {known})"
            )
        return stream

    def run(self, stdin: BinaryIO) -> None:
        decode = message_decoder.decode
        number = 0
        for line in input_lines(stdin):
            if line is None:
                if self.buffered:
                    self.commit()
                continue
            number += 1
            if not line.strip():
                continue
            try:
                message = decode(line)
            except msgspec.DecodeError as exc:
                raise ValueError(f"input line {number} is not an Airbyte message: {exc}") from exc
            kind = message.type
            if kind == "RECORD" and message.record is not None:
                self.add_record(message.record, line)
            elif kind == "STATE":
                if self.buffered:
                    self.pending_states.append(line)
                    if time.monotonic() - self.last_commit >= STATE_WAIT_SECONDS:
                        self.commit()
                else:
                    self.out.raw_line(line)
                    self.out.flush()
            elif kind == "TRACE" and message.trace and message.trace.stream_status:
                status = message.trace.stream_status
                descriptor = status.stream_descriptor
                found = self.by_key.get((descriptor.namespace, descriptor.name))
                found = found or self.by_name.get(descriptor.name)
                if found is not None:
                    self.statuses[(found.namespace, found.name)] = status.status
        self.commit()
        self.writer.finish(self.completed_streams())
        for stream in self.streams:
            count = self.counts.get((stream.namespace, stream.name), 0)
            self.out.log(f"stream {stream.label}: {count} records written ({stream.sync_mode})")

    def add_record(self, record: RecordHead, line: bytes) -> None:
        stream = self.stream_for(record)
        key = (stream.namespace, stream.name)
        batch = self.batches.get(key)
        if batch is None:
            batch = self.batches[key] = Batch()
        batch.lines.append(line)
        batch.heads.append(record)
        self.buffered += 1
        self.buffered_bytes += len(line)
        if (
            self.buffered >= BATCH_RECORDS
            or self.buffered_bytes >= BATCH_BYTES
            or (
                self.pending_states
                and not self.buffered % 1000
                and time.monotonic() - self.last_commit >= STATE_WAIT_SECONDS
            )
        ):
            self.commit()

    def commit(self) -> None:
        for key, batch in self.batches.items():
            if batch.lines:
                self.writer.write(self.by_key[key], batch)
                self.counts[key] = self.counts.get(key, 0) + len(batch.lines)
        self.writer.commit()
        self.batches = {}
        self.buffered = self.buffered_bytes = 0
        self.last_commit = time.monotonic()
        for state in self.pending_states:
            self.out.raw_line(state)
        self.pending_states = []
        self.out.flush()

    def completed_streams(self) -> list[StreamConfig]:
        """Streams whose data is whole. When the input carries stream statuses (a platform
        that forwards them), only a stream that reached COMPLETE is; without any, reaching
        the end of the input is the only signal there is."""
        if not self.statuses:
            return list(self.streams)
        return [s for s in self.streams if self.statuses.get((s.namespace, s.name)) == "COMPLETE"]
