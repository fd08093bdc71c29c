"""Schemathesis over openapi/public.yaml against the app: every operation, generated valid and
invalid requests (paths, queries and bodies), all checks. Zero failures means no 5xx, every
reply matches the document (status, content type, schema) and bad input is refused.

As for the config API (tests/test_contract.py), random UUIDs only reach "not found"; a hook
local to this schema points most generated ids at objects created before the run, so that
cases also reach the code behind the lookups.
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

from server.app import create_app
from server.settings import Settings
from tests.support.contract import ADMIN_HEADERS, seed

CONFIG = {
    "seed": 20202,
    "generation": {
        "mode": "all",
        "max-examples": 25,
        "deterministic": True,
        "database": "none",
    },
    "checks": {
        # As for the config API: rules JSON Schema cannot state (a cron expression parses, a
        # stream exists in the source's catalog, a job is running) answer 4xx problems.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404", "409", "422"]},
    },
    "operations": [
        {
            # A token request the document calls valid may still name no real client.
            "include-operation-id": "createAccessToken",
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "422"]}},
        }
    ],
}
# Filled by the fixture: parameter or field name -> id of a live object of that kind.
KNOWN: dict[str, Any] = {}


def _deletes(case: schemathesis.Case) -> bool:
    # Deletes and replacements of the live objects would leave the rest of the run nothing to
    # find; definition updates would point the seeded connectors at images that do not exist.
    return case.method.upper() in {"DELETE", "PUT"} or "/definitions/" in case.path


def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """Point two valid cases in three at live objects (path parameters, query parameters and
    body fields named like them); invalid cases stay as generated. The choice hangs on the
    case's contents, so runs repeat."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if not positive or _deletes(case):
        return case
    parts = [case.path_parameters, case.query, case.body]
    key = msgspec.json.encode([p if isinstance(p, dict | list) else None for p in parts])
    if zlib.crc32(key) % 3 == 0:
        return case
    if case.path_parameters:
        case.path_parameters = {k: KNOWN.get(k, v) for k, v in case.path_parameters.items()}
    if isinstance(case.query, dict):
        case.query = {
            k: KNOWN.get(k, v) if isinstance(v, str) else v for k, v in case.query.items()
        }
    if isinstance(case.body, dict):
        case.body = {k: KNOWN.get(k, v) if isinstance(v, str) else v for k, v in case.body.items()}
    return case


@pytest.fixture(scope="module")
def public_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenApiSchema]:
    data_dir: Path = tmp_path_factory.mktemp("contract-public") / "data"
    app = create_app(Settings(data_dir=str(data_dir), allowed_hosts="testserver"))
    config = SchemathesisConfig.from_dict(CONFIG)
    loaded = schemathesis.openapi.from_asgi("/api/public/v1/openapi.json", app, config=config)
    # Local to this schema: the config API's contract test has a hook of its own.
    loaded.hook(map_case)
    KNOWN.update(seed(app, job=True))
    KNOWN["definitionId"] = KNOWN["sourceDefinitionId"]
    yield loaded
    shutdown_lifespans()
    KNOWN.clear()


schema = schemathesis.pytest.from_fixture("public_schema")


@pytest.mark.slow
@pytest.mark.timeout(900)
@schema.parametrize()
def test_public_api(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=ADMIN_HEADERS)
