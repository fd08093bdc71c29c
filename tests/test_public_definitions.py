"""Public API definitions: a workspace's source and destination definitions (Sluice's, shared by
every workspace, written by the admin only) and the connector definitions list."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import post
from tests.support.auth import api_key, bearer
from tests.support.public import API, assert_problem, workspace

FAKER = "dfd88b22-b603-4c3d-aad7-3701784586b1"
POSTGRES = "25c5221d-dce2-4163-ade9-739ef790f503"


def assert_definition(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    body: dict[str, Any] = reply.json()
    assert {"id", "name", "dockerRepository", "dockerImageTag"} <= set(body)
    return body


async def test_the_seeded_definitions_are_every_workspaces(client: httpx.AsyncClient) -> None:
    ws = await workspace(client)
    sources = await client.get(f"{API}/workspaces/{ws}/definitions/sources")
    assert sources.status_code == 200, sources.text
    faker = next(d for d in sources.json()["data"] if d["id"] == FAKER)
    assert faker["dockerRepository"] == "airbyte/source-faker"
    assert faker["name"] == "Sample Data (Faker)"
    assert faker["documentationUrl"].startswith("https://docs.airbyte.com/")
    destinations = (await client.get(f"{API}/workspaces/{ws}/definitions/destinations")).json()
    assert POSTGRES in {d["id"] for d in destinations["data"]}
    got = await client.get(f"{API}/workspaces/{ws}/definitions/destinations/{POSTGRES}")
    assert assert_definition(got)["dockerRepository"] == "sluice/destination-postgres"

    missing = str(uuid.uuid4())
    no_workspace = await client.get(f"{API}/workspaces/{missing}/definitions/sources")
    assert_problem(no_workspace, 404, "resource-not-found")
    no_definition = await client.get(f"{API}/workspaces/{ws}/definitions/sources/{missing}")
    assert_problem(no_definition, 404, "resource-not-found")
    # A destination definition is not a source one.
    wrong_kind = await client.get(f"{API}/workspaces/{ws}/definitions/sources/{POSTGRES}")
    assert_problem(wrong_kind, 404, "resource-not-found")


@pytest.mark.parametrize("kind", ["sources", "destinations"])
async def test_custom_definition_lifecycle(client: httpx.AsyncClient, kind: str) -> None:
    ws = await workspace(client)
    base = f"{API}/workspaces/{ws}/definitions/{kind}"
    made = assert_definition(
        await client.post(
            base,
            json={
                "name": "Widgets",
                "dockerRepository": f"airbyte/{kind[:-1]}-widgets",
                "dockerImageTag": "1.0.0",
                "documentationUrl": "https://example.com/widgets",
            },
        )
    )
    assert made["name"] == "Widgets" and made["dockerImageTag"] == "1.0.0"
    assert made["documentationUrl"] == "https://example.com/widgets"
    definition = f"{base}/{made['id']}"
    assert assert_definition(await client.get(definition)) == made
    # The configuration API sees the same definition.
    config_kind = kind[:-1]
    there = await post(
        client, f"{config_kind}_definitions/get", {f"{config_kind}DefinitionId": made["id"]}
    )
    assert there.status_code == 200 and there.json()["dockerImageTag"] == "1.0.0"

    updated = assert_definition(
        await client.put(definition, json={"name": "Gadgets", "dockerImageTag": "1.1.0"})
    )
    assert updated["name"] == "Gadgets" and updated["dockerImageTag"] == "1.1.0"
    listed = (await client.get(base)).json()["data"]
    assert [d for d in listed if d["id"] == made["id"]] == [updated]

    deleted = assert_definition(await client.delete(definition))
    assert deleted == updated
    assert_problem(await client.get(definition), 404, "resource-not-found")
    assert_problem(await client.delete(definition), 404, "resource-not-found")


async def test_bad_definitions_are_422_naming_the_field(client: httpx.AsyncClient) -> None:
    base = f"{API}/workspaces/{await workspace(client)}/definitions/sources"
    bad = await client.post(
        base, json={"name": "x", "dockerRepository": "Not A Repo", "dockerImageTag": "1"}
    )
    problem = assert_problem(bad, 422, "unprocessable-entity")
    assert problem["data"]["validationErrors"][0]["propertyPath"] == "dockerRepository"
    # An image outside the allow-list (SLUICE_ALLOWED_IMAGES) is refused where it is named.
    refused = await client.post(
        base, json={"name": "x", "dockerRepository": "acme/x", "dockerImageTag": "1"}
    )
    problem = assert_problem(refused, 422, "unprocessable-entity")
    assert problem["data"]["validationErrors"][0]["propertyPath"] == "dockerRepository"
    no_tag = await client.post(base, json={"name": "x", "dockerRepository": "acme/x"})
    assert_problem(no_tag, 422, "unprocessable-entity")
    update = await client.put(f"{base}/{FAKER}", json={"name": "only a name"})
    assert_problem(update, 422, "unprocessable-entity")


async def test_writes_need_the_admin(client: httpx.AsyncClient) -> None:
    ws = await workspace(client)
    key = bearer(await api_key(client, ws))
    base = f"{API}/workspaces/{ws}/definitions/sources"
    readable = await client.get(base, headers=key, auth=None)
    assert readable.status_code == 200 and readable.json()["data"]
    body = {"name": "x", "dockerRepository": "acme/x", "dockerImageTag": "1"}
    assert_problem(await client.post(base, json=body, headers=key, auth=None), 403, "forbidden")
    change = {"name": "x", "dockerImageTag": "2"}
    put = await client.put(f"{base}/{FAKER}", json=change, headers=key, auth=None)
    assert_problem(put, 403, "forbidden")
    gone = await client.delete(f"{base}/{FAKER}", headers=key, auth=None)
    assert_problem(gone, 403, "forbidden")
    assert_definition(await client.get(f"{base}/{FAKER}"))


async def test_connector_definitions(client: httpx.AsyncClient) -> None:
    sources = await client.get(f"{API}/connector_definitions", params={"type": "source"})
    assert sources.status_code == 200, sources.text
    faker = next(d for d in sources.json()["data"] if d["id"] == FAKER)
    assert faker == {
        "id": FAKER,
        "name": "Sample Data (Faker)",
        "connectorDefinitionType": "source",
        "version": "7.2.1",
    }
    ws = await workspace(client)
    destinations = await client.get(
        f"{API}/connector_definitions", params={"type": "destination", "workspaceId": ws}
    )
    data = destinations.json()["data"]
    assert {d["connectorDefinitionType"] for d in data} == {"destination"}
    assert POSTGRES in {d["id"] for d in data}

    no_type = await client.get(f"{API}/connector_definitions")
    assert_problem(no_type, 400, "bad-request")
    bad_type = await client.get(f"{API}/connector_definitions", params={"type": "mapper"})
    assert_problem(bad_type, 400, "bad-request")
    missing = await client.get(
        f"{API}/connector_definitions", params={"type": "source", "workspaceId": str(uuid.uuid4())}
    )
    assert_problem(missing, 404, "resource-not-found")
