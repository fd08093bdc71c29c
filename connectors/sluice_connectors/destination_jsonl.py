"""destination-jsonl: one JSON-lines file per stream in a local directory (Airbyte's
"Local JSON").

As Airbyte's Local JSON destination, stream `users` goes to `<destination_path>/
_airbyte_raw_users.jsonl` (`_airbyte_raw_<namespace>_<stream>.jsonl` with a namespace), one
object per record: `{"_airbyte_ab_id": uuid, "_airbyte_emitted_at": epoch ms, "_airbyte_data":
{...the record as sent...}, "_airbyte_meta": {"changes": [...], "sync_id": ...},
"_airbyte_generation_id": ...}` (the last two are Sluice's additions). The record's
bytes are copied, never re-encoded. A commit is a write, flush and fsync of the file.

`overwrite` writes a temporary file and renames it over the old one at the end of a successful
run; `append_dedup` appends, then at the end rewrites the file keeping one line per primary key
(newest cursor, then latest line).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from sluice_connectors.destination_core import Batch, BatchingDestination
from sluice_connectors.destination_tables import (
    StreamConfig,
    json_encoder,
    now_ms,
    sanitize,
    uuid4_strings,
)
from sluice_connectors.entrypoint import ConfigError, main
from sluice_connectors.paths import resolve_local

SPEC: dict[str, Any] = {
    "documentationUrl": "https://docs.airbyte.com/integrations/destinations/local-json",
    "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
    "supportsIncremental": True,
    "supportsDBT": False,
    "supportsNormalization": False,
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Local Json Destination Spec",
        "type": "object",
        "required": ["destination_path"],
        "additionalProperties": False,
        "properties": {
            "destination_path": {
                "type": "string",
                "title": "Destination Path",
                "description": "Path to the directory where the JSON-lines files are written. "
                "It must start with /local/ (the local mount, Sluice's data root).",
                "examples": ["/local/json_data"],
            }
        },
    },
}


def directory(config: dict[str, Any]) -> Path:
    setting = config.get("destination_path")
    if not isinstance(setting, str):
        raise ConfigError("destination_path must be a string such as /local/json_data")
    path = resolve_local(setting)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"destination_path {setting!r} exists and is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _drop_partial_line(path: Path) -> None:
    """A run killed mid-write can leave half a line (never committed): cut it off."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
        size = handle.seek(0, os.SEEK_END)
        position = size
        while position > 0:
            step = min(1 << 16, position)
            handle.seek(position - step)
            block = handle.read(step)
            newline = block.rfind(b"\n")
            if newline >= 0:
                handle.truncate(position - step + newline + 1)
                return
            position -= step
        handle.truncate(0)


class KeyedLine(msgspec.Struct):
    _airbyte_data: msgspec.Raw


def _older_wins(old: Any, new: Any) -> bool:
    """Whether an earlier line beats a later one of the same key: only by a greater cursor."""
    if old is None:
        return False
    if new is None:
        return True
    try:
        return bool(old > new)
    except TypeError:  # cursors of different JSON types: compare their text
        return str(old) > str(new)


