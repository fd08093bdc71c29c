"""openapi/public.yaml and server/public describe the same operations, with the same models and
the same path parameters."""

from __future__ import annotations

import inspect
import typing

import pytest

from server import openapi
from server.public.handlers import all_handlers
from server.public.rest import camel
from server.rpc import body_type, reply_type

HANDLERS = {h.__name__: h for h in all_handlers()}
OPERATIONS = openapi.PUBLIC.operations()


def _ref_name(node: dict[str, typing.Any] | None) -> str | None:
    if not node:
        return None
    schema = next(iter(node["content"].values()))["schema"]
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def test_every_operation_has_a_handler_and_every_handler_an_operation() -> None:
    assert sorted(op.handler_name for op in OPERATIONS) == sorted(HANDLERS)


def test_operation_ids_are_unique() -> None:
    # Airbyte's two APIs share some (getHealthCheck, createWorkspace): unique within each.
    ids = [op.operation_id for op in OPERATIONS]
    assert len(ids) == len(set(ids))


def test_the_document_is_served_whole_from_its_parts() -> None:
    doc = openapi.PUBLIC.document
    assert doc["servers"][0]["url"] == "/api/public/v1"
    assert {"/health", "/applications/token", "/workspaces/{workspaceId}"} <= set(doc["paths"])
    # Every reference points at something the merged document declares.
    text = openapi.PUBLIC.json.decode()
    for kind in ("schemas", "parameters", "responses"):
        for name in set(__import__("re").findall(rf'"#/components/{kind}/([^"]+)"', text)):
            assert name in doc["components"][kind], f"{kind}/{name} is referenced but missing"


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_operation_models_and_parameters_match_the_handler(op: openapi.Operation) -> None:
    handler = HANDLERS[op.handler_name]
    item = openapi.PUBLIC.document["paths"][op.path]
    spec = item[op.method.lower()]
    body = body_type(handler)
    assert _ref_name(spec.get("requestBody")) == (body.__name__ if body else None)
    reply = reply_type(handler)
    responses = spec["responses"]
    if reply is None or reply is type(None):
        assert "204" in responses and "200" not in responses
    elif isinstance(reply, type) and reply.__module__.startswith("server.models"):
        assert _ref_name(responses["200"]) == reply.__name__
    # The path's {parameters} are exactly the handler's path arguments.
    names = [
        n
        for n in inspect.signature(handler).parameters
        if n not in {"ctx", "body", "query", "links"}
    ]
    assert sorted(camel(n) for n in names) == sorted(
        __import__("re").findall(r"\{(\w+)\}", op.path)
    )
