"""source-e2e-test: a fast synthetic source for tests and benchmarks.

It takes the configuration of Airbyte's "E2E Testing" source (`type`, `max_messages`, `seed`,
`message_interval_ms`, `mock_catalog` with SINGLE_STREAM or MULTI_STREAM schemas) plus Sluice's
additions: `record_size_bytes`, `state_checkpoint_interval` and a `fault` to inject.

Records are `{"id": n, "updated_at": n, ...}` for n = 1..max_messages per stream: `id` is the
primary key and `updated_at` the source-defined cursor, so an incremental read that starts
from a saved state emits only the records after it, and a later run with a larger
`max_messages` emits only the new ones. The other fields follow the stream's JSON Schema and
are drawn, with the seed, from a pool of pre-rendered values, so the same seed gives the same
data. Each record line is one bytes %-format of a prebuilt template: the source is not what a
benchmark should measure.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import msgspec

from sluice_connectors.entrypoint import ConfigError, Source, main
from sluice_connectors.protocol import Output, buffered_stdout, now_ms
from sluice_connectors.streams import (
    ConfiguredStream,
    configured_streams,
    state_for,
    stream_state_message,
    stream_states,
)
from sluice_connectors.synthetic import (
    CURSOR,
    HUGE_DEFAULT,
    PRIMARY_KEY,
    Config,
    parse_config,
    stream_schemas,
    value_pool,
)

CHUNK = 4096  # records formatted per write


class FaultInjected(RuntimeError):
    """The configured fault: a failure the platform must report."""


class SourceE2ETest(Source):
    def __init__(self, output: Output | None = None) -> None:
        super().__init__(output or Output(buffered_stdout()))

    def spec(self) -> dict[str, Any]:
        return SPEC

    def check(self, config: dict[str, Any]) -> None:
        stream_schemas(parse_config(config))

    def discover(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "json_schema": schema,
                "supported_sync_modes": ["full_refresh", "incremental"],
                "source_defined_cursor": True,
                "default_cursor_field": [CURSOR],
                "source_defined_primary_key": [[PRIMARY_KEY]],
                "is_resumable": True,
            }
            for name, schema in stream_schemas(parse_config(config)).items()
        ]

    def read(
        self, config: dict[str, Any], catalog: dict[str, Any], state: list[dict[str, Any]]
    ) -> None:
        cfg = parse_config(config)
        schemas = stream_schemas(cfg)
        streams = configured_streams(catalog)
        unknown = [s.name for s in streams if s.name not in schemas]
        if unknown:
            raise ConfigError(f"the catalog names streams this source does not have: {unknown}")
        saved = stream_states(state)
        Reader(self.out, cfg).run(
            [(s, schemas[s.name], _start(s, state_for(saved, s))) for s in streams],
            list(schemas),
        )


def _start(stream: ConfiguredStream, saved: Any) -> int:
    """The cursor value already read: records with a larger `updated_at` are emitted."""
    if not stream.incremental or saved is None:
        return 0
    cursor = saved.get(CURSOR) if isinstance(saved, dict) else None
    if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0:
        raise ConfigError(f"stream {stream.name!r}: state has no integer {CURSOR!r}: {saved!r}")
    return cursor


class Reader:
    """One `read`: the record loop and the fault it may inject."""

    def __init__(self, out: Output, config: Config) -> None:
        self.out = out
        self.config = config
        self.fault = config.active_fault()
        self.emitted = 0  # records in this run, all streams: what `after_records` counts

    def run(
        self, plan: list[tuple[ConfiguredStream, dict[str, Any], int]], names: list[str]
    ) -> None:
        if self.fault is not None and self.fault.after_records == 0:
            self.trigger(plan[0][0] if plan else None, 0)
        for stream, schema, start in plan:
            self.stream(stream, schema, start, names.index(stream.name))

    def stream(
        self, stream: ConfiguredStream, schema: dict[str, Any], start: int, index: int
    ) -> None:
        cfg, out, write = self.config, self.out, self.out.stream.write
        end = cfg.count()
        # A fixed id width keeps a record's data independent of `max_messages`.
        pool = value_pool(schema, cfg.seed, index, cfg.record_size_bytes, 6)
        mask = len(pool) - 1
        head = b'{"type":"RECORD","record":{"stream":' + msgspec.json.encode(stream.name)
        if stream.namespace:
            head += b',"namespace":' + msgspec.json.encode(stream.namespace)
        head = head.replace(b"%", b"%%") + b',"emitted_at":'
        tail = b',"data":{"id":%d,"updated_at":%d%s}}}\n'
        interval = cfg.state_checkpoint_interval
        pause = cfg.message_interval_ms / 1000
        out.stream_status(stream.name, "STARTED", stream.namespace)
        cursor, since_state = start, 0
        while cursor < end:
            n = 1 if pause else min(CHUNK, interval - since_state, end - cursor)
            if self.fault is not None and self.emitted < self.fault.after_records:
                n = min(n, self.fault.after_records - self.emitted)
            fmt = head + str(now_ms()).encode() + tail
            first = cursor + 1
            write(
                b"".join([fmt % (i, i, pool[(i * 40503) & mask]) for i in range(first, first + n)])
            )
            cursor += n
            since_state += n
            self.emitted += n
            if self.fault is not None and self.emitted == self.fault.after_records:
                since_state += self.trigger(stream, cursor)
            if since_state >= interval:
                out.state(stream_state_message(stream, {CURSOR: cursor}, since_state))
                since_state = 0
            if pause:
                out.flush()
                time.sleep(pause)
        if since_state or cursor == start:  # always end a stream with its state
            out.state(stream_state_message(stream, {CURSOR: cursor}, since_state))
        out.stream_status(stream.name, "COMPLETE", stream.namespace)

    def trigger(self, stream: ConfiguredStream | None, cursor: int) -> int:
        """Inject the configured fault; returns the records it emitted (for sourceStats)."""
        fault, out = self.fault, self.out
        assert fault is not None
        self.fault = None  # once per run
        out.flush()
        after = fault.after_records
        if fault.mode == "fail":
            raise FaultInjected(f"fault injection: failing after {after} records")
        if fault.mode == "crash":
            print(f"fault injection: crashing after {after} records", file=sys.stderr)
            sys.stderr.flush()
            os._exit(1)
        if fault.mode == "hang":
            print(f"fault injection: hanging after {after} records", file=sys.stderr)
            sys.stderr.flush()
            while True:
                time.sleep(3600)
        if fault.mode == "garbage":
            out.stream.write(f"fault injection: this line is not JSON (after {after})\n".encode())
            out.flush()
            return 0
        # huge_line: one valid RECORD line of exactly `line_bytes` bytes before its newline.
        if stream is None:
            return 0
        head = msgspec.json.encode(
            {"type": "RECORD", "record": {"stream": stream.name, "emitted_at": now_ms()}}
        )[:-2]
        head += b',"data":{"id":%d,"updated_at":%d,"payload":"' % (cursor, cursor)
        pad = max(fault.line_bytes - len(head) - len(b'"}}}'), 0)
        out.stream.write(head + b"x" * pad + b'"}}}\n')
        out.flush()
        return 1


SPEC: dict[str, Any] = {
    "documentationUrl": "https://docs.airbyte.com/integrations/sources/e2e-test",
    "protocol_version": "0.2.1",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "E2E Test Source Spec",
        "type": "object",
        "additionalProperties": True,
        "properties": {
            "type": {
                "type": "string",
                "enum": ["CONTINUOUS_FEED", "EXCEPTION_AFTER_N", "INFINITE_FEED"],
                "default": "CONTINUOUS_FEED",
                "order": 10,
            },
            "max_messages": {
                "title": "Max Records",
                "description": "Number of records to emit per stream (ids 1..max_messages).",
                "type": "integer",
                "default": 100,
                "minimum": 0,
                "order": 20,
            },
            "seed": {
                "title": "Random Seed",
                "description": "The same seed gives the same data.",
                "type": "integer",
                "default": 0,
                "examples": [42],
                "order": 30,
            },
            "message_interval_ms": {
                "title": "Message Interval (ms)",
                "description": "Interval between records in ms (0-60000).",
                "type": "integer",
                "minimum": 0,
                "maximum": 60000,
                "default": 0,
                "order": 40,
            },
            "mock_catalog": {
                "title": "Mock Catalog",
                "type": "object",
                "order": 50,
                "oneOf": [
                    {
                        "title": "Single Schema",
                        "description": "One stream, or N streams sharing one schema.",
                        "type": "object",
                        "required": ["type", "stream_name"],
                        "properties": {
                            "type": {"type": "string", "const": "SINGLE_STREAM"},
                            "stream_name": {"type": "string", "default": "data_stream"},
                            "stream_schema": {
                                "description": "JSON Schema of the stream, as a JSON string.",
                                "type": "string",
                            },
                            "stream_duplication": {
                                "description": "Duplicate the stream N times (name_0, name_1...).",
                                "type": "integer",
                                "default": 1,
                                "minimum": 1,
                            },
                        },
                    },
                    {
                        "title": "Multi Schema",
                        "description": "Several streams, each with its own schema.",
                        "type": "object",
                        "required": ["type", "stream_schemas"],
                        "properties": {
                            "type": {"type": "string", "const": "MULTI_STREAM"},
                            "stream_schemas": {
                                "description": "A JSON object (as a string): name -> schema.",
                                "type": "string",
                            },
                        },
                    },
                ],
            },
            "record_size_bytes": {
                "title": "Record Size (bytes)",
                "description": "Approximate size of each record's data; the first string field "
                "is padded to reach it.",
                "type": "integer",
                "minimum": 0,
                "default": 200,
                "order": 60,
            },
            "state_checkpoint_interval": {
                "title": "State Checkpoint Interval",
                "description": "Emit a STREAM state every N records (and at the end of a stream).",
                "type": "integer",
                "minimum": 1,
                "default": 1000,
                "order": 70,
            },
            "throw_after_n_records": {
                "description": "With type EXCEPTION_AFTER_N: fail after this many records.",
                "type": "integer",
                "minimum": 0,
            },
            "fault": {
                "title": "Fault Injection",
                "description": "Misbehave once after `after_records` records (all streams): "
                "fail (TRACE ERROR, exit 1), crash (exit 1, no trace), garbage (one non-JSON "
                "line), hang (sleep forever), huge_line (one RECORD line of `line_bytes`).",
                "type": "object",
                "required": ["mode"],
                "order": 80,
                "properties": {
                    "mode": {
                        "type": "string",
                        "enum": ["fail", "crash", "garbage", "hang", "huge_line"],
                    },
                    "after_records": {"type": "integer", "minimum": 0, "default": 0},
                    "line_bytes": {"type": "integer", "minimum": 1, "default": HUGE_DEFAULT},
                },
            },
        },
    },
}


def run() -> None:
    main(SourceE2ETest)


if __name__ == "__main__":
    run()
