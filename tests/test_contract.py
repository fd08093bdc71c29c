"""Schemathesis over openapi/config.yaml against the app: every operation, generated valid and
invalid bodies, all checks. Zero failures means no 5xx and every reply matches the document.

Random UUIDs only ever reach "not found"; so that generated bodies also reach the code behind
the lookups (catalog rules, schedules, configuration checks, replies with stored objects), a
hook swaps most generated ids for ids of objects created before the run.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.schemas import OpenApiSchema

from server import openapi
from server.api import all_handlers
from server.app import create_app
from server.models.decoding import RequestDecoder
from server.rpc import body_type
from server.settings import Settings
from tests.support.contract import ADMIN_HEADERS, seed

CONFIG = {
    "seed": 20201,
    "generation": {
        "mode": "all",
        "max-examples": 25,
        "deterministic": True,
        "database": "none",
    },
    "checks": {
        # JSON Schema cannot say "this cron expression parses", "these two ids share a
        # workspace" or "an incremental stream needs a cursor"; the server answers such valid-
        # looking bodies with 422 naming the property, which is the documented reply.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "409", "422"]},
    },
    # A token request that the document calls valid may still name no real client: its 401
    # is the documented reply.
    "operations": [
        {
            "include-operation-id": operation,
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "422"]}},
        }
        for operation in ("applicationTokenRequest",)
    ],
}
# Filled by the fixture: request field -> id of a live object of that kind.
KNOWN: dict[str, str] = {}


# Operations whose generated bodies must not reach the live objects: deletes would leave the
# rest of the run nothing to find, and definition updates would point the seeded connectors at
# images that do not exist.
_KEEP_AWAY = ("/delete", "/recreate", "_definitions/update")


def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """Point two valid bodies in three at live objects; invalid bodies stay as generated, so
    they are still invalid. The choice hangs on the body, so runs repeat."""
    body = case.body
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if not positive or not isinstance(body, dict) or case.path.endswith(_KEEP_AWAY):
        return case
    if zlib.crc32(msgspec.json.encode(body)) % 3 == 0:
        return case
    case.body = {k: KNOWN.get(k, v) if isinstance(v, str) else v for k, v in body.items()}
    return case


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenApiSchema]:
    data_dir: Path = tmp_path_factory.mktemp("contract") / "data"
    # schemathesis's ASGI client sends `Host: testserver`. Auth stays on: every case carries
    # the admin's credential, and the `ignored_auth` check sends some without to see the 401.
    app = create_app(Settings(data_dir=str(data_dir), allowed_hosts="testserver"))
    config = SchemathesisConfig.from_dict(CONFIG)
    # Loading the document through the app starts its lifespan (database, migrations).
    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=config)
    # Local to this schema: the public API's contract test has a hook of its own.
    loaded.hook(map_case)
    KNOWN.update(seed(app, job=False))
    yield loaded
    shutdown_lifespans()
    KNOWN.clear()


schema = schemathesis.pytest.from_fixture("api_schema")

_HANDLERS = {h.__name__: h for h in all_handlers()}
_DECODERS: dict[str, RequestDecoder[Any]] = {
    op.path: RequestDecoder(model)
    for op in openapi.operations()
    if (model := body_type(_HANDLERS[op.handler_name])) is not None
}


def valid_bodies_decode(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """A body the document calls valid must get past the request model's decoding.

    positive_data_acceptance has to allow 422 (see CONFIG), which would hide the document and
    the models disagreeing on a type (`3217.0` for an integer, `""` for a date-time); so the
    body of every positive case is decoded here with the server's own decoder, and a refusal is
    a failure whatever the reply said.
    """
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    decoder = _DECODERS.get(case.operation.path)
    # Every request body is an object; anything else is no body at all (NotSet).
    if not positive or decoder is None or not isinstance(case.body, dict):
        return
    try:
        decoder.decode(msgspec.json.encode(case.body))
    except msgspec.ValidationError as exc:
        raise AssertionError(f"a schema-valid body was refused by the model: {exc}") from None


# About five minutes here: some operations run real connectors (check, discover, sync).
@pytest.mark.slow
@pytest.mark.timeout(900)
@schema.parametrize()
def test_api(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=ADMIN_HEADERS, additional_checks=[valid_bodies_decode])
