"""Request bodies accept what JSON Schema (and Airbyte) call an integer, and nothing more.

`3217.0` is a valid JSON Schema integer and Airbyte's server takes it; schemathesis generates
such values for every integer field of the document. `"3217"` is not an integer, and `""` is not
a date-time.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server import openapi
from server.models.base import Model
from server.models.decoding import RequestDecoder
from tests.conftest import post
from tests.support.connections import create


async def test_integral_floats_are_integers_in_nested_models(
    client: httpx.AsyncClient,
    ends: tuple[str, str, str],
) -> None:
    r = await create(client, ends, schedule={"units": 3217.0, "timeUnit": "hours"})
    assert r.status_code == 200, r.text
    assert r.json()["schedule"] == {"units": 3217, "timeUnit": "hours"}
    assert b'"units":3217,' in r.content  # stored and sent as an integer, not 3217.0

    r = await post(
        client,
        "jobs/list",
        {"configTypes": ["sync"], "pagination": {"pageSize": 15960.0, "rowOffset": 5031.0}},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("units", ["3217.5", '"3217"', "1e400"])  # as written in the JSON
async def test_non_integers_are_still_refused(
    client: httpx.AsyncClient,
    ends: tuple[str, str, str],
    units: str,
) -> None:
    _, source_id, destination_id = ends
    body = (
        f'{{"sourceId": "{source_id}", "destinationId": "{destination_id}", '
        f'"schedule": {{"units": {units}, "timeUnit": "hours"}}}}'
    )
    r = await client.post(
        "/api/v1/connections/create", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["validationErrors"][0]["propertyPath"] == "schedule.units"


class _Probe(Model):
    count: int
    counts: list[int] = []
    config: dict[str, Any] = {}
    ratio: float = 0.0


def test_only_integer_fields_are_rewritten() -> None:
    # A connector configuration is the connector's business: its 1.0 stays a float, also when
    # the body needed an integer rewritten elsewhere.
    got = RequestDecoder(_Probe).decode(
        b'{"count": 2.0, "counts": [1, 2.0, 3.0], "config": {"x": 1.0}, "ratio": 2.0}'
    )
    assert got == _Probe(count=2, counts=[1, 2, 3], config={"x": 1.0}, ratio=2.0)
    assert type(got.config["x"]) is float and type(got.count) is int


async def test_date_times_are_rfc3339_in_the_document_and_the_server(
    client: httpx.AsyncClient,
) -> None:
    prop = openapi.document()["components"]["schemas"]["JobListRequestBody"]["properties"]
    for name in ("createdAtStart", "createdAtEnd", "updatedAtStart", "updatedAtEnd"):
        assert {"type": "string", "format": "date-time"} in prop[name]["anyOf"]
    for value in ("", "2024-01-01T00:00:00"):  # no date-time; no offset (RFC 3339 needs one)
        r = await post(client, "jobs/list", {"configTypes": ["sync"], "updatedAtEnd": value})
        assert r.status_code == 422, r.text
        assert r.json()["validationErrors"][0]["propertyPath"] == "updatedAtEnd"
    r = await post(
        client, "jobs/list", {"configTypes": ["sync"], "updatedAtEnd": "2024-01-01T00:00:00Z"}
    )
    assert r.status_code == 200, r.text
