"""source-file: local CSV, JSON, JSONL, Parquet, Feather, Excel (xlsx) and Avro files as one
stream.

It takes the configuration of Airbyte's "File (CSV, JSON, Excel, Feather, Parquet)" source:
`dataset_name` (the stream name), `format`, `url` (a path or a glob under `/local/`, see
sluice_connectors.paths for the data-root rule), `provider` (`{"storage": "local"}`: the only
storage Sluice reads) and `reader_options` (a JSON string: CSV `sep`, `header`, `names`,
`encoding`, `skiprows`, `na_values`...; Excel `sheet_name`, `header`, `skiprows`). Sluice
adds `cursor_field` (the default cursor for incremental reads), `state_checkpoint_interval`
and `sample_rows` (rows per file that discover reads to infer column types).

Incremental reads emit the rows whose cursor value is greater than the saved state's. While
the rows come in cursor order a state is emitted every `state_checkpoint_interval` records
(only between two different cursor values, so a retry loses nothing); the final state holds
the largest cursor value read.
"""

from __future__ import annotations

import datetime
import decimal
import zipfile
from pathlib import Path
from typing import Annotated, Any

import msgspec

from sluice_connectors import file_formats, file_readers
from sluice_connectors.entrypoint import ConfigError, Source, main
from sluice_connectors.paths import glob_local
from sluice_connectors.protocol import Output, buffered_stdout, now_ms
from sluice_connectors.streams import (
    ConfiguredStream,
    configured_streams,
    state_for,
    stream_state_message,
    stream_states,
)

Positive = Annotated[int, msgspec.Meta(ge=1)]
# Airbyte formats Sluice does not read (`excel_binary` is the old .xls).
UNSUPPORTED = ("excel_binary", "fwf", "yaml", "html", "orc", "pickle")
READ_ERRORS = (OSError, ValueError, UnicodeDecodeError, KeyError, zipfile.BadZipFile)


