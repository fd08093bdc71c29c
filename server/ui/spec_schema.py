"""JSON Schema reading for connector forms (server.ui.spec_form): local `$ref`s, a property's
type, `oneOf` groups of objects and their discriminators, Airbyte's `order`, examples."""

from __future__ import annotations

import json
from typing import Any


def resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s ("#/definitions/x"); a schema that is not an object gives {}."""
    for _ in range(32):
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if not (isinstance(ref, str) and ref.startswith("#/")):
            return schema
        node: Any = root
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            node = node.get(key) if isinstance(node, dict) else None
        schema = node
    return {}


def type_of(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(schema.get("properties"), dict):
        return "object"
    return kind if isinstance(kind, str) else None


def variants(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]] | None:
    for keyword in ("oneOf", "anyOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options:
            resolved = [resolve(o, root) for o in options]
            if all(type_of(o) == "object" for o in resolved):
                return resolved
    return None


def constant(schema: dict[str, Any]) -> tuple[bool, Any]:
    if "const" in schema:
        return True, schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return True, enum[0]
    return False, None


def constants(option: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """The option's discriminator fields (`const`, or an `enum` of one value)."""
    found: dict[str, Any] = {}
    for key, sub in (option.get("properties") or {}).items():
        is_constant, value = constant(resolve(sub, root))
        if is_constant:
            found[key] = value
    return found


def ordered(properties: dict[str, Any], root: dict[str, Any]) -> list[tuple[str, Any]]:
    """Properties by their `order` (as Airbyte's UI shows them); those without one after."""
    items = list(properties.items())

    def key(item: tuple[int, tuple[str, Any]]) -> tuple[int, float, int]:
        order = resolve(item[1][1], root).get("order")
        if isinstance(order, int | float) and not isinstance(order, bool):
            return (0, float(order), item[0])
        return (1, 0.0, item[0])

    return [item for _, item in sorted(enumerate(items), key=key)]


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def placeholder(schema: dict[str, Any]) -> str | None:
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return text(examples[0])
    if "example" in schema:
        return text(schema["example"])
    return None


def number(schema: dict[str, Any], key: str) -> int | float | None:
    value = schema.get(key)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def simple_items(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
    items = resolve(schema.get("items"), root)
    if "enum" in items or type_of(items) in ("string", "integer", "number"):
        return items
    return None
