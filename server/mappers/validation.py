"""What a stream's fields become through its mappers, and what is wrong with them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from server.mappers.conditions import fields_of
from server.mappers.configs import (
    FIELD_ALREADY_EXISTS,
    FIELD_NOT_FOUND,
    INVALID_MAPPER_CONFIG,
    Encryption,
    FieldFilter,
    FieldNameTransform,
    Hashing,
    Renaming,
    RowFilter,
    Spec,
    SpecError,
    ValueTransform,
    entries,
    parse_mapper,
    selected_names,
)


class FieldSpec(msgspec.Struct, rename="camel", kw_only=True):
    """Airbyte's FieldSpec: a top-level field and its FieldType (STRING, NUMBER, INTEGER,
    BOOLEAN, DATE, TIMESTAMP_WITH_TIMEZONE, TIMESTAMP_WITHOUT_TIMEZONE, TIME_WITH_TIMEZONE,
    TIME_WITHOUT_TIMEZONE, OBJECT, ARRAY, MULTI, UNKNOWN)."""

    name: str
    type: str


class MapperError(msgspec.Struct, rename="camel", kw_only=True):
    """Airbyte's MapperValidationError. `type`: FIELD_NOT_FOUND, FIELD_ALREADY_EXISTS,
    INVALID_MAPPER_CONFIG or MISSING_MAPPER (an unknown mapper type)."""

    type: str
    message: str


class MapperValidation(msgspec.Struct, rename="camel", kw_only=True):
    """Airbyte's MapperValidationResult: one mapper of `mappers`, the fields it gets and
    gives (a failed mapper gives what it got: it is skipped, as Airbyte does)."""

    id: str | None = None
    type: str
    mapper_configuration: dict[str, Any]
    input_fields: list[FieldSpec]
    output_fields: list[FieldSpec]
    validation_error: MapperError | None = None


class Problem(msgspec.Struct, kw_only=True):
    """One reason a configuration cannot be saved. `path` is where, in the stream's config:
    `selectedFields`, `hashedFields[0]`, `mappers[2]`, `mappers[2].mapperConfiguration.key`...;
    `mapper_id`/`mapper_type` name the mapper (None for the field selection)."""

    path: str
    mapper_id: str | None
    mapper_type: str | None
    type: str  # a MapperError type
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class StreamValidation(msgspec.Struct, kw_only=True):
    """The result of `validate_stream`.

    `initial_fields`: the stream's fields (after the field selection, which is not a mapper
    in Airbyte's reply); `mappers`: one result per entry of `hashedFields` then `mappers`;
    `output_fields`: what the destination gets; `json_schema`, `cursor_field`, `primary_key`:
    the mapped ones. `problems`: every reason not to save it (empty when it is fine)."""

    initial_fields: list[FieldSpec]
    mappers: list[MapperValidation]
    output_fields: list[FieldSpec]
    json_schema: dict[str, Any]
    cursor_field: list[str]
    primary_key: list[list[str]]
    problems: list[Problem]


def field_type(schema: Any) -> str:
    """Airbyte's FieldType of a property's JSON schema."""
    if not isinstance(schema, dict):
        return "UNKNOWN"
    raw = schema.get("type")
    types = [t for t in (raw if isinstance(raw, list) else [raw]) if t not in (None, "null")]
    if len(types) > 1 or (not types and ("oneOf" in schema or "anyOf" in schema)):
        return "MULTI"
    if not types:
        return "UNKNOWN"
    kind, fmt, airbyte = types[0], schema.get("format"), schema.get("airbyte_type")
    if kind == "string":
        if fmt == "date":
            return "DATE"
        if fmt in ("date-time", "time"):
            base = "TIMESTAMP" if fmt == "date-time" else "TIME"
            local = airbyte in ("timestamp_without_timezone", "time_without_timezone")
            return f"{base}_WITHOUT_TIMEZONE" if local else f"{base}_WITH_TIMEZONE"
        return "STRING"
    if kind == "number":
        return "INTEGER" if airbyte == "integer" else "NUMBER"
    simple = {"integer": "INTEGER", "boolean": "BOOLEAN", "object": "OBJECT", "array": "ARRAY"}
    return simple.get(kind, "UNKNOWN")


STRING_SCHEMA: dict[str, Any] = {"type": "string"}  # hashed or encrypted: Airbyte's STRING


@dataclass
class Slim:
    """The part of a stream mappers change (as Airbyte's SlimStream): its top-level fields
    in order, each with its type and JSON schema, the cursor and the primary key."""

    fields: dict[str, tuple[str, Any]]  # name -> (FieldType, property schema)
    cursor: list[str]
    primary_key: list[list[str]]

    def copy(self) -> Slim:
        return Slim(dict(self.fields), list(self.cursor), [list(k) for k in self.primary_key])

    def field_specs(self) -> list[FieldSpec]:
        return [FieldSpec(name=n, type=t) for n, (t, _) in self.fields.items()]

    def require(self, name: str) -> None:
        if name not in self.fields:
            raise SpecError(FIELD_NOT_FOUND, f"field '{name}' not found in the stream")

    def role(self, name: str) -> str | None:
        """'cursor' / 'primary key' if the field is (the head of) one."""
        if self.cursor[:1] == [name]:
            return "cursor"
        if any(key[:1] == [name] for key in self.primary_key):
            return "primary key"
        return None

    def redefine(self, old: str, new: str, type: str | None = None, schema: Any = None) -> None:
        """Rename (and retype) a field in place, the cursor and key following it."""
        self.require(old)
        if new != old and new in self.fields:
            raise SpecError(FIELD_ALREADY_EXISTS, f"field '{new}' already exists in the stream")
        current_type, current_schema = self.fields[old]
        entry = (type or current_type, current_schema if schema is None else schema)
        self.fields = {
            (new if n == old else n): (entry if n == old else v) for n, v in self.fields.items()
        }
        if self.cursor == [old]:
            self.cursor = [new]
        self.primary_key = [[new] if key == [old] else key for key in self.primary_key]


def _apply(spec: Spec, stream: Slim) -> Slim:
    """The stream after one mapper; SpecError if the mapper cannot apply to it."""
    out = stream.copy()
    if isinstance(spec, Hashing):
        out.redefine(spec.target, spec.target + spec.suffix, "STRING", STRING_SCHEMA)
    elif isinstance(spec, Encryption):
        out.require(spec.target)
        role = out.role(spec.target)
        if role:
            raise SpecError(
                INVALID_MAPPER_CONFIG,
                f"field '{spec.target}' is the stream's {role}: encrypted values (a random IV "
                "or padding each time) could no longer identify or order records",
            )
        out.redefine(spec.target, spec.target + spec.suffix, "STRING", STRING_SCHEMA)
    elif isinstance(spec, Renaming):
        out.redefine(spec.old, spec.new)
    elif isinstance(spec, FieldFilter):
        out.require(spec.target)
        role = out.role(spec.target)
        if role:
            raise SpecError(
                INVALID_MAPPER_CONFIG,
                f"field '{spec.target}' is the stream's {role} and cannot be removed",
            )
        del out.fields[spec.target]
    elif isinstance(spec, RowFilter | ValueTransform):
        names = fields_of(spec.condition) if isinstance(spec, RowFilter) else [spec.target]
        for name in names:
            out.require(name)
    elif isinstance(spec, FieldNameTransform):
        renamed = {n: spec.pattern.sub(spec.replacement, n) for n in out.fields}
        seen: dict[str, str] = {}
        for old, new in renamed.items():
            if not new:
                raise SpecError(INVALID_MAPPER_CONFIG, f"field '{old}' would have no name")
            if new in seen:
                raise SpecError(
                    FIELD_ALREADY_EXISTS,
                    f"fields '{seen[new]}' and '{old}' would both be named '{new}'",
                )
            seen[new] = old
        for old, new in renamed.items():
            if old != new:
                out.fields = {(new if n == old else n): v for n, v in out.fields.items()}
        out.cursor = (
            [renamed.get(out.cursor[0], out.cursor[0]), *out.cursor[1:]] if out.cursor else []
        )
        out.primary_key = [[renamed.get(k[0], k[0]), *k[1:]] if k else k for k in out.primary_key]
    return out


def _clash(spec: Spec, stream: Slim) -> str | None:
    """The field of the stream a mapper of a field the stream lacks would write over, should
    a record carry the lost field (a hashed value, a renamed field): None if none."""
    if isinstance(spec, Hashing | Encryption):
        written, source = spec.target + spec.suffix, spec.target
    elif isinstance(spec, Renaming):
        written, source = spec.new, spec.old
    else:
        return None
    return written if written != source and written in stream.fields else None


def _output_schema(original: dict[str, Any], stream: Slim) -> dict[str, Any]:
    schema = {k: v for k, v in original.items() if k not in ("properties", "required")}
    schema.setdefault("type", "object")
    schema["properties"] = {name: prop for name, (_, prop) in stream.fields.items()}
    return schema


def validate_stream(
    json_schema: dict[str, Any],
    config: dict[str, Any],
    cursor_field: list[str] | None,
    primary_key: list[list[str]] | None,
) -> StreamValidation:
    """Validate a stream's selection and mappers against its JSON schema (see the package's
    docstring for the configuration); never raises for bad input.

    `cursor_field` and `primary_key` are the configured stream's (protocol form): the field
    selection always keeps them, and no mapper may remove or encrypt them."""
    validation, _ = check_stream(json_schema, config, cursor_field, primary_key)
    return validation


def check_stream(
    json_schema: dict[str, Any],
    config: dict[str, Any],
    cursor_field: list[str] | None,
    primary_key: list[list[str]] | None,
    tolerate_missing: bool = False,
) -> tuple[StreamValidation, list[Spec]]:
    """`validate_stream`, and the specs of the mappers that apply (for `compile_stream`).
    `tolerate_missing`: a mapper whose field the schema no longer has (FIELD_NOT_FOUND,
    still a problem) is among the specs too: the schema is as if it were not there, and
    in the relay it acts on the records that carry the field."""
    properties = json_schema.get("properties") if isinstance(json_schema, dict) else None
    props: dict[str, Any] = properties if isinstance(properties, dict) else {}
    cursor = list(cursor_field or [])
    keys = [list(k) for k in primary_key or [] if k]
    problems: list[Problem] = []
    names, selection_problems = selected_names(config)
    for path, message in selection_problems:
        problems.append(
            Problem(
                path=path,
                mapper_id=None,
                mapper_type=None,
                type=INVALID_MAPPER_CONFIG,
                message=message,
            )
        )
    fields = {n: (field_type(p), p) for n, p in props.items()}
    if names is not None:
        for i, name in enumerate(names):
            if name not in fields:
                message = f"selected field '{name}' not found in the stream"
                problems.append(
                    Problem(
                        path=f"selectedFields[{i}]",
                        mapper_id=None,
                        mapper_type=None,
                        type=FIELD_NOT_FOUND,
                        message=message,
                    )
                )
        kept = set(names) | set(cursor[:1]) | {k[0] for k in keys}
        fields = {n: v for n, v in fields.items() if n in kept}
    stream = Slim(fields, cursor, keys)
    initial = stream.field_specs()
    results: list[MapperValidation] = []
    specs: list[Spec] = []
    for path, raw in entries(config):
        before = stream.field_specs()
        entry = raw if isinstance(raw, dict) else {}
        ident = entry.get("id") if isinstance(entry.get("id"), str) else None
        kind = str(entry.get("type", ""))
        conf = entry.get("mapperConfiguration")
        error = None
        spec: Spec | None = None
        try:
            spec = parse_mapper(path, raw)
            stream = _apply(spec, stream)
            specs.append(spec)
        except SpecError as exc:
            problem_type, message = exc.type, str(exc)
            if spec is not None and tolerate_missing and problem_type == FIELD_NOT_FOUND:
                clash = _clash(spec, stream)
                if clash is None:
                    specs.append(spec)
                else:  # tolerated, it could write over a field: refused as a clash
                    problem_type = FIELD_ALREADY_EXISTS
                    message += f", and the field '{clash}' it writes is one the stream has"
            error = MapperError(type=problem_type, message=message)
            problems.append(
                Problem(
                    path=path,
                    mapper_id=ident,
                    mapper_type=kind or None,
                    type=problem_type,
                    message=message,
                )
            )
        results.append(
            MapperValidation(
                id=ident,
                type=kind,
                mapper_configuration=conf if isinstance(conf, dict) else {},
                input_fields=before,
                output_fields=stream.field_specs(),
                validation_error=error,
            )
        )
    validation = StreamValidation(
        initial_fields=initial,
        mappers=results,
        output_fields=stream.field_specs(),
        json_schema=_output_schema(json_schema if isinstance(json_schema, dict) else {}, stream),
        cursor_field=stream.cursor,
        primary_key=stream.primary_key,
        problems=problems,
    )
    return validation, specs