class Config(msgspec.Struct, kw_only=True):
    dataset_name: Annotated[str, msgspec.Meta(min_length=1)]
    url: Annotated[str, msgspec.Meta(min_length=1)]
    format: str = "csv"
    provider: dict[str, Any] = msgspec.field(default_factory=lambda: {"storage": "local"})
    reader_options: str | dict[str, Any] | None = None
    cursor_field: str | None = None
    state_checkpoint_interval: Positive = 10_000
    sample_rows: Positive = 1000

    def options(self) -> dict[str, Any]:
        raw = self.reader_options
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return {}
        if isinstance(raw, str):
            try:
                raw = msgspec.json.decode(raw)
            except msgspec.DecodeError as exc:
                raise ConfigError(f"reader_options is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError("reader_options must be a JSON object")
        return raw

    def nulls(self) -> set[str]:
        return {""} | {str(v) for v in self.options().get("na_values", [])}


def parse_config(raw: Any) -> Config:
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from None
    storage = str(config.provider.get("storage", "local"))
    if storage.lower() != "local":
        raise ConfigError(
            f"provider.storage {storage!r} is not supported: Sluice's source-file reads local "
            'files only (provider {"storage": "local"}, url under /local/)'
        )
    if config.format in UNSUPPORTED:
        raise ConfigError(
            f"format {config.format!r} is not supported; "
            f"use one of {', '.join(file_formats.FORMATS)}"
        )
    if config.format not in file_formats.FORMATS:
        raise ConfigError(f"unknown format {config.format!r}")
    config.options()  # a bad reader_options is a configuration error, found early
    if config.format in file_formats.ARROW_FORMATS:
        file_formats.arrow()
    if config.format == "excel":
        file_readers.openpyxl()
    if config.format == "avro":
        file_readers.fastavro()
    return config


def files(config: Config) -> list[Path]:
    found = glob_local(config.url)
    if not found:
        raise ConfigError(f"no file matches {config.url!r}")
    return found


def _comparable(value: Any) -> Any:
    """Cursor values compared as they are saved in JSON state (and rendered in records)."""
    if isinstance(value, datetime.date):
        return msgspec.to_builtins(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


class SourceFile(Source):
    def __init__(self, output: Output | None = None) -> None:
        super().__init__(output or Output(buffered_stdout()))

    def spec(self) -> dict[str, Any]:
        return SPEC

    def check(self, config: dict[str, Any]) -> None:
        cfg = parse_config(config)
        properties = self.properties(cfg)
        if cfg.cursor_field and cfg.cursor_field not in properties:
            raise ConfigError(f"cursor_field {cfg.cursor_field!r} is not a column of the files")

    def properties(self, cfg: Config) -> dict[str, Any]:
        """Column -> JSON Schema, inferred from the files."""
        seen: dict[str, set[str]] = {}
        options = cfg.options()
        unknown = set(options) - file_formats.OPTIONS[cfg.format]
        if unknown:
            self.out.log(f"reader_options ignored for {cfg.format}: {sorted(unknown)}", "WARN")
        for path in files(cfg):
            try:
                if cfg.format in file_formats.ARROW_FORMATS:
                    file_formats.arrow_kinds(path, cfg.format, seen)
                else:
                    file_formats.header_columns(path, cfg.format, options, seen)
                    rows = file_formats.read_rows(path, cfg.format, options)
                    file_formats.infer_kinds(rows, cfg.format, cfg.nulls(), cfg.sample_rows, seen)
            except READ_ERRORS as exc:
                raise ConfigError(f"cannot read {path.name} as {cfg.format}: {exc}") from None
        if not seen:
            raise ConfigError(f"no rows found in {cfg.url!r}")
        return file_formats.schema_from_kinds(seen)

    def discover(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        cfg = parse_config(config)
        stream: dict[str, Any] = {
            "name": cfg.dataset_name,
            "json_schema": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": self.properties(cfg),
            },
            "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": False,
        }
        if cfg.cursor_field:
            stream["default_cursor_field"] = [cfg.cursor_field]
        return [stream]

    def read(
        self, config: dict[str, Any], catalog: dict[str, Any], state: list[dict[str, Any]]
    ) -> None:
        cfg = parse_config(config)
        saved = stream_states(state)
        for stream in configured_streams(catalog):
            if stream.name != cfg.dataset_name:
                raise ConfigError(
                    f"the catalog names stream {stream.name!r}; this source has only "
                    f"{cfg.dataset_name!r}"
                )
            properties = self._configured_properties(catalog, stream) or self.properties(cfg)
            self.out.stream_status(stream.name, "STARTED", stream.namespace)
            StreamReader(self, cfg, stream, properties, state_for(saved, stream)).run()
            self.out.stream_status(stream.name, "COMPLETE", stream.namespace)

    @staticmethod
    def _configured_properties(catalog: dict[str, Any], stream: ConfiguredStream) -> Any:
        for entry in catalog["streams"]:
            if entry["stream"]["name"] == stream.name:
                return (entry["stream"].get("json_schema") or {}).get("properties")
        return None


class StreamReader:
    """One stream's read: rows to RECORD lines, cursor filtering and checkpoints."""

    def __init__(
        self,
        source: SourceFile,
        config: Config,
        stream: ConfiguredStream,
        properties: dict[str, Any],
        saved: Any,
    ) -> None:
        self.out, self.config, self.stream = source.out, config, stream
        self.properties = properties
        cursor = stream.cursor_field[0] if stream.cursor_field else config.cursor_field
        if stream.incremental and not cursor:
            raise ConfigError(
                f"incremental sync of {stream.name!r} needs a cursor: set cursor_field in the "
                "configuration or in the configured catalog"
            )
        if cursor and cursor not in properties:
            raise ConfigError(f"cursor field {cursor!r} is not a column of {stream.name!r}")
        self.cursor: str = cursor or ""  # "" when there is none (full refresh)
        self.saved = None
        if stream.incremental and isinstance(saved, dict):
            self.saved = saved.get(cursor)

    def run(self) -> None:
        cfg, stream, out = self.config, self.stream, self.out
        head = b'{"type":"RECORD","record":{"stream":' + msgspec.json.encode(stream.name)
        if stream.namespace:
            head += b',"namespace":' + msgspec.json.encode(stream.namespace)
        head += b',"emitted_at":' + str(now_ms()).encode() + b',"data":'
        encode, write = msgspec.json.Encoder().encode, out.stream.write
        cursor, saved, incremental = self.cursor, self.saved, self.stream.incremental
        interval = cfg.state_checkpoint_interval
        largest, since, in_order = saved, 0, True
        for data, changes in self.rows():
            value = _comparable(data.get(cursor)) if cursor else None
            try:
                if incremental and saved is not None and (value is None or value <= saved):
                    continue  # read before (rows without a cursor value: on the first sync)
                if (
                    incremental
                    and since >= interval
                    and in_order
                    and value is not None
                    and largest is not None
                    and value > largest
                ):  # every row up to `largest` is out: a safe point to resume from
                    out.state(stream_state_message(stream, {cursor: largest}, since))
                    since = 0
                if value is not None:
                    if largest is not None and value < largest:
                        in_order = False
                    if largest is None or value > largest:
                        largest = value
            except TypeError:
                raise ConfigError(
                    f"cursor {cursor!r}: value {value!r} cannot be compared with {largest!r}"
                ) from None
            line = head + encode(data)
            if changes:
                line += b',"meta":{"changes":' + encode(changes) + b"}"
            write(line + b"}}\n")
            since += 1
        final = {cursor: largest} if cursor and largest is not None else {}
        out.state(stream_state_message(stream, final, since))

    def rows(self) -> Any:
        """(data, meta changes) per row of every file, typed by the stream's schema."""
        cfg, options = self.config, self.config.options()
        selected = set(self.properties)
        is_csv = cfg.format == "csv"
        converters = file_formats.column_converters(self.properties) if is_csv else {}
        nulls = cfg.nulls()
        for path in files(cfg):
            try:
                for row in file_formats.read_rows(path, cfg.format, options):
                    if not is_csv:
                        yield {k: v for k, v in row.items() if k in selected}, None
                        continue
                    data: dict[str, Any] = {}
                    changes: list[dict[str, str]] = []
                    for name, text in row.items():
                        if name not in selected:
                            continue
                        convert = converters.get(name)
                        if text in nulls:
                            data[name] = None
                        elif convert is None:
                            data[name] = text
                        else:
                            try:
                                data[name] = convert(text)
                            except (ValueError, KeyError):
                                data[name] = None
                                changes.append(
                                    {
                                        "field": name,
                                        "change": "NULLED",
                                        "reason": "SOURCE_SERIALIZATION_ERROR",
                                    }
                                )
                    yield data, changes
            except (OSError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
                raise ValueError(f"cannot read {path.name}: {exc}") from exc


SPEC: dict[str, Any] = {
    "documentationUrl": "https://docs.airbyte.com/integrations/sources/file",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "File Source Spec",
        "type": "object",
        "additionalProperties": True,
        "required": ["dataset_name", "format", "url", "provider"],
        "properties": {
            "dataset_name": {
                "type": "string",
                "title": "Dataset Name",
                "description": "The stream name (letters, numbers, dash and underscores).",
            },
            "format": {
                "type": "string",
                "enum": list(file_formats.FORMATS),
                "default": "csv",
                "title": "File Format",
            },
            "reader_options": {
                "type": "string",
                "title": "Reader Options",
                "description": "A JSON object as a string. CSV: sep, quotechar, escapechar, "
                "encoding, header (0 or null), names, skiprows, na_values. JSON: lines. "
                "Parquet/Feather: columns, batch_size. Excel: sheet_name (a name or 0-based "
                "index), header, names, skiprows.",
                "examples": ["{}", '{"sep": ";"}'],
            },
            "url": {
                "type": "string",
                "title": "URL",
                "description": "A path or glob under /local/ (the data root), e.g. "
                "/local/exports/*.csv.",
                "examples": ["/local/data.csv"],
            },
            "provider": {
                "type": "object",
                "title": "Storage Provider",
                "description": "Only the local filesystem is supported.",
                "default": {"storage": "local"},
                "oneOf": [
                    {
                        "title": "Local Filesystem (limited)",
                        "required": ["storage"],
                        "properties": {
                            "storage": {
                                "type": "string",
                                "const": "local",
                                "default": "local",
                                "description": "The url must start with /local/.",
                            }
                        },
                    }
                ],
            },
            "cursor_field": {
                "type": "string",
                "title": "Cursor Column",
                "description": "Default cursor for incremental syncs (rows whose value is "
                "greater than the saved state's are read).",
            },
            "state_checkpoint_interval": {
                "type": "integer",
                "minimum": 1,
                "default": 10000,
                "description": "Emit a state every N records while rows are in cursor order.",
            },
            "sample_rows": {
                "type": "integer",
                "minimum": 1,
                "default": 1000,
                "description": "Rows per file read by discover to infer column types.",
            },
        },
    },
}


def run() -> None:
    main(SourceFile)


if __name__ == "__main__":
    run()
