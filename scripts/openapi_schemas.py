#!/usr/bin/env python3
"""Keep `components` of openapi/config.yaml and openapi/public.yaml in step with the models.

The paths section of the document is written by hand: it is the contract of what operations
exist and which model each one takes and returns. The component schemas are rendered from the
models the handlers are annotated with, so the two can never disagree on a field.

    python scripts/openapi_schemas.py          # rewrite the components section
    python scripts/openapi_schemas.py --check  # exit 1 if it is out of date (tests do this)

Descriptions come from docstrings, and how a docstring's indentation reaches the schema has
changed between msgspec releases; so every description is normalized here (paragraphs kept,
whitespace inside them collapsed), and `--check` compares the parsed components, not the text
that a YAML library happens to write.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import msgspec
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.api import all_handlers  # noqa: E402
from server.models.errors import (  # noqa: E402
    InvalidInputExceptionInfo,
    KnownExceptionInfo,
    NotFoundKnownExceptionInfo,
)
from server.public.handlers import all_handlers as all_public_handlers  # noqa: E402
from server.public.problems import Problem  # noqa: E402
from server.rpc import body_type, reply_type  # noqa: E402

DOCUMENT = ROOT / "openapi" / "config.yaml"
PUBLIC = ROOT / "openapi" / "public.yaml"
MARKER = "# ---- Generated from server/models by scripts/openapi_schemas.py; do not edit below ----"

RESPONSES = {
    "NotFound": ("Object with the given id was not found", "NotFoundKnownExceptionInfo"),
    "InvalidInput": ("Input failed validation", "InvalidInputExceptionInfo"),
    "Error": ("Any other error (400, 405, 409, 413, 500, 503)", "KnownExceptionInfo"),
    "Unauthorized": (
        "No valid credential (the reply's WWW-Authenticate header names the schemes)",
        "KnownExceptionInfo",
    ),
}
# The credentials every operation but the open ones (`security: []`) takes (server/auth).
SECURITY_SCHEMES = {
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "The instance admin (SLUICE_USERNAME / SLUICE_PASSWORD).",
    },
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "An application's token (from applications/token) or an API key.",
    },
}


# The public API's: its credentials, shared parameters and its one error body.
PUBLIC_SECURITY_SCHEMES = {
    **SECURITY_SCHEMES,
    "clientCredentials": {
        "type": "oauth2",
        "description": "An application's client id and secret, or the admin's username and "
        "password, exchanged at /applications/token for a Bearer token.",
        "flows": {
            "clientCredentials": {"tokenUrl": "/api/public/v1/applications/token", "scopes": {}}
        },
    },
}


def _path_id(name: str, kind: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": kind, "schema": schema}


_UUID = {"type": "string", "format": "uuid"}
PUBLIC_PARAMETERS: dict[str, Any] = {
    "workspaceId": _path_id("workspaceId", "A workspace's id", _UUID),
    "sourceId": _path_id("sourceId", "A source's id", _UUID),
    "destinationId": _path_id("destinationId", "A destination's id", _UUID),
    "connectionId": _path_id("connectionId", "A connection's id", _UUID),
    "definitionId": _path_id("definitionId", "A connector definition's id", _UUID),
    "jobId": _path_id("jobId", "A job's id", {"type": "integer", "format": "int64", "minimum": 0}),
    "workspaceIds": {
        "name": "workspaceIds",
        "in": "query",
        "description": "Only these workspaces' objects (repeated, or comma-separated)",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": _UUID},
    },
    "includeDeleted": {
        "name": "includeDeleted",
        "in": "query",
        "description": "Also deleted objects (Sluice deletes for good, so there are none)",
        "schema": {"type": "boolean", "default": False},
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "description": "At most this many items",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
    "offset": {
        "name": "offset",
        "in": "query",
        "description": "Skip this many items",
        "schema": {"type": "integer", "minimum": 0, "default": 0},
    },
}
PUBLIC_RESPONSES = {
    "Problem": {
        "description": "An error: problem JSON with the status, Airbyte's problem title and "
        "what went wrong",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}


def models(public: bool = False) -> list[Any]:
    types: list[Any] = (
        [Problem]
        if public
        else [KnownExceptionInfo, NotFoundKnownExceptionInfo, InvalidInputExceptionInfo]
    )
    for handler in all_public_handlers() if public else all_handlers():
        for t in (body_type(handler), reply_type(handler)):
            if isinstance(t, type) and issubclass(t, msgspec.Struct) and t not in types:
                types.append(t)
    return types


def normalize(text: str) -> str:
    """A description as one line per paragraph, whatever indentation the docstring had."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _normalized(node: Any) -> Any:
    """`node` with descriptions normalized and `anyOf` members in one order (msgspec releases
    differ on where `null` goes; the order means nothing to JSON Schema)."""
    if isinstance(node, dict):
        out = {
            k: normalize(v) if k == "description" and isinstance(v, str) else _normalized(v)
            for k, v in node.items()
        }
        if isinstance(out.get("anyOf"), list):
            out["anyOf"] = sorted(out["anyOf"], key=_null_last)
        return out
    if isinstance(node, list):
        return [_normalized(v) for v in node]
    return node


def _null_last(member: Any) -> tuple[bool, str]:
    return member == {"type": "null"}, json.dumps(member, sort_keys=True)


def components(public: bool = False) -> dict[str, Any]:
    _, rendered = msgspec.json.schema_components(
        models(public), ref_template="#/components/schemas/{name}"
    )
    schemas = _normalized(rendered)
    if public:
        return {
            "components": {
                "securitySchemes": PUBLIC_SECURITY_SCHEMES,
                "parameters": PUBLIC_PARAMETERS,
                "responses": PUBLIC_RESPONSES,
                "schemas": dict(sorted(schemas.items())),
            }
        }
    responses = {
        name: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
        }
        for name, (text, ref) in RESPONSES.items()
    }
    return {
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            "responses": responses,
            "schemas": dict(sorted(schemas.items())),
        }
    }


def render(document: Path | None = None) -> str:
    document = document or DOCUMENT
    head = document.read_text().split(MARKER)[0].rstrip("\n")
    wanted = components(document == PUBLIC)
    body = yaml.safe_dump(wanted, sort_keys=False, allow_unicode=True, width=100)
    return f"{head}\n\n{MARKER}\n{body}"


def stale_schemas(document: Path | None = None) -> list[str]:
    """Names of the components (schemas and responses) the document has wrong, missing or extra."""
    document = document or DOCUMENT
    current = yaml.safe_load(document.read_text()).get("components") or {}
    wanted = components(document == PUBLIC)["components"]
    names = []
    for section in ("securitySchemes", "parameters", "responses", "schemas"):
        have, want = current.get(section) or {}, wanted.get(section) or {}
        names += [
            f"{section}/{name}"
            for name in sorted(set(have) | set(want))
            if have.get(name) != want.get(name)
        ]
    return names


def main(argv: list[str]) -> int:
    status = 0
    for document in (DOCUMENT, PUBLIC):
        name = document.relative_to(ROOT)
        if "--check" in argv:
            stale = stale_schemas(document)
            if stale:
                print(f"{name} components are stale: run scripts/openapi_schemas.py")
                print("differing:", ", ".join(stale))
                status = 1
            continue
        document.write_text(render(document))
        print(f"wrote {name}")
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
