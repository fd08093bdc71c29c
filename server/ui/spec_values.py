"""A posted connector form back into a configuration, and the core's refusals shown next to
the fields they name (the form itself: server.ui.spec_form).

- `parse(fields, posted, previous)`: the configuration typed per the schema (integers, numbers,
  booleans, arrays, the chosen `oneOf` option only, its discriminator filled in), and the fields
  that could not be typed (a word in a number field, JSON that does not parse).
- `problems(spec, configuration, fields)`: the core's validation, as the API runs it
  (server.core.specs.configuration_problems), with a `oneOf` group's "not valid under any of
  the given schemas" replaced by what the chosen option refuses.
- `attach(fields, problems)`: each problem set on the field its path names; those that name no
  field come back as messages for the top of the form.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from server.core.errors import Problem
from server.core.specs import configuration_problems
from server.domain.secrets import MASK
from server.protocol import ConnectorSpecification
from server.ui.spec_form import CONFIG_PATH, SWITCH, Field, Path, Posted

__all__ = ["attach", "parse", "problems"]

_ABSENT = object()


class _Unreadable(ValueError):
    """A value that cannot be typed as its field says."""


def _sent(posted: Posted, name: str) -> list[str]:
    return list(posted.get(name, []))


def _last(posted: Posted, name: str) -> str:
    sent = _sent(posted, name)
    return sent[-1] if sent else ""


def _integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise _Unreadable("Enter a whole number.") from None


def _number(text: str) -> int | float:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise _Unreadable("Enter a number.") from None
    if not math.isfinite(value):
        raise _Unreadable("Enter a finite number.")
    return value


def _item(kind: str | None, text: str) -> Any:
    if kind == "integer":
        return _integer(text)
    if kind == "number":
        return _number(text)
    return text


def _picked(field: Field, sent: list[str]) -> list[Any]:
    by_value = {o.value: o.data for o in field.options if o.value != ""}
    return [by_value[s] for s in sent if s in by_value]


def _value(field: Field, posted: Posted, errors: dict[str, str]) -> Any:
    """The field's value, or _ABSENT when the form leaves it out of the configuration."""
    kind, text = field.kind, _last(posted, field.name)
    if kind == "choice":
        if field.chosen is None or not 0 <= field.chosen < len(field.choices):
            return _ABSENT
        option = field.choices[field.chosen]
        return {**option.constants, **_object(option.fields, posted, errors)}
    if kind == "object":
        if field.optional_object and not _sent(posted, f"{field.name}/{SWITCH}"):
            return _ABSENT
        return _object(field.children, posted, errors)
    if kind == "checkbox":
        return "true" in _sent(posted, field.name)
    if kind == "const":
        return field.constant
    if kind == "password":
        # Blank: keep the stored secret (the core puts it back for the mask) or leave it out.
        if not text:
            return MASK if field.kept else _ABSENT
        return _json(text) if field.items else text
    if kind == "multiselect":
        picked = _picked(field, _sent(posted, field.name))
        return picked if picked else _ABSENT
    if kind in ("select", "tristate"):
        picked = _picked(field, [text])
        return picked[0] if picked else _ABSENT
    if text.strip() == "":
        return _ABSENT
    if kind == "integer":
        return _integer(text)
    if kind == "number":
        return _number(text)
    if kind == "lines":
        return [_item(field.items, line.strip()) for line in text.splitlines() if line.strip()]
    if kind == "json":
        return _json(text)
    return text


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"Enter valid JSON ({exc.msg}, line {exc.lineno}).") from None


def _object(fields: list[Field], posted: Posted, errors: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for field in fields:
        try:
            value = _value(field, posted, errors)
        except _Unreadable as exc:
            errors[field.name] = str(exc)
            continue
        if value is not _ABSENT:
            found[str(field.path[-1])] = value
    return found


def parse(
    fields: list[Field], posted: Posted, previous: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The configuration the form describes (built from the same post: `spec_form.build(...,
    posted=posted)`) and the fields that could not be read (name -> message). On edit,
    `previous` is the masked configuration shown: keys the schema does not name are kept."""
    errors: dict[str, str] = {}
    configuration = _object(fields, posted, errors)
    named = {str(f.path[-1]) for f in fields}
    for key, value in (previous or {}).items():
        if key not in named:
            configuration[key] = value
    return configuration, errors


# ---- refusals next to their fields -----------------------------------------------------------

_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _parts(property_path: str) -> Path | None:
    """`connectionConfiguration.a.b[0]` -> ("a", "b", 0); None for another root."""
    if not property_path.startswith(CONFIG_PATH):
        return None
    rest = property_path[len(CONFIG_PATH) :]
    return tuple(
        m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _PART.finditer(rest)
    )


def _children(field: Field) -> list[Field]:
    if field.kind == "object":
        return field.children
    if field.kind == "choice" and field.chosen is not None and field.chosen < len(field.choices):
        return field.choices[field.chosen].fields
    return []


def _find(fields: list[Field], parts: Path) -> Field | None:
    """The deepest field on the path (an array item's problem goes to its array)."""
    found: Field | None = None
    level = fields
    for part in parts:
        match = next((f for f in level if f.path[-1] == part), None)
        if match is None:
            break
        found, level = match, _children(match)
    return found


def _at(configuration: Any, path: Path) -> Any:
    for part in path:
        configuration = configuration.get(part) if isinstance(configuration, dict) else None
    return configuration


def problems(
    spec: ConnectorSpecification, configuration: dict[str, Any], fields: list[Field]
) -> list[Problem]:
    """What the core's validation refuses in `configuration`; for a `oneOf` group, what the
    chosen option refuses (jsonschema only says that no option fits)."""
    found: list[Problem] = []
    for problem in configuration_problems(spec, configuration):
        parts = _parts(problem.property_path)
        field = _find(fields, parts) if parts is not None else None
        if field is None or field.kind != "choice" or field.path != parts or field.chosen is None:
            found.append(problem)
            continue
        option = field.choices[field.chosen]
        value = _at(configuration, field.path)
        if not isinstance(value, dict):
            found.append(problem)
            continue
        inner = configuration_problems(
            ConnectorSpecification(connectionSpecification=option.schema),
            value,
        )
        prefix = problem.property_path
        found += [
            Problem(prefix + p.property_path[len(CONFIG_PATH) :], p.invalid_value, p.message)
            for p in inner
        ] or [problem]
    return found


_REQUIRED = re.compile(r"^'.*' is a required property$")


def _message(problem: Problem) -> str:
    message = problem.message or "Invalid value."
    return "This field is required." if _REQUIRED.match(message) else message


def attach(fields: list[Field], refused: list[Problem]) -> list[str]:
    """Set each problem on its field (`error`); the messages of those naming no field."""
    loose: list[str] = []
    for problem in refused:
        parts = _parts(problem.property_path)
        field = _find(fields, parts) if parts else None
        if field is None:
            loose.append(problem.message or problem.property_path)
            continue
        message = _message(problem)
        field.error = message if field.error is None else f"{field.error} {message}"
    return loose


def errors_from(fields: list[Field], unreadable: dict[str, str]) -> None:
    """Set the messages `parse` found on their fields."""

    def walk(level: list[Field]) -> None:
        for field in level:
            if field.name in unreadable:
                field.error = unreadable[field.name]
            walk(field.children)
            for choice in field.choices:
                walk(choice.fields)

    walk(fields)
