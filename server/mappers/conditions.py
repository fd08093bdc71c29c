"""Row conditions of the `row-filtering` mapper: the JSON form and Sluice's text form.

JSON form (Airbyte's `EQUAL`, `NOT`, `AND`, `OR`; the rest are Sluice's):
`{"type": "EQUAL", "fieldName": "status", "comparisonValue": "active"}`,
`{"type": "NOT" | "AND" | "OR", "conditions": [...]}`, `NOT_EQUAL`, `GREATER_THAN`,
`GREATER_THAN_OR_EQUAL`, `LESS_THAN`, `LESS_THAN_OR_EQUAL` (same keys as EQUAL),
`{"type": "IN", "fieldName": ..., "comparisonValues": [...]}`, `{"type": "IS_NULL",
"fieldName": ...}`. NOT holds when none of its conditions does (Airbyte's rule).

The text form (`status = 'active' AND amount > 10`) is read by server.mappers.grammar.

Comparing: a text value compares with the field's value as text (Airbyte's EQUAL: 10 equals
'10'), a number as a number (a field holding text that reads as a number counts); a field
that is absent or null never compares (IS NULL finds it). `!=` is NOT `=`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

Value = str | int | float | bool
Predicate = Callable[[dict[str, Any]], bool]

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "EQUAL": operator.eq,
    "NOT_EQUAL": operator.ne,
    "GREATER_THAN": operator.gt,
    "GREATER_THAN_OR_EQUAL": operator.ge,
    "LESS_THAN": operator.lt,
    "LESS_THAN_OR_EQUAL": operator.le,
}
GROUPS = ("AND", "OR", "NOT")


class ConditionError(ValueError):
    """A condition that cannot be read; `position` is the 0-based offset in a text form."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        super().__init__(message)


@dataclass(frozen=True)
class Compare:
    op: str  # a COMPARISONS key
    field: str
    value: Value


@dataclass(frozen=True)
class In:
    field: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class IsNull:
    field: str


@dataclass(frozen=True)
class Group:
    op: str  # AND, OR, NOT
    conditions: tuple[Condition, ...]


Condition = Compare | In | IsNull | Group


def fields_of(condition: Condition) -> list[str]:
    """The field names a condition reads, in order."""
    if isinstance(condition, Group):
        return [f for c in condition.conditions for f in fields_of(c)]
    return [condition.field]


# --- the JSON form ------------------------------------------------------------------------


def _value(raw: Any, where: str) -> Value:
    if isinstance(raw, str | int | float | bool):
        return raw
    raise ConditionError(f"{where}: a text, number or boolean is required")


def _field(raw: dict[str, Any], where: str) -> str:
    name = raw.get("fieldName")
    if not isinstance(name, str) or not name:
        raise ConditionError(f"{where}: 'fieldName' (a field's name) is required")
    return name


def parse_json(raw: Any, where: str = "conditions") -> Condition:
    """A condition in the JSON form; ConditionError names where it is wrong."""
    if not isinstance(raw, dict):
        raise ConditionError(f"{where}: a condition is an object with a 'type'")
    kind = str(raw.get("type", "")).upper()
    if kind in GROUPS:
        items = raw.get("conditions")
        if not isinstance(items, list) or not items:
            raise ConditionError(f"{where}: {kind} needs a non-empty list 'conditions'")
        parts = tuple(parse_json(c, f"{where}.conditions[{i}]") for i, c in enumerate(items))
        return Group(kind, parts)
    if kind in COMPARISONS:
        if "comparisonValue" not in raw:
            raise ConditionError(f"{where}: {kind} needs a 'comparisonValue'")
        return Compare(kind, _field(raw, where), _value(raw["comparisonValue"], where))
    if kind == "IN":
        values = raw.get("comparisonValues")
        if not isinstance(values, list) or not values:
            raise ConditionError(f"{where}: IN needs a non-empty list 'comparisonValues'")
        return In(_field(raw, where), tuple(_value(v, where) for v in values))
    if kind == "IS_NULL":
        return IsNull(_field(raw, where))
    known = ", ".join([*COMPARISONS, "IN", "IS_NULL", *GROUPS])
    raise ConditionError(f"{where}: unknown condition type {raw.get('type')!r} (one of {known})")


