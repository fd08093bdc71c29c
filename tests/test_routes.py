"""The document and the handlers describe the same operations, with the same models."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from server import openapi
from server.api import all_handlers
from server.rpc import body_type, reply_type

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "openapi_schemas.py"


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
        [sys.executable, str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("openapi_schemas", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_components_do_not_depend_on_how_docstrings_are_rendered() -> None:
    # msgspec 0.18 kept a docstring's continuation indent, 0.19+ strips it; and releases put
    # `null` first or last in `anyOf`. Either rendering must give the same component.
    gen = _generator()
    indented = {"description": "First line\n    second line.\n\n    Next paragraph.", "x": 1}
    dedented = {"description": "First line\nsecond line.\n\nNext paragraph.", "x": 1}
    assert gen._normalized(indented) == gen._normalized(dedented)
    assert gen._normalized(dedented)["description"] == "First line second line.\n\nNext paragraph."
    ref = {"$ref": "#/components/schemas/StreamDescriptor"}
    assert gen._normalized({"anyOf": [{"type": "null"}, ref]}) == gen._normalized(
        {"anyOf": [ref, {"type": "null"}]}
    )


def test_a_model_change_not_in_the_document_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = _generator()
    assert gen.stale_schemas() == []
    doc = yaml.safe_load(gen.DOCUMENT.read_text())
    # As if WorkspaceRead had gained a field the document lacks, and lost a description.
    del doc["components"]["schemas"]["WorkspaceRead"]["properties"]["name"]
    doc["components"]["schemas"]["AirbyteStream"]["description"] = "something else"
    stale = tmp_path / "config.yaml"
    stale.write_text(yaml.safe_dump(doc))
    monkeypatch.setattr(gen, "DOCUMENT", stale)
    assert gen.stale_schemas() == ["schemas/AirbyteStream", "schemas/WorkspaceRead"]
