#!/usr/bin/env python3
"""Keep `components` of openapi/config.yaml in step with the msgspec models.

The paths section of the document is written by hand: it is the contract of what operations
exist and which model each one takes and returns. The component schemas are rendered from the
models the handlers are annotated with, so the two can never disagree on a field.

    python scripts/openapi_schemas.py          # rewrite the components section
    python scripts/openapi_schemas.py --check  # exit 1 if it is out of date (tests do this)
"""

from __future__ import annotations

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
}


def models() -> list[Any]:
    types: list[Any] = [KnownExceptionInfo, NotFoundKnownExceptionInfo, InvalidInputExceptionInfo]
    for handler in all_handlers():
        for t in (body_type(handler), reply_type(handler)):
            if isinstance(t, type) and issubclass(t, msgspec.Struct) and t not in types:
                types.append(t)
    return types


def components() -> dict[str, Any]:
    _, schemas = msgspec.json.schema_components(
        models(), ref_template="#/components/schemas/{name}"
    )
    responses = {
        name: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
        }
        for name, (text, ref) in RESPONSES.items()
    }
    return {"components": {"responses": responses, "schemas": dict(sorted(schemas.items()))}}


def render() -> str:
    head = DOCUMENT.read_text().split(MARKER)[0].rstrip("\n")
    body = yaml.safe_dump(components(), sort_keys=False, allow_unicode=True, width=100)
    return f"{head}\n\n{MARKER}\n{body}"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if DOCUMENT.read_text() != text:
            print("openapi/config.yaml components are stale: run scripts/openapi_schemas.py")
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
