"""Connector forms drawn from a connector's spec (`connectionSpecification`, JSON Schema draft 7
as Airbyte specs use it), and the posted form turned back into a configuration.

`build` turns the schema (with the current values, or the fields just posted) into `Field`s the
form macros (templates/forms/) render: strings, numbers, booleans, enums as selects, arrays of
simple values one per line, nested objects as fieldsets, `oneOf` groups as a choice of
sub-forms (Airbyte's style: each option an object told apart by a `const` or one-value `enum`
field, which is not shown and is filled in on the way back), anything else as JSON text.

server.ui.spec_values reads the posted fields back into a configuration typed per the schema
(only the chosen `oneOf` option, only optional objects the user switched on, empty inputs left
out) and puts the core's refusals next to their fields. Secrets (`airbyte_secret`) are password
inputs never filled in: on edit a blank one sends the mask back, and the core keeps the stored
value (server.domain.secrets.restore).

Field names are paths: `config/<key>/<key>`, a `oneOf` option's fields under `<group>/@<index>`,
the chosen index in `<group>/@`, an optional object's switch in `<name>/?`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from server.ui import spec_schema as schemas

PREFIX = "config"
CHOSEN = "@"  # segment holding the chosen option's index
SWITCH = "?"  # segment of an optional object's "set it" checkbox
CONFIG_PATH = "connectionConfiguration"

Kind = Literal[
    "text",
    "textarea",
    "password",
    "integer",
    "number",
    "checkbox",
    "tristate",
    "select",
    "multiselect",
    "lines",
    "json",
    "object",
    "choice",
    "const",
]
Path = tuple[str | int, ...]
Posted = Mapping[str, Sequence[str]]


@dataclass
class Option:
    value: str  # as posted
    label: str
    selected: bool = False
    data: Any = None  # the schema's value it stands for


@dataclass
class Choice:
    """One option of a `oneOf` group: its own fields, and the discriminator it fills in."""

    index: int
    label: str
    description: str | None
    fields: list[Field]
    schema: dict[str, Any]
    constants: dict[str, Any]


@dataclass
class Field:
    name: str  # the posted name (a path, see the module docstring)
    path: Path  # where its value sits in the configuration
    kind: Kind
    label: str
    description: str | None = None
    required: bool = False
    value: str = ""  # as the input shows it; never a secret's value
    checked: bool = False  # checkbox; an optional object's switch
    placeholder: str | None = None
    options: list[Option] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)  # object
    choices: list[Choice] = field(default_factory=list)  # choice
    chosen: int | None = None  # choice: the option shown, None: not set
    optional_object: bool = False  # an object the user may leave unset (the switch)
    kept: bool = False  # a secret with a stored value (blank keeps it)
    pattern: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    # lines: the items' type (string, integer, number); a secret that is not a string: its type
    items: str | None = None
    constant: Any = None  # const: the value, filled in, not shown
    error: str | None = None

    @property
    def id(self) -> str:
        """An HTML id: the name with every character but letters, digits, - and _ escaped."""
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", lambda m: f"_{ord(m.group()):x}_", self.name)


# ---- building the form -------------------------------------------------------------------


class _Builder:
    """Walks the schema once. `current` is the value at the level being built (None: nothing
    stored there); `defaults`: show the schema's defaults where nothing is stored."""

    def __init__(self, root: dict[str, Any], posted: Posted | None, editing: bool) -> None:
        self.root = root
        self.posted = posted
        self.editing = editing

    def sent(self, name: str) -> list[str]:
        return [] if self.posted is None else list(self.posted.get(name, []))

    def fields(
        self,
        schema: dict[str, Any],
        name: str,
        path: Path,
        current: Any,
        defaults: bool,
        skip: frozenset[str] = frozenset(),
    ) -> list[Field]:
        required = set(schema.get("required") or [])
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return []
        values = current if isinstance(current, dict) else {}
        return [
            self.field(
                schemas.resolve(sub, self.root),
                f"{name}/{_escape(key)}",
                (*path, key),
                key,
                key in required,
                values.get(key),
                defaults,
            )
            for key, sub in schemas.ordered(properties, self.root)
            if key not in skip
        ]

    def field(
        self,
        schema: dict[str, Any],
        name: str,
        path: Path,
        key: str,
        required: bool,
        current: Any,
        defaults: bool,
    ) -> Field:
        description = schema.get("description")
        made = Field(
            name=name,
            path=path,
            kind="json",
            label=str(schema.get("title") or key),
            description=description if isinstance(description, str) else None,
            required=required,
            placeholder=schemas.placeholder(schema),
        )
        shown = current
        if shown is None and defaults and schema.get("airbyte_secret") is not True:
            shown = schema.get("default")
        variants = schemas.variants(schema, self.root)
        kind = schemas.type_of(schema)
        if variants is None and "const" in schema:
            made.kind, made.constant = "const", schema["const"]
        elif variants is None and schema.get("airbyte_secret") is True:
            made.kind = "password"  # never filled in; on edit, blank keeps the stored value
            made.kept = self.editing and current is not None
            made.items = kind if kind not in (None, "string") else None  # typed as JSON
        elif variants is not None:
            self._choice(made, variants, shown, defaults)
        elif "enum" in schema and isinstance(schema["enum"], list):
            self._select(made, schema["enum"], shown, multiple=False)
        elif kind == "object" and isinstance(schema.get("properties"), dict):
            made.kind = "object"
            made.optional_object = not required
            made.checked = required or isinstance(shown, dict)
            made.children = self.fields(schema, name, path, shown, defaults or shown is None)
        elif kind == "array" and (items := schemas.simple_items(schema, self.root)) is not None:
            if isinstance(items.get("enum"), list):
                self._select(made, items["enum"], shown, multiple=True)
            else:
                made.kind = "lines"
                made.items = schemas.type_of(items) or "string"
                made.value = (
                    "\n".join(schemas.text(v) for v in shown) if isinstance(shown, list) else ""
                )
        elif kind == "string":
            self._string(made, schema, shown)
        elif kind in ("integer", "number"):
            made.kind = "integer" if kind == "integer" else "number"
            made.value = schemas.text(shown)
            made.minimum, made.maximum = (
                schemas.number(schema, "minimum"),
                schemas.number(schema, "maximum"),
            )
        elif kind == "boolean":
            self._boolean(made, schema, shown)
        else:
            made.value = "" if shown is None else json.dumps(shown, indent=2)
        if self.posted is not None:
            self._from_posted(made)
        return made

    def _string(self, made: Field, schema: dict[str, Any], shown: Any) -> None:
        made.kind = "textarea" if schema.get("multiline") is True else "text"
        made.value = schemas.text(shown)
        pattern, low, high = schema.get("pattern"), schema.get("minLength"), schema.get("maxLength")
        made.pattern = pattern if isinstance(pattern, str) else None
        made.min_length = low if isinstance(low, int) else None
        made.max_length = high if isinstance(high, int) else None

    def _boolean(self, made: Field, schema: dict[str, Any], shown: Any) -> None:
        if made.required or "default" in schema:
            made.kind = "checkbox"
            made.checked = shown is True
            return
        made.kind = "tristate"  # unset, yes or no: an unticked box would always say "no"
        picked = "" if shown is None else schemas.text(shown)
        made.options = [
            Option(value, label, value == picked, data)
            for value, label, data in (
                ("", "Not set", None),
                ("true", "Yes", True),
                ("false", "No", False),
            )
        ]

    def _select(self, made: Field, enum: list[Any], shown: Any, multiple: bool) -> None:
        made.kind = "multiselect" if multiple else "select"
        if multiple:
            picked = {schemas.text(v) for v in shown} if isinstance(shown, list) else set()
        else:
            picked = {schemas.text(shown)} if shown is not None else {""}
            made.options.append(Option("", "Choose…" if made.required else "Not set"))
        made.options += [Option(schemas.text(v), schemas.text(v), data=v) for v in enum]
        for option in made.options:
            option.selected = option.value in picked

    def _choice(
        self, made: Field, variants: list[dict[str, Any]], shown: Any, defaults: bool
    ) -> None:
        made.kind = "choice"
        for index, option in enumerate(variants):
            constants = schemas.constants(option, self.root)
            matches = isinstance(shown, dict) and _matches(shown, constants)
            if matches and made.chosen is None:
                made.chosen = index
            # The other options start from their defaults (and hold no stored secret).
            editing, self.editing = self.editing, self.editing and matches
            fields = self.fields(
                option,
                f"{made.name}/{CHOSEN}{index}",
                made.path,
                shown if matches else None,
                defaults or not matches,
                frozenset(constants),
            )
            self.editing = editing
            description = option.get("description")
            made.choices.append(
                Choice(
                    index,
                    _label(option, index),
                    description if isinstance(description, str) else None,
                    fields,
                    option,
                    constants,
                )
            )
        if made.chosen is None and made.required and made.choices:
            made.chosen = 0

    def _from_posted(self, made: Field) -> None:
        """After a post: show what was sent (a secret never)."""
        if made.kind == "choice":
            chosen = self.sent(f"{made.name}/{CHOSEN}")[-1:]
            made.chosen = int(chosen[0]) if chosen and chosen[0].isdigit() else None
        elif made.kind == "object":
            made.checked = made.required or bool(self.sent(f"{made.name}/{SWITCH}"))
        elif made.kind == "checkbox":
            made.checked = "true" in self.sent(made.name)
        elif made.kind in ("select", "tristate", "multiselect"):
            sent = set(self.sent(made.name) or [""])
            for option in made.options:
                option.selected = option.value in sent
        elif made.kind not in ("password", "const"):
            made.value = (self.sent(made.name) or [""])[-1]


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _label(option: dict[str, Any], index: int) -> str:
    return str(option.get("title") or f"Option {index + 1}")


def _matches(value: dict[str, Any], constants: dict[str, Any]) -> bool:
    return bool(constants) and all(value.get(k) == v for k, v in constants.items())


def build(
    schema: dict[str, Any],
    values: dict[str, Any] | None = None,
    posted: Posted | None = None,
    editing: bool = False,
) -> list[Field]:
    """The form of a connection specification, showing the fields just `posted` if any, else
    `values` (a masked configuration on edit: fields it lacks stay empty), else the schema's
    defaults. `editing`: secrets `values` holds are "kept" (blank keeps them)."""
    root = schemas.resolve(schema, schema)
    defaults = values is None and posted is None  # a new form
    return _Builder(root, posted, editing).fields(root, PREFIX, (), values, defaults)
