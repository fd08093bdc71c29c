"""The API contracts, loaded once; routes are built from their operations.

- `CONFIG`: `openapi/config.yaml`, Airbyte's Configuration API under `/api/v1`.
- `PUBLIC`: `openapi/public.yaml`, Airbyte's public API under `/api/public/v1`. Its paths and
  schemas are kept a resource a file in `openapi/public/*.yaml` (each with `paths` and
  `components.schemas`); the root holds what they share, and the document served and
  checked is the root with every part merged in.

The module-level functions (`document`, `operations`, ...) are the Configuration API's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import yaml

_PACKAGED = Path(__file__).parent / "openapi"  # inside an installed wheel
_SOURCE = Path(__file__).parent.parent / "openapi"  # in a source checkout


@dataclass(frozen=True)
class Operation:
    path: str  # as written in the document, e.g. /v1/sources/create
    method: str  # upper case
    operation_id: str

    @property
    def handler_name(self) -> str:
        return snake_case(self.operation_id)


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _directory() -> Path:
    return _PACKAGED if (_PACKAGED / "config.yaml").exists() else _SOURCE


def _load(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as f:
        doc: dict[str, Any] = yaml.load(f, Loader=loader)
    return doc


class Contract:
    """One OpenAPI document: its operations, its base path, and its bytes as served."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def path(self) -> Path:
        return _directory() / f"{self.name}.yaml"

    def parts(self) -> list[Path]:
        return sorted((_directory() / self.name).glob("*.yaml"))

    @functools.cached_property
    def document(self) -> dict[str, Any]:
        doc = _load(self.path)
        for part in self.parts():
            piece = _load(part)
            for section, into in (
                (piece.get("paths") or {}, doc.setdefault("paths", {})),
                (
                    (piece.get("components") or {}).get("schemas") or {},
                    doc.setdefault("components", {}).setdefault("schemas", {}),
                ),
            ):
                twice = sorted(set(section) & set(into))
                if twice:
                    raise RuntimeError(f"{part.name} declares {twice} again")
                into.update(section)
        return doc

    @functools.cached_property
    def yaml(self) -> bytes:
        if not self.parts():
            return self.path.read_bytes()
        dumped: str = yaml.safe_dump(self.document, sort_keys=False, allow_unicode=True)
        return dumped.encode()

    @functools.cached_property
    def json(self) -> bytes:
        return msgspec.json.encode(self.document)

    def base_path(self) -> str:
        """The servers' URL path (e.g. `/api`), which the document's paths hang under."""
        servers = self.document.get("servers") or [{"url": "/api"}]
        return str(urlsplit(servers[0]["url"]).path).rstrip("/")

    def operations(self) -> list[Operation]:
        ops = []
        for path, item in self.document["paths"].items():
            for method, op in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    ops.append(Operation(path, method.upper(), op["operationId"]))
        return ops


CONFIG = Contract("config")
PUBLIC = Contract("public")


def document_path() -> Path:
    return CONFIG.path


def document() -> dict[str, Any]:
    return CONFIG.document


def document_yaml() -> bytes:
    return CONFIG.yaml


def document_json() -> bytes:
    return CONFIG.json


def base_path() -> str:
    return CONFIG.base_path()


def operations() -> list[Operation]:
    return CONFIG.operations()
