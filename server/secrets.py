"""Secrets in connector configurations: the fields a spec marks `airbyte_secret: true`.

They are stored as given and never sent back: every reply carries `**********` in their place
(`mask`), an update that sends the mask back keeps the stored value (`restore`), and log lines
have every secret value replaced (`mask_text`). Nested objects, arrays, `oneOf`/`anyOf`/`allOf`
variants and local `$ref`s are followed, as Airbyte's secrets processor does: a key is secret
if any variant that describes it says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

MASK = "**********"
_VARIANTS = ("oneOf", "anyOf", "allOf")
_MAX_DEPTH = 64  # a self-referencing schema must not recurse forever


def _resolve(schema: Any, root: dict[str, Any], depth: int) -> Any:
    """Follow a local `$ref` ("#/definitions/x"); anything else is returned unchanged."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < _MAX_DEPTH:
        ref: str = schema["$ref"]
        if not ref.startswith("#/"):
            return schema
        node: Any = root
        for part in ref[2:].split("/"):
            node = (
                node.get(part.replace("~1", "/").replace("~0", "~"))
                if isinstance(node, dict)
                else None
            )
        schema, depth = node, depth + 1
    return schema


def _schemas(schema: Any, root: dict[str, Any], depth: int) -> Iterator[dict[str, Any]]:
    """The schema and every variant it combines, flattened."""
    schema = _resolve(schema, root, depth)
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return
    yield schema
    for keyword in _VARIANTS:
        for variant in schema.get(keyword) or []:
            yield from _schemas(variant, root, depth + 1)


def _is_secret(schemas: list[dict[str, Any]]) -> bool:
    return any(s.get("airbyte_secret") is True for s in schemas)


def _children(schemas: list[dict[str, Any]], key: str) -> list[Any]:
    found = []
    for s in schemas:
        props = s.get("properties")
        if isinstance(props, dict) and key in props:
            found.append(props[key])
        elif isinstance(s.get("additionalProperties"), dict):
            found.append(s["additionalProperties"])
    return found


def _walk(value: Any, schema_list: list[Any], root: dict[str, Any], depth: int) -> Any:
    """`value` with each secret replaced by MASK."""
    schemas = [s for schema in schema_list for s in _schemas(schema, root, depth)]
    if not schemas or depth > _MAX_DEPTH:
        return value
    if _is_secret(schemas):
        return MASK if value is not None else None
    if isinstance(value, dict):
        return {
            key: _walk(item, _children(schemas, key), root, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        items = [s["items"] for s in schemas if isinstance(s.get("items"), dict)]
        return [_walk(item, items, root, depth + 1) for item in value]
    return value


def mask(configuration: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of `configuration` with every `airbyte_secret` value shown as MASK."""
    masked = _walk(configuration, [spec], spec, 0)
    return masked if isinstance(masked, dict) else configuration


def restore(sent: Any, stored: Any) -> Any:
    """`sent` with each MASK replaced by the value at the same place in `stored`: a client
    sends back the masked configuration it was given and means "keep the secret"."""
    if sent == MASK and stored is not None:
        return stored
    if isinstance(sent, dict) and isinstance(stored, dict):
        return {key: restore(value, stored.get(key)) for key, value in sent.items()}
    if isinstance(sent, list) and isinstance(stored, list):
        return [restore(v, stored[i] if i < len(stored) else None) for i, v in enumerate(sent)]
    return sent


def secret_values(configuration: dict[str, Any], spec: dict[str, Any] | None) -> list[str]:
    """The secret values in `configuration` as text, longest first (for `mask_text`): those the
    spec marks `airbyte_secret`, or with no spec at hand, those with secret-looking names."""
    found: set[str] = set()
    masked = mask_by_name(configuration) if spec is None else mask(configuration, spec)
    _collect(configuration, masked, found)
    return sorted(found, key=len, reverse=True)


def _collect(value: Any, masked: Any, found: set[str]) -> None:
    if masked == MASK and value != MASK and value is not None:
        for text in _leaves(value):
            if text:
                found.add(text)
    elif isinstance(value, dict) and isinstance(masked, dict):
        for key, item in value.items():
            _collect(item, masked.get(key), found)
    elif isinstance(value, list) and isinstance(masked, list):
        for item, m in zip(value, masked, strict=False):
            _collect(item, m, found)


def _leaves(value: Any) -> Iterator[str]:
    """A secret may be an object (e.g. a key file's fields): every scalar inside it."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, bool) or value is None:
        return
    else:
        yield str(value)


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by MASK (for log lines and messages)."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


_SECRET_NAME = re.compile(
    r"pass(word|phrase)?|secret|token|api_?key|private_?key|access_?key|credential",
    re.IGNORECASE,
)


def mask_by_name(configuration: Any) -> Any:
    """Without a spec (the connector cannot run), mask every field whose name looks secret:
    better a value hidden needlessly than a secret shown."""
    if isinstance(configuration, dict):
        return {
            key: MASK
            if _SECRET_NAME.search(key) and value is not None and not isinstance(value, bool)
            else mask_by_name(value)
            for key, value in configuration.items()
        }
    if isinstance(configuration, list):
        return [mask_by_name(item) for item in configuration]
    return configuration
