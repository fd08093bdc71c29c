"""Secrets in connector configurations: the fields a spec marks `airbyte_secret: true`.

They are stored as given and never sent back: every reply carries `**********` in their place
(`mask`), an update that sends the mask back keeps the stored value (`restore`), and log lines
have every secret value replaced (`mask_text`). Nested objects, arrays, `oneOf`/`anyOf`/`allOf`
variants and local `$ref`s are followed, as Airbyte's secrets processor does: a key is secret
if any variant that describes it says so.

The JSON paths of a spec's secrets (`secret_paths`) are kept with each stored configuration,
so that it is masked by them even when the connector's spec cannot be fetched any more; with
neither a spec nor paths, every leaf value is masked (`mask_leaves`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
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


# A secret's place in a configuration: keys from the root, None for "any key or array item"
# (an array's `items`, an object's `additionalProperties`).
SecretPath = list[str | None]
_MAX_VISITS = 20_000  # a recursive, branching schema is explored only so far


def secret_paths(spec: dict[str, Any]) -> list[SecretPath]:
    """The JSON paths of every `airbyte_secret` field of a connection specification, through
    nested objects, arrays, every `oneOf`/`anyOf`/`allOf` branch and local `$ref`s."""
    found: list[SecretPath] = []
    _find_paths([spec], spec, [], 0, found, [_MAX_VISITS])
    return found


def _find_paths(
    schema_list: list[Any],
    root: dict[str, Any],
    prefix: SecretPath,
    depth: int,
    found: list[SecretPath],
    budget: list[int],
) -> None:
    budget[0] -= 1
    schemas = [s for schema in schema_list for s in _schemas(schema, root, depth)]
    if not schemas or depth > _MAX_DEPTH or budget[0] < 0:
        return
    if _is_secret(schemas):
        found.append(prefix)
        return
    children: dict[str | None, list[Any]] = {}
    for s in schemas:
        props = s.get("properties")
        for key, child in props.items() if isinstance(props, dict) else ():
            children.setdefault(key, []).append(child)
        for keyword in ("additionalProperties", "items"):
            if isinstance(s.get(keyword), dict):
                children.setdefault(None, []).append(s[keyword])
    for key, subschemas in children.items():
        _find_paths(subschemas, root, [*prefix, key], depth + 1, found, budget)


def mask_paths(configuration: Any, paths: Sequence[Sequence[str | None]]) -> Any:
    """`configuration` with the value at each path shown as MASK (a secret object whole)."""
    if any(len(path) == 0 for path in paths):
        return MASK if configuration is not None else None
    if not paths:
        return configuration
    if isinstance(configuration, dict):
        return {
            key: mask_paths(value, [p[1:] for p in paths if p[0] is None or p[0] == key])
            for key, value in configuration.items()
        }
    if isinstance(configuration, list):
        inner = [p[1:] for p in paths if p[0] is None]
        return [mask_paths(item, inner) for item in configuration]
    return configuration


def mask_leaves(configuration: Any) -> Any:
    """With neither a spec nor the paths it named, nothing shows which values are secret:
    every leaf value is masked (names are no guide: a `dsn` or `client_key` holds secrets)."""
    if isinstance(configuration, dict):
        return {key: mask_leaves(value) for key, value in configuration.items()}
    if isinstance(configuration, list):
        return [mask_leaves(item) for item in configuration]
    return None if configuration is None else MASK


def mask(configuration: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of `configuration` with every `airbyte_secret` value shown as MASK."""
    masked = mask_paths(configuration, secret_paths(spec))
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


def secret_values(
    configuration: dict[str, Any],
    spec: dict[str, Any] | None,
    paths: Sequence[Sequence[str | None]] | None = None,
) -> list[str]:
    """The secret values in `configuration` as text, longest first (for `mask_text`): those at
    the spec's secret paths and at `paths` (kept from an earlier validation); with neither,
    those with secret-looking names (masking every value would blank out whole log lines)."""
    found: set[str] = set()
    if spec is None and paths is None:
        masked = mask_by_name(configuration)
    else:
        known = [*(secret_paths(spec) if spec is not None else []), *(paths or [])]
        masked = mask_paths(configuration, known)
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
    """`text` with every secret value replaced by MASK (for log lines and messages), also
    where it appears encoded: a connector that logs `json.dumps(config)` or `repr(config)`
    prints `\\"`, `\\\\` and `\\u00fc` in place of the characters themselves."""
    pattern = _secrets_pattern(tuple(secrets))
    return text if pattern is None else pattern.sub(MASK, text)


def encoded_forms(secret: str) -> set[str]:
    """The ways a secret appears in printed text: as is, JSON-escaped (ASCII and UTF-8, and
    with `/` escaped as some encoders do) and Python's repr and ascii, without the quotes."""
    ascii_json = json.dumps(secret)[1:-1]
    return {
        secret,
        ascii_json,
        ascii_json.replace("/", "\\/"),
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        # Inside a text holding both quote kinds (a repr'd dict), repr escapes the single one.
        repr(secret + "'\"")[1:-4],
    }


@functools.lru_cache(maxsize=256)
def _secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for every form of every secret, longest first (so that a secret holding
    another is masked whole). Cached: the same list masks every line of a run."""
    forms = {form for secret in secrets if secret for form in encoded_forms(secret) if form}
    if not forms:
        return None
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


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
