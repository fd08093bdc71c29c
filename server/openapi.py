"""The API contract: `openapi/config.yaml`, loaded once. Routes are built from its operations."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import yaml

_PACKAGED = Path(__file__).parent / "openapi" / "config.yaml"  # inside an installed wheel
_SOURCE = Path(__file__).parent.parent / "openapi" / "config.yaml"  # in a source checkout


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


def document_path() -> Path:
    return _PACKAGED if _PACKAGED.exists() else _SOURCE


@functools.cache
def document() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with document_path().open("rb") as f:
        doc: dict[str, Any] = yaml.load(f, Loader=loader)
    return doc


@functools.cache
def document_yaml() -> bytes:
    return document_path().read_bytes()


@functools.cache
def document_json() -> bytes:
    return msgspec.json.encode(document())


def base_path() -> str:
    """The servers' URL path (`/api`), which the document's paths (`/v1/...`) hang under."""
    servers = document().get("servers") or [{"url": "/api"}]
    return str(urlsplit(servers[0]["url"]).path).rstrip("/")


def operations() -> list[Operation]:
    ops = []
    for path, item in document()["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                ops.append(Operation(path, method.upper(), op["operationId"]))
    return ops
