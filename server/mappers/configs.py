"""A stream's configuration (the API's JSON names), parsed into typed mapper specs.

`entries(config)` lists the mappers in the order they apply (`hashedFields`, then `mappers`),
each with where it sits in the configuration; `parse_mapper` turns one into its spec or raises
`SpecError` (an Airbyte MapperValidationError type and a message). The field selection is not
a mapper: `selected_names` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from server.mappers.conditions import Condition, ConditionError, parse_json
from server.mappers.crypto import CipherError, Encrypt, aes_encrypter, rsa_encrypter
from server.mappers.grammar import parse_text

MAPPER_TYPES = (
    "hashing",
    "field-renaming",
    "row-filtering",
    "encryption",
    "field-filtering",
    "value-transform",  # Sluice's
    "field-name-transform",  # Sluice's
)

# Keys of a mapper's `mapperConfiguration` that are secrets (masked in replies, encrypted at
# rest), by mapper type.
SECRET_CONFIG_KEYS: dict[str, tuple[str, ...]] = {"encryption": ("key",)}

HASH_METHODS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-224": "sha224",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
VALUE_OPERATIONS = ("UPPERCASE", "LOWERCASE", "REPLACE")

# Airbyte's MapperValidationError types.
FIELD_NOT_FOUND = "FIELD_NOT_FOUND"
FIELD_ALREADY_EXISTS = "FIELD_ALREADY_EXISTS"
INVALID_MAPPER_CONFIG = "INVALID_MAPPER_CONFIG"
MISSING_MAPPER = "MISSING_MAPPER"


class MapperConfigError(ValueError):
    """A stream's mapper configuration that cannot be applied; `problems` says why (the
    `Problem`s of `validate_stream`)."""

    def __init__(self, problems: list[Any]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class SpecError(ValueError):
    """One mapper that cannot be applied: `type` is an Airbyte MapperValidationError type."""

    def __init__(self, type: str, message: str) -> None:
        self.type = type
        super().__init__(message)


@dataclass(frozen=True)
class Spec:
    """What every mapper has: where it is (`mappers[2]`), its id, type and configuration."""

    path: str
    id: str | None
    type: str
    configuration: dict[str, Any]


@dataclass(frozen=True)
class Hashing(Spec):
    target: str
    method: str  # a hashlib name
    suffix: str


@dataclass(frozen=True)
class Renaming(Spec):
    old: str
    new: str


@dataclass(frozen=True)
class RowFilter(Spec):
    condition: Condition


@dataclass(frozen=True)
class Encryption(Spec):
    target: str
    suffix: str
    encrypt: Encrypt


@dataclass(frozen=True)
class FieldFilter(Spec):
    target: str


@dataclass(frozen=True)
class ValueTransform(Spec):
    target: str
    operation: str  # UPPERCASE, LOWERCASE, REPLACE
    find: re.Pattern[str] | str
    replacement: str


@dataclass(frozen=True)
class FieldNameTransform(Spec):
    pattern: re.Pattern[str]
    replacement: str


def _text(conf: dict[str, Any], key: str, default: str | None = None, empty: bool = False) -> str:
    value = conf.get(key, default)
    if value is None:
        raise SpecError(INVALID_MAPPER_CONFIG, f"'{key}' is required")
    if not isinstance(value, str) or (not value and not empty):
        raise SpecError(INVALID_MAPPER_CONFIG, f"'{key}' must be a non-empty text")
    return value


def _field_path(item: Any) -> list[str] | None:
    path = item.get("fieldPath") if isinstance(item, dict) else None
    if isinstance(path, list) and path and all(isinstance(p, str) for p in path):
        return path
    return None


def entries(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """The mappers of a stream's configuration in the order they apply, with their paths:
    each `hashedFields` entry as a SHA-256 `hashing` mapper (Airbyte's reading), then
    `mappers`."""
    found: list[tuple[str, Any]] = []
    hashed = config.get("hashedFields") or []
    for i, item in enumerate(hashed if isinstance(hashed, list) else [hashed]):
        path = _field_path(item)
        target: Any = path[0] if path and len(path) == 1 else item
        found.append(
            (
                f"hashedFields[{i}]",
                {"type": "hashing", "mapperConfiguration": {"targetField": target}},
            )
        )
    mappers = config.get("mappers") or []
    for i, item in enumerate(mappers if isinstance(mappers, list) else [mappers]):
        found.append((f"mappers[{i}]", item))
    return found


def selected_names(config: dict[str, Any]) -> tuple[list[str] | None, list[tuple[str, str]]]:
    """The selected top-level field names (None: no selection), and problems as (path,
    message) for entries that are not a top-level field path."""
    if not config.get("fieldSelectionEnabled"):
        return None, []
    names: list[str] = []
    problems: list[tuple[str, str]] = []
    items = config.get("selectedFields") or []
    for i, item in enumerate(items if isinstance(items, list) else [items]):
        path = _field_path(item)
        if path is None:
            problems.append((f"selectedFields[{i}]", "a selected field is {fieldPath: [name]}"))
        elif len(path) > 1:
            problems.append(
                (f"selectedFields[{i}]", "only top-level fields can be selected (as Airbyte)")
            )
        else:
            names.append(path[0])
    return names, problems


def parse_mapper(path: str, raw: Any) -> Spec:
    """One entry of `mappers` as its spec; SpecError says what is wrong with it."""
    if not isinstance(raw, dict):
        raise SpecError(INVALID_MAPPER_CONFIG, "a mapper is {type, mapperConfiguration}")
    kind = raw.get("type")
    ident = raw.get("id") if isinstance(raw.get("id"), str) else None
    conf = raw.get("mapperConfiguration")
    if conf is None:
        conf = {}
    if not isinstance(conf, dict):
        raise SpecError(INVALID_MAPPER_CONFIG, "'mapperConfiguration' must be an object")
    if kind not in MAPPER_TYPES:
        raise SpecError(
            MISSING_MAPPER,
            f"unknown mapper type {kind!r} (one of {', '.join(MAPPER_TYPES)})",
        )
    base = {"path": path, "id": ident, "type": kind, "configuration": conf}
    if kind == "hashing":
        method = _text(conf, "method", "SHA-256")
        if method.upper() not in HASH_METHODS:
            raise SpecError(
                INVALID_MAPPER_CONFIG,
                f"unsupported hashing method {method!r} (one of {', '.join(HASH_METHODS)})",
            )
        return Hashing(
            **base,
            target=_text(conf, "targetField"),
            method=HASH_METHODS[method.upper()],
            suffix=_text(conf, "fieldNameSuffix", "_hashed", empty=True),
        )
    if kind == "field-renaming":
        return Renaming(
            **base, old=_text(conf, "originalFieldName"), new=_text(conf, "newFieldName")
        )
    if kind == "row-filtering":
        return RowFilter(**base, condition=_condition(conf))
    if kind == "encryption":
        return _encryption(base, conf)
    if kind == "field-filtering":
        return FieldFilter(**base, target=_text(conf, "targetField"))
    if kind == "value-transform":
        return _value_transform(base, conf)
    pattern = _text(conf, "pattern")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        message = f"'pattern' is not a regular expression: {exc}"
        raise SpecError(INVALID_MAPPER_CONFIG, message) from exc
    return FieldNameTransform(
        **base, pattern=compiled, replacement=_text(conf, "replacement", "", empty=True)
    )


def _condition(conf: dict[str, Any]) -> Condition:
    try:
        if "expression" in conf:
            expression = conf["expression"]
            if not isinstance(expression, str):
                raise ConditionError("'expression' must be a text")
            return parse_text(expression)
        if "conditions" not in conf:
            raise ConditionError("'conditions' (or Sluice's 'expression') is required")
        return parse_json(conf["conditions"])
    except ConditionError as exc:
        raise SpecError(INVALID_MAPPER_CONFIG, f"bad condition: {exc}") from exc


def _encryption(base: dict[str, Any], conf: dict[str, Any]) -> Encryption:
    algorithm = str(conf.get("algorithm", "")).upper()
    target = _text(conf, "targetField")
    suffix = _text(conf, "fieldNameSuffix", "_encrypted", empty=True)
    try:
        if algorithm == "RSA":
            encrypt = rsa_encrypter(_text(conf, "publicKey"))
        elif algorithm == "AES":
            mode = str(conf.get("mode", "CBC")).upper()
            padding = str(conf.get("padding", "PKCS5Padding"))
            encrypt = aes_encrypter(_text(conf, "key"), mode, padding)
        else:
            raise SpecError(INVALID_MAPPER_CONFIG, "'algorithm' must be RSA or AES")
    except CipherError as exc:
        raise SpecError(INVALID_MAPPER_CONFIG, f"bad key: {exc}") from exc
    return Encryption(**base, target=target, suffix=suffix, encrypt=encrypt)


def _value_transform(base: dict[str, Any], conf: dict[str, Any]) -> ValueTransform:
    operation = str(conf.get("operation", "")).upper()
    if operation not in VALUE_OPERATIONS:
        raise SpecError(
            INVALID_MAPPER_CONFIG, f"'operation' must be one of {', '.join(VALUE_OPERATIONS)}"
        )
    find: re.Pattern[str] | str = ""
    replacement = ""
    if operation == "REPLACE":
        find = _text(conf, "find")
        replacement = _text(conf, "replacement", "", empty=True)
        if conf.get("regex"):
            try:
                find = re.compile(find)
            except re.error as exc:
                raise SpecError(
                    INVALID_MAPPER_CONFIG, f"'find' is not a regular expression: {exc}"
                ) from exc
    return ValueTransform(
        **base,
        target=_text(conf, "targetField"),
        operation=operation,
        find=find,
        replacement=replacement,
    )
