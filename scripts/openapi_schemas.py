#!/usr/bin/env python3
"""Keep `components` of openapi/config.yaml in step with the msgspec models.

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
from server.rpc import body_type, reply_type  # noqa: E402

DOCUMENT = ROOT / "openapi" / "config.yaml"
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


def models() -> list[Any]:
    types: list[Any] = [KnownExceptionInfo, NotFoundKnownExceptionInfo, InvalidInputExceptionInfo]
    for handler in all_handlers():
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


def components() -> dict[str, Any]:
    _, rendered = msgspec.json.schema_components(
        models(), ref_template="#/components/schemas/{name}"
    )
    schemas = _normalized(rendered)
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


def render() -> str:
    head = DOCUMENT.read_text().split(MARKER)[0].rstrip("\n")
    body = yaml.safe_dump(components(), sort_keys=False, allow_unicode=True, width=100)
    return f"{head}\n\n{MARKER}\n{body}"


def stale_schemas() -> list[str]:
    """Names of the components (schemas and responses) the document has wrong, missing or extra."""
    current = yaml.safe_load(DOCUMENT.read_text()).get("components") or {}
    wanted = components()["components"]
    names = []
    for section in ("securitySchemes", "responses", "schemas"):
        have, want = current.get(section) or {}, wanted[section]
        names += [
            f"{section}/{name}"
            for name in sorted(set(have) | set(want))
            if have.get(name) != want.get(name)
        ]
    return names


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        stale = stale_schemas()
        if stale:
            print("openapi/config.yaml components are stale: run scripts/openapi_schemas.py")
            print("differing:", ", ".join(stale))
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
