"""A stream's mappers in documents: as the server holds them (Airbyte's deprecated
`hashedFields` shown as the `hashing` mappers they are, before the others), as an export
writes them, and what changed between the server's and a document's.

Secrets (an encryption `key`): the server sends each as `**********`. An export writes that
mask, and a document that sends it back keeps the server's stored key; a new key comes from a
`${ENV_VAR}` reference. A key the document sets cannot be compared with the stored one, so it
is `(set)` and sent only with another change (or `--update-secrets`), as connector secrets are.
"""

from __future__ import annotations

import json
from typing import Any

from server.mappers import SECRET_CONFIG_KEYS
from server.remote.pipelines import document as d
from server.remote.pipelines.remote import MASK

Mapper = dict[str, Any]


def held(config: dict[str, Any]) -> list[Mapper]:
    """The mappers a stream's config (the server's) applies, in order: its hashed fields as
    SHA-256 `hashing` mappers with the `_hashed` suffix (what the server makes of them), then
    its `mappers`."""
    found: list[Mapper] = []
    for entry in config.get("hashedFields") or []:
        path = entry.get("fieldPath") or []
        if path:
            conf = {"targetField": path[0], "method": "SHA-256", "fieldNameSuffix": "_hashed"}
            found.append({"type": "hashing", "mapperConfiguration": conf})
    for mapper in config.get("mappers") or []:
        item: Mapper = {}
        if mapper.get("id"):
            item["id"] = str(mapper["id"])
        item["type"] = mapper.get("type")
        item["mapperConfiguration"] = mapper.get("mapperConfiguration") or {}
        found.append(item)
    return found


def _escaped(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, str) and value != MASK:
        return value.replace("${", "$${")  # a literal `${` stays literal when applied
    return value


def exported(config: dict[str, Any]) -> list[Mapper]:
    """The stream's mappers as a document writes them (a masked key stays the mask)."""
    return [_escaped(m) for m in held(config)]


def _secrets(mapper: Mapper) -> tuple[str, ...]:
    return SECRET_CONFIG_KEYS.get(str(mapper.get("type")), ())


def _show(mapper: Mapper | None, hidden: set[str]) -> str:
    if mapper is None:
        return "(none)"
    conf = mapper.get("mapperConfiguration") or {}
    shown = {k: "(set)" if k in hidden or k in _secrets(mapper) else v for k, v in conf.items()}
    return f"{mapper.get('type')} {json.dumps(shown, ensure_ascii=False)}"


def _same(old: Mapper, new: Mapper) -> tuple[bool, list[str]]:
    """Whether `new` (the document's) asks for what `old` (the server's) is, and the secrets
    that cannot be compared (the server's is masked, the document's is not the mask)."""
    if old.get("type") != new.get("type"):
        return False, []
    before = old.get("mapperConfiguration") or {}
    after = new.get("mapperConfiguration") or {}
    unverified = []
    for key in set(before) | set(after):
        was, now = before.get(key), after.get(key)
        if key in _secrets(new) and key in before and key in after:
            if now != MASK and was == MASK:
                unverified.append(key)
            if now == MASK or was == MASK:
                continue  # the mask sent back keeps the stored key
        if was != now:
            return False, []
    return True, unverified


def changes(stream: d.Stream, config: dict[str, Any], label: str) -> tuple[list[str], list[str]]:
    """(what changes, the secrets that cannot be compared) between the server's stream
    `config` and the document's `stream`, one line per mapper position."""
    old, new = held(config), stream.mappers or []
    found: list[str] = []
    unverified: list[str] = []
    for i in range(max(len(old), len(new))):
        was = old[i] if i < len(old) else None
        now = new[i] if i < len(new) else None
        hidden = {str(p[2]) for p in stream.referenced if len(p) >= 3 and p[0] == i}
        same, secrets = (False, []) if was is None or now is None else _same(was, now)
        if not same:
            found.append(f"{label}[{i}]: {_show(was, set())} -> {_show(now, hidden)}")
        unverified += [f"{label}[{i}].mapperConfiguration.{key}: (set)" for key in secrets]
    return found, unverified
