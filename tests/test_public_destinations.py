"""Public API destinations: created by `destinationType` or `definitionId` with Sluice's own
connectors (SQLite, PostgreSQL, local JSON), `destinationType` kept inside every reply's
configuration (the airbyte-api SDK reads the configuration as a union tagged by it), secrets
masked and kept on PATCH and PUT; the same destinations the configuration API serves."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

import httpx

from server.domain.secrets import MASK
from server.settings import Settings
from server.store import secret_box
from tests.conftest import post
from tests.support.actors import make_destination
from tests.support.public import API, DESTINATIONS, assert_problem, workspace

SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"
POSTGRES = "25c5221d-dce2-4163-ade9-739ef790f503"
LOCAL_JSON = "a625d593-bba5-4a1c-a53d-2d246268a816"
PG = {
    "host": "db.example",
    "port": 5432,
    "database": "analytics",
    "schema": "public",
    "username": "loader",
    "password": "hunter22",
}


create = DESTINATIONS.create
assert_destination = DESTINATIONS.assert_reply


def stored_configuration(settings: Settings, destination_id: str) -> dict[str, Any]:
    """The configuration as stored, its sealed secrets opened with the data directory's key."""
    with sqlite3.connect(settings.db_path) as db:
        query = "SELECT data FROM destinations WHERE id = ?"
        row = db.execute(query, [destination_id]).fetchone()
    key = secret_box.parse_key((settings.data_path / secret_box.KEY_FILE).read_text(), "key")
    opened = secret_box.open_value(key, json.loads(row[0])["connectionConfiguration"])
    return opened  # type: ignore[no-any-return]


async def test_sqlite_by_destination_type(client: httpx.AsyncClient) -> None:
    ws = await workspace(client)
    config = {"destinationType": "sqlite", "destination_path": "/local/out.db"}
    made = assert_destination(
        await create(client, name="Local", workspaceId=ws, configuration=config), "sqlite"
    )
    assert made["definitionId"] == SQLITE and made["configuration"] == config
    destination_id = made["destinationId"]
    there = await post(client, "destinations/get", {"destinationId": destination_id})
    assert there.json()["connectionConfiguration"] == {"destination_path": "/local/out.db"}

    got = assert_destination(await client.get(f"{API}/destinations/{destination_id}"), "sqlite")
    assert got == made
    listed = (await client.get(f"{API}/destinations", params={"workspaceIds": ws})).json()
    assert [d["destinationId"] for d in listed["data"]] == [destination_id]
    assert listed["next"] == "" and listed["previous"] == ""

    put = await client.put(
        f"{API}/destinations/{destination_id}",
        json={"name": "Put", "configuration": {"destination_path": "/local/other.db"}},
    )
    assert assert_destination(put, "sqlite")["configuration"] == {
        "destination_path": "/local/other.db",
        "destinationType": "sqlite",
    }
    deleted = await client.delete(f"{API}/destinations/{destination_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    gone = await client.get(f"{API}/destinations/{destination_id}")
    assert_problem(gone, 404, "resource-not-found")


async def test_local_json_has_airbytes_name(client: httpx.AsyncClient) -> None:
    # Its program is destination-jsonl, but Airbyte calls the connector `local-json`.
    ws = await workspace(client)
    config = {"destinationType": "local-json", "destination_path": "/local/json"}
    made = await create(client, name="J", workspaceId=ws, configuration=config)
    assert assert_destination(made, "local-json")["definitionId"] == LOCAL_JSON


async def test_postgres_password_is_masked_and_kept(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ws = await workspace(client)
    config = {**PG, "destinationType": "postgres"}
    made = assert_destination(
        await create(client, name="Warehouse", workspaceId=ws, configuration=config), "postgres"
    )
    assert made["definitionId"] == POSTGRES
    assert made["configuration"]["password"] == MASK and "hunter22" not in json.dumps(made)
    destination_id = made["destinationId"]
    path = f"{API}/destinations/{destination_id}"
    assert stored_configuration(settings, destination_id)["password"] == "hunter22"
    there = (await post(client, "destinations/get", {"destinationId": destination_id})).json()
    assert there["connectionConfiguration"]["password"] == MASK

    # PATCH merges: the password left out, then the mask sent back, keeps the stored one.
    patched = assert_destination(
        await client.patch(path, json={"configuration": {"port": 5433}}), "postgres"
    )
    assert patched["configuration"]["port"] == 5433
    assert patched["configuration"]["password"] == MASK
    assert patched["configuration"]["host"] == "db.example"
    masked = {"host": "db2.example", "password": MASK, "destinationType": "postgres"}
    assert_destination(await client.patch(path, json={"configuration": masked}), "postgres")
    kept = stored_configuration(settings, destination_id)
    assert kept["password"] == "hunter22" and kept["host"] == "db2.example"
    assert kept["port"] == 5433 and "destinationType" not in kept

    # PUT with the mask keeps it too; a new password replaces it.
    whole = {**PG, "password": MASK}
    assert_destination(
        await client.put(path, json={"name": "W", "configuration": whole}), "postgres"
    )
    assert stored_configuration(settings, destination_id)["password"] == "hunter22"
    fresh = {**PG, "password": "n3w"}
    assert_destination(
        await client.put(path, json={"name": "W", "configuration": fresh}), "postgres"
    )
    assert stored_configuration(settings, destination_id)["password"] == "n3w"
    listed = (await client.get(f"{API}/destinations")).json()["data"]
    assert [d["configuration"]["password"] for d in listed] == [MASK]


async def test_bad_requests_are_problems(client: httpx.AsyncClient) -> None:
    ws = await workspace(client)
    neither = await create(
        client, name="n", workspaceId=ws, configuration={"destination_path": "/local/x.db"}
    )
    problem = assert_problem(neither, 422, "unprocessable-entity")
    paths = [e["propertyPath"] for e in problem["data"]["validationErrors"]]
    assert paths == ["configuration.destinationType"]

    unknown = await create(client, name="n", workspaceId=ws, configuration={"destinationType": "x"})
    assert_problem(unknown, 400, "value-not-found")

    missing_field = await create(
        client, name="n", workspaceId=ws, configuration={"destinationType": "sqlite"}
    )
    problem = assert_problem(missing_field, 422, "unprocessable-entity")
    paths = [e["propertyPath"] for e in problem["data"]["validationErrors"]]
    assert paths == ["configuration.destination_path"]

    missing = str(uuid.uuid4())
    for reply in (
        await client.get(f"{API}/destinations/{missing}"),
        await client.patch(f"{API}/destinations/{missing}", json={"name": "x"}),
        await client.delete(f"{API}/destinations/{missing}"),
        await create(client, name="n", workspaceId=ws, definitionId=missing, configuration={}),
    ):
        assert_problem(reply, 404, "resource-not-found")


async def test_one_world_with_the_configuration_api(client: httpx.AsyncClient) -> None:
    ws = await workspace(client)
    made = await make_destination(client, ws, "Config")
    seen = await client.get(f"{API}/destinations/{made['destinationId']}")
    assert assert_destination(seen, "sqlite")["configuration"] == {
        "destination_path": "/local/out.db",
        "destinationType": "sqlite",
    }
    await client.patch(f"{API}/destinations/{made['destinationId']}", json={"name": "Renamed"})
    there = await post(client, "destinations/get", {"destinationId": made["destinationId"]})
    assert there.json()["name"] == "Renamed"
    r = await post(client, "destinations/delete", {"destinationId": made["destinationId"]})
    assert r.status_code == 204
    gone = await client.get(f"{API}/destinations/{made['destinationId']}")
    assert_problem(gone, 404, "resource-not-found")
