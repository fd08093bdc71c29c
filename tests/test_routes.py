"""The document and the handlers describe the same operations, with the same models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server import openapi
from server.api import all_handlers
from server.rpc import body_type, reply_type

ROOT = Path(__file__).resolve().parent.parent


def _ref_name(node: dict[str, object] | None) -> str | None:
    if not node:
        return None
    schema = next(iter(node["content"].values()))["schema"]  # type: ignore[index]
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def test_every_operation_has_a_handler_and_every_handler_an_operation() -> None:
    documented = sorted(op.handler_name for op in openapi.operations())
    implemented = sorted(h.__name__ for h in all_handlers())
    assert documented == implemented


def test_operation_ids_are_unique() -> None:
    ids = [op.operation_id for op in openapi.operations()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("op", openapi.operations(), ids=lambda op: op.operation_id)
def test_operation_models_match_handler_annotations(op: openapi.Operation) -> None:
    handler = {h.__name__: h for h in all_handlers()}[op.handler_name]
    spec = openapi.document()["paths"][op.path][op.method.lower()]
    body = body_type(handler)
    assert _ref_name(spec.get("requestBody")) == (body.__name__ if body else None)
    reply = reply_type(handler)
    responses = spec["responses"]
    if reply is None or reply is type(None):
        assert "204" in responses and "200" not in responses
    elif isinstance(reply, type) and reply.__module__.startswith("server.models"):
        assert _ref_name(responses["200"]) == reply.__name__


def test_components_are_generated_from_the_models() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "openapi_schemas.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