# --- evaluation ---------------------------------------------------------------------------

_MISSING = object()
_encode = msgspec.json.encode
_decode = msgspec.json.decode
Raw = msgspec.Raw


def plain(value: Any) -> Any:
    """A record's value as Python: the relay hands mappers undecoded values (`msgspec.Raw`),
    decoded only when a mapper reads them."""
    return _decode(value) if type(value) is Raw else value


def as_text(value: Any) -> str:
    """A value as Airbyte's `asString()` reads it for comparing and hashing: text as it is,
    booleans `true`/`false`, numbers as written, objects and arrays as JSON."""
    if type(value) is str:
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _encode(value).decode()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _compare(op: str, field: str, target: Value) -> Predicate:
    check = COMPARISONS[op]
    if op == "NOT_EQUAL":
        equal = _compare("EQUAL", field, target)
        return lambda data: not equal(data)
    if isinstance(target, bool):
        wanted = as_text(target)  # only EQUAL (and NOT_EQUAL) mean something for a boolean

        def boolean(data: dict[str, Any]) -> bool:
            value = plain(data.get(field))
            return op == "EQUAL" and value is not None and as_text(value) == wanted

        return boolean
    if isinstance(target, str):
        text = target

        def textual(data: dict[str, Any]) -> bool:
            value = data.get(field, _MISSING)
            if type(value) is Raw:
                value = _decode(value)
            if value is _MISSING or value is None:
                return False
            return check(value if type(value) is str else as_text(value), text)

        return textual
    number = target

    def numeric(data: dict[str, Any]) -> bool:
        value = data.get(field)
        kind = type(value)
        if kind is Raw:
            value = plain(value)
            kind = type(value)
        if kind is not float and kind is not int:  # the common case skips a call
            value = _number(value)
            if value is None:
                return False
        return check(value, number)

    return numeric


def compile_condition(condition: Condition) -> Predicate:
    """The condition as one function of a record's data (built once per stream)."""
    if isinstance(condition, Compare):
        return _compare(condition.op, condition.field, condition.value)
    if isinstance(condition, In):
        options = [_compare("EQUAL", condition.field, v) for v in condition.values]
        return lambda data: any(option(data) for option in options)
    if isinstance(condition, IsNull):
        name = condition.field
        return lambda data: plain(data.get(name)) is None
    parts = [compile_condition(c) for c in condition.conditions]
    if condition.op == "AND":
        return lambda data: all(part(data) for part in parts)
    if condition.op == "OR":
        return lambda data: any(part(data) for part in parts)
    if len(parts) == 1:
        only = parts[0]
        return lambda data: not only(data)
    return lambda data: not any(part(data) for part in parts)


def compile_filter(condition: Condition) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """A row filter's step: the record's data if the condition holds, else None. A numeric
    comparison (the common filter) is one function; others call their predicate."""
    if isinstance(condition, Compare) and condition.op != "NOT_EQUAL":
        target = condition.value
        if isinstance(target, int | float) and not isinstance(target, bool):
            return _numeric_filter(condition.field, COMPARISONS[condition.op], target)
    keep = compile_condition(condition)
    return lambda data: data if keep(data) else None


def _numeric_filter(
    field: str, check: Callable[[Any, Any], bool], number: float
) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    def numeric_filter(data: dict[str, Any]) -> dict[str, Any] | None:
        value: Any = data.get(field)
        kind = type(value)
        if kind is Raw:
            value = _decode(value)
            kind = type(value)
        if kind is not float and kind is not int:
            value = _number(value)
            if value is None:
                return None
        return data if check(value, number) else None

    return numeric_filter
