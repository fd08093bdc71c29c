"""resourceRequirements quantities: one grammar for the API's models and the Docker runner."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.domain.quantities import QuantityError, memory_bytes, nano_cpus
from server.runner.base import ConnectorError
from server.runner.images import memory_bytes as runner_memory_bytes
from tests.conftest import post
from tests.support.actors import E2E, SQLITE
from tests.support.connections import create

GOOD = [("512Mi", "1"), ("1Gi", "0.5"), ("1g", "500m"), ("2048", "2")]
BAD = [
    ({"memory_limit": "lots"}, "memory_limit"),
    ({"cpu_limit": "-1"}, "cpu_limit"),
    ({"memory_request": "-1Gi"}, "memory_request"),
    ({"cpu_request": "0"}, "cpu_request"),
    ({"memory_limit": "0"}, "memory_limit"),
    ({"cpu_limit": "1e3"}, "cpu_limit"),
]


def test_the_runner_parses_what_airbyte_accepts() -> None:
    assert memory_bytes("512Mi") == 512 << 20 and memory_bytes("1Gi") == 1 << 30
    assert memory_bytes("1g") == 1 << 30 and memory_bytes("1G") == 10**9
    assert memory_bytes(" 2Gi\n") == 2 << 30
    assert nano_cpus("1") == 10**9 and nano_cpus("0.5") == nano_cpus("500m") == 5 * 10**8
    for bad in ("lots", "-1", "0", "0.0", "1.5x", "", "inf", "nan", "1e3"):
        with pytest.raises(QuantityError):
            memory_bytes(bad)
        with pytest.raises(QuantityError):
            nano_cpus(bad)
    with pytest.raises(QuantityError, match="less than one byte"):
        memory_bytes("0.5")
    # The Docker runner's parser is this one, failing as a connector error.
    with pytest.raises(ConnectorError, match="'lots'"):
        runner_memory_bytes("lots")


@pytest.mark.parametrize(("limits", "field"), BAD)
async def test_connections_refuse_a_bad_quantity_naming_it(
    client: httpx.AsyncClient, ends: tuple[str, str, str], limits: dict[str, str], field: str
) -> None:
    r = await create(client, ends, resourceRequirements=limits)
    assert r.status_code == 422, r.text
    assert [e["propertyPath"] for e in r.json()["validationErrors"]] == [
        f"resourceRequirements.{field}"
    ]
    created = await create(client, ends)
    cid = created.json()["connectionId"]
    r = await post(
        client, "connections/update", {"connectionId": cid, "resourceRequirements": limits}
    )
    assert r.status_code == 422, r.text
    stored = (await post(client, "connections/get", {"connectionId": cid})).json()
    assert "resourceRequirements" not in stored


@pytest.mark.parametrize(("memory", "cpu"), GOOD)
async def test_connections_take_kubernetes_quantities(
    client: httpx.AsyncClient, ends: tuple[str, str, str], memory: str, cpu: str
) -> None:
    limits = {"memory_limit": memory, "memory_request": memory, "cpu_limit": cpu}
    r = await create(client, ends, resourceRequirements=limits)
    assert r.status_code == 200, r.text
    assert r.json()["resourceRequirements"] == limits


@pytest.mark.parametrize(("limits", "field"), BAD)
async def test_definitions_refuse_a_bad_quantity_naming_it(
    client: httpx.AsyncClient, limits: dict[str, str], field: str
) -> None:
    body: dict[str, Any] = {
        "sourceDefinitionId": E2E,
        "resourceRequirements": {
            "default": {"memory_limit": "1Gi"},
            "jobSpecific": [{"jobType": "sync", "resourceRequirements": limits}],
        },
    }
    r = await post(client, "source_definitions/update", body)
    assert r.status_code == 422, r.text
    assert [e["propertyPath"] for e in r.json()["validationErrors"]] == [
        f"resourceRequirements.jobSpecific[0].resourceRequirements.{field}"
    ]
    destination = {"destinationDefinitionId": SQLITE, "resourceRequirements": {"default": limits}}
    r = await post(client, "destination_definitions/update", destination)
    assert r.status_code == 422, r.text
    assert [e["propertyPath"] for e in r.json()["validationErrors"]] == [
        f"resourceRequirements.default.{field}"
    ]
    stored = await post(client, "source_definitions/get", {"sourceDefinitionId": E2E})
    assert "resourceRequirements" not in stored.json()
