"""Configuration and synthetic data of source-e2e-test: which streams, what schema, and the
pool of pre-rendered field values records are made from."""

from __future__ import annotations

import random
import string
import sys
import time
from typing import Annotated, Any, Literal

import msgspec

from sluice_connectors.entrypoint import ConfigError

CURSOR = "updated_at"
PRIMARY_KEY = "id"
POOL_SIZE = 1024  # pre-rendered value sets per stream, at most; a power of two
HUGE_DEFAULT = 70 * 1024 * 1024

NonNegative = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]

DEFAULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": "integer"},
        "name": {"type": "string"},
        "amount": {"type": "number"},
        "active": {"type": "boolean"},
        "payload": {"type": "string"},
    },
}


class SingleStream(msgspec.Struct, tag="SINGLE_STREAM", tag_field="type", kw_only=True):
    stream_name: str = "data_stream"
    stream_schema: str | dict[str, Any] | None = None
    stream_duplication: Positive = 1


class MultiStream(msgspec.Struct, tag="MULTI_STREAM", tag_field="type", kw_only=True):
    stream_schemas: str | dict[str, Any]


class Fault(msgspec.Struct, kw_only=True):
    mode: Literal["fail", "crash", "garbage", "hang", "huge_line"]
    after_records: NonNegative = 0
    line_bytes: Positive = HUGE_DEFAULT


class Config(msgspec.Struct, kw_only=True):
    type: Literal["CONTINUOUS_FEED", "EXCEPTION_AFTER_N", "INFINITE_FEED"] = "CONTINUOUS_FEED"
    max_messages: NonNegative | None = None
    max_records: NonNegative | None = None  # the legacy modes' name for the same count
    seed: int = 0
    message_interval_ms: Annotated[int, msgspec.Meta(ge=0, le=60000)] = 0
    mock_catalog: SingleStream | MultiStream | None = None
    record_size_bytes: NonNegative = 200
    state_checkpoint_interval: Positive = 1000
    fault: Fault | None = None
    throw_after_n_records: NonNegative | None = None  # EXCEPTION_AFTER_N

    def count(self) -> int:
        if self.max_messages is not None:
            return self.max_messages
        if self.max_records is not None:
            return self.max_records
        return sys.maxsize if self.type == "INFINITE_FEED" else 100

    def active_fault(self) -> Fault | None:
        if self.type == "EXCEPTION_AFTER_N":
            return Fault(mode="fail", after_records=self.throw_after_n_records or 0)
        return self.fault


def parse_config(raw: Any) -> Config:
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from None
    if config.type == "EXCEPTION_AFTER_N" and config.throw_after_n_records is None:
        raise ConfigError("type EXCEPTION_AFTER_N needs `throw_after_n_records`")
    return config


def _json_object(value: str | dict[str, Any], what: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = msgspec.json.decode(value)
        except msgspec.DecodeError as exc:
            raise ConfigError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{what} must be a JSON object")
    return value


def _stream_schema(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """The stream's schema with the `id` key and `updated_at` cursor every stream has."""
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise ConfigError(f"stream {name!r}: `properties` must be an object")
    merged = {"id": {"type": "integer"}, "updated_at": {"type": "integer"}}
    merged.update({k: v for k, v in properties.items() if k not in merged})
    return {**schema, "type": "object", "properties": merged}


def stream_schemas(config: Config) -> dict[str, dict[str, Any]]:
    """Stream name -> JSON Schema, from `mock_catalog` (default: one stream `data_stream`)."""
    catalog = config.mock_catalog or SingleStream()
    if isinstance(catalog, MultiStream):
        schemas = _json_object(catalog.stream_schemas, "mock_catalog.stream_schemas")
        if not schemas:
            raise ConfigError("mock_catalog.stream_schemas names no stream")
        return {
            name: _stream_schema(_json_object(s, f"the schema of {name!r}"), name)
            for name, s in schemas.items()
        }
    schema = DEFAULT_SCHEMA
    if catalog.stream_schema is not None:
        schema = _json_object(catalog.stream_schema, "mock_catalog.stream_schema")
    if catalog.stream_duplication == 1:
        names = [catalog.stream_name]
    else:  # Airbyte's naming for duplicated streams: ds_0, ds_1, ...
        names = [f"{catalog.stream_name}_{i}" for i in range(catalog.stream_duplication)]
    return {name: _stream_schema(schema, name) for name in names}


def _field_type(spec: Any) -> str:
    kind = spec.get("type", "string") if isinstance(spec, dict) else "string"
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return kind if isinstance(kind, str) else "string"


_WORDS = [
    *("amber", "basalt", "cedar", "delta", "ember", "fjord", "granite", "harbor"),
    *("indigo", "juniper", "kestrel", "lagoon", "meadow", "nimbus", "orchid", "prairie"),
    *("quartz", "river", "sierra", "tundra", "umber", "valley", "willow", "zephyr"),
]
_LETTERS = string.ascii_letters + string.digits


def _value(kind: str, fmt: str | None, rng: random.Random) -> Any:
    if kind == "integer":
        return rng.randrange(1_000_000)
    if kind == "number":
        return round(rng.uniform(0, 10_000), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "object":
        return {}
    if kind == "array":
        return []
    if kind == "null":
        return None
    if fmt == "date-time":
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(rng.randrange(1_600_000_000)))
    return f"{rng.choice(_WORDS)} {rng.choice(_WORDS)}"


def value_pool(
    schema: dict[str, Any], seed: int, index: int, size: int, digits: int
) -> list[bytes]:
    """Pre-rendered non-key fields (`,"f":v,...`), each padded so the record's `data` is about
    `size` bytes (`payload`, or else the first plain string field, takes the padding). The pool
    length is a power of two, smaller for large records so it stays within about 64 MiB."""
    rng = random.Random(seed * 1_000_003 + index)
    fields = [
        (name, _field_type(spec), spec.get("format") if isinstance(spec, dict) else None)
        for name, spec in schema["properties"].items()
        if name not in ("id", "updated_at")
    ]
    strings = [name for name, kind, fmt in fields if kind == "string" and not fmt]
    padded = "payload" if "payload" in strings else next(iter(strings), None)
    key_part = len('{"id":,"updated_at":}') + 2 * digits
    length = POOL_SIZE
    while length > 1 and length * size > 64 * 1024 * 1024:
        length //= 2
    filler = "".join(rng.choices(_LETTERS, k=min(size, 4096))) if padded else ""
    pool = []
    for _ in range(length):
        values = {name: _value(kind, fmt, rng) for name, kind, fmt in fields}
        rendered = msgspec.json.encode(values)[1:-1]
        missing = size - key_part - len(rendered) - (1 if rendered else 0)
        if padded is not None and missing > 1:
            start = rng.randrange(len(filler))
            pad = (filler[start:] + filler * (1 + missing // len(filler)))[: missing - 1]
            values[padded] += " " + pad
            rendered = msgspec.json.encode(values)[1:-1]
        pool.append(b"," + rendered if rendered else b"")
    return pool