class JsonlFile:
    def __init__(self, root: Path, stream: StreamConfig) -> None:
        self.stream = stream
        base = sanitize(f"{stream.namespace}_{stream.name}" if stream.namespace else stream.name)
        self.final = root / f"_airbyte_raw_{base}.jsonl"
        self.tmp = root / f"_airbyte_tmp_{base}.jsonl"
        if stream.sync_mode == "overwrite":
            self.path = self.tmp
            self.handle: BinaryIO = open(self.tmp, "wb")  # noqa: SIM115 (closed in close())
        else:
            _drop_partial_line(self.final)
            self.path = self.final
            self.handle = open(self.final, "ab")  # noqa: SIM115
        generation = json_encoder.encode(stream.generation_id)
        self.generation_tail = b',"_airbyte_generation_id":' + generation + b"}\n"
        meta = stream.default_meta.encode()
        self.default_tail = b',"_airbyte_meta":' + meta + self.generation_tail

    def write(self, batch: Batch) -> None:
        parts: list[Any] = []
        add = parts.append
        now = now_ms()
        heads = batch.heads(self.stream.label)  # one decode for the batch
        for raw_id, head in zip(uuid4_strings(len(heads)), heads, strict=True):
            add(
                b'{"_airbyte_ab_id":"%s","_airbyte_emitted_at":%d,"_airbyte_data":'
                % (
                    raw_id.encode(),
                    head.emitted_at or now,
                )
            )
            add(head.data)
            if not head.meta:
                add(self.default_tail)
            else:
                meta = self.stream.meta_for(head.meta).encode()
                add(b',"_airbyte_meta":' + meta + self.generation_tail)
        self.handle.write(b"".join(parts))

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def finish(self, complete: bool) -> None:
        self.handle.close()
        if self.stream.sync_mode == "overwrite":
            if complete:
                os.replace(self.tmp, self.final)
            else:
                self.tmp.unlink(missing_ok=True)
        elif self.stream.primary_key:
            self.deduplicate()
        _sync_directory(self.final.parent)

    def deduplicate(self) -> None:
        """Rewrite the file with one line per primary key (lines with a null key all stay).
        An end-of-run step that reads the whole file, so each line is decoded in full."""
        keys, cursor = self.stream.primary_key, self.stream.cursor
        decode_line = msgspec.json.Decoder(KeyedLine).decode
        winners: dict[bytes, tuple[Any, int]] = {}
        with open(self.final, "rb") as handle:
            lines = handle.read().splitlines()
        keep = [True] * len(lines)
        for number, line in enumerate(lines):
            data = msgspec.json.decode(decode_line(line)._airbyte_data)
            key = [data.get(k) for k in keys]
            if any(v is None for v in key):
                continue
            hashable = msgspec.json.encode(key)
            value = data.get(cursor) if cursor else None
            previous = winners.get(hashable)
            if previous is not None:
                if _older_wins(previous[0], value):
                    keep[number] = False
                    continue
                keep[previous[1]] = False
            winners[hashable] = (value, number)
        with open(self.tmp, "wb") as out:
            kept = (line + b"\n" for line, keep_it in zip(lines, keep, strict=True) if keep_it)
            out.write(b"".join(kept))
            out.flush()
            os.fsync(out.fileno())
        os.replace(self.tmp, self.final)

    def close(self) -> None:
        if not self.handle.closed:
            self.handle.close()


class JsonlWriter:
    concurrent = False  # its per-row Python work would contend for the GIL
    arrow = False

    def __init__(self, root: Path, streams: list[StreamConfig]) -> None:
        self.files: dict[tuple[str | None, str], JsonlFile] = {}
        try:
            for stream in streams:
                self.files[(stream.namespace, stream.name)] = JsonlFile(root, stream)
        except BaseException:
            self.close()
            raise
        finals = [f.final for f in self.files.values()]
        if len(set(finals)) != len(finals):
            self.close()
            raise ConfigError(f"two streams map to the same file: {sorted(map(str, finals))}")
        self.dirty: set[tuple[str | None, str]] = set()

    def write(self, stream: StreamConfig, batch: Batch) -> None:
        key = (stream.namespace, stream.name)
        self.files[key].write(batch)
        self.dirty.add(key)

    def commit(self) -> None:
        for key in self.dirty:
            self.files[key].commit()
        self.dirty.clear()

    def finish(self, streams: list[StreamConfig]) -> None:
        done = {(s.namespace, s.name) for s in streams}
        for key, file in self.files.items():
            file.finish(key in done)

    def close(self) -> None:
        for file in self.files.values():
            file.close()


class DestinationJsonl(BatchingDestination):
    def spec(self) -> dict[str, Any]:
        return SPEC

    def check(self, config: dict[str, Any]) -> None:
        probe = directory(config) / f"_airbyte_connection_test_{uuid4_strings(1)[0][:8]}"
        with open(probe, "wb") as handle:
            handle.write(json_encoder.encode({"ok": True}) + b"\n")
        probe.unlink()

    def open_writer(self, config: dict[str, Any], streams: list[StreamConfig]) -> JsonlWriter:
        return JsonlWriter(directory(config), streams)


def run() -> None:
    main(DestinationJsonl)
