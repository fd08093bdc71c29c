from __future__ import annotations

import uuid

import httpx

from tests.conftest import post
from tests.support.actors import E2E, SQLITE, default_workspace, make_destination, make_source
from tests.support.connections import hourly_connection


async def test_get_embeds_source_and_destination(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    connection = await hourly_connection(client, workspace_id)
    r = await post(
        client, "web_backend/connections/get", {"connectionId": connection["connectionId"]}
    )
    assert r.status_code == 200, r.text
    c = r.json()
    source = (await post(client, "sources/get", {"sourceId": connection["sourceId"]})).json()
    destination = (
        await post(client, "destinations/get", {"destinationId": connection["destinationId"]})
    ).json()
    assert c["source"] == source and c["destination"] == destination
    assert c["isSyncing"] is False and c["operations"] == []
    assert c["schemaChange"] == "no_change"
    for key in ["name", "syncCatalog", "syncSchema", "schedule", "scheduleType", "status"]:
        assert c[key] == connection[key], key
    assert "latestSyncJobStatus" not in c  # no job has run

    missing = str(uuid.uuid4())
    r = await post(client, "web_backend/connections/get", {"connectionId": missing})
    assert r.status_code == 404 and r.json()["id"] == missing


async def test_list_for_workspace(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    first = await hourly_connection(client, workspace_id)
    second = await hourly_connection(client, workspace_id)
    r = await post(client, "web_backend/connections/list", {"workspaceId": workspace_id})
    assert r.status_code == 200
    listed = r.json()["connections"]
    assert [c["connectionId"] for c in listed] == [first["connectionId"], second["connectionId"]]
    assert [c["source"]["sourceId"] for c in listed] == [first["sourceId"], second["sourceId"]]
    r = await post(client, "web_backend/connections/list", {"workspaceId": str(uuid.uuid4())})
    assert r.status_code == 404


async def test_create_source_and_destination_like_sources_create(
    client: httpx.AsyncClient,
) -> None:
    workspace_id = await default_workspace(client)
    r = await post(
        client,
        "web_backend/sources/create",
        {
            "workspaceId": workspace_id,
            "sourceDefinitionId": E2E,
            "name": "wb",
            "connectionConfiguration": {"max_messages": 1},
        },
    )
    assert r.status_code == 200, r.text
    got = await post(client, "sources/get", {"sourceId": r.json()["sourceId"]})
    assert got.json() == r.json()
    r = await post(
        client,
        "web_backend/destinations/create",
        {
            "workspaceId": workspace_id,
            "destinationDefinitionId": SQLITE,
            "name": "wb",
            "connectionConfiguration": {"destination_path": "/local/x.db"},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["destinationName"] == "Local SQLite"


async def test_recreate_source_replaces_it_and_its_connections(
    client: httpx.AsyncClient,
) -> None:
    workspace_id = await default_workspace(client)
    connection = await hourly_connection(client, workspace_id)
    old_id = connection["sourceId"]
    r = await post(
        client,
        "web_backend/sources/recreate",
        {
            "sourceId": old_id,
            "workspaceId": workspace_id,
            "sourceDefinitionId": E2E,
            "name": "Feed again",
            "connectionConfiguration": {"max_messages": 5},
        },
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["sourceId"] != old_id
    assert (new["name"], new["connectionConfiguration"]) == ("Feed again", {"max_messages": 5})
    assert (await post(client, "sources/get", {"sourceId": old_id})).status_code == 404
    r = await post(client, "connections/get", {"connectionId": connection["connectionId"]})
    assert r.status_code == 404


async def test_recreate_destination_and_unknown_ids(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    old = await make_destination(client, workspace_id)
    body = {
        "destinationId": old["destinationId"],
        "workspaceId": workspace_id,
        "destinationDefinitionId": SQLITE,
        "name": "Lake 2",
        "connectionConfiguration": {"destination_path": "/local/y.db"},
    }
    r = await post(client, "web_backend/destinations/recreate", body)
    assert r.status_code == 200, r.text
    assert r.json()["destinationId"] != old["destinationId"]
    listed = (await post(client, "destinations/list", {"workspaceId": workspace_id})).json()
    assert [d["name"] for d in listed["destinations"]] == ["Lake 2"]

    # Recreating something that is gone, or into a missing definition, changes nothing.
    r = await post(client, "web_backend/destinations/recreate", body)
    assert r.status_code == 404 and r.json()["id"] == old["destinationId"]
    current = await post(client, "destinations/list", {"workspaceId": workspace_id})
    bad_definition = {
        **body,
        "destinationId": listed["destinations"][0]["destinationId"],
        "destinationDefinitionId": E2E,
    }
    r = await post(client, "web_backend/destinations/recreate", bad_definition)
    assert r.status_code == 404 and r.json()["id"] == E2E
    assert (await post(client, "destinations/list", {"workspaceId": workspace_id})).json() == (
        current.json()
    )


async def test_operations_list_is_empty_until_operations_exist(
    client: httpx.AsyncClient,
) -> None:
    workspace_id = await default_workspace(client)
    connection = await hourly_connection(client, workspace_id)
    r = await post(client, "operations/list", {"connectionId": connection["connectionId"]})
    assert r.status_code == 200 and r.json() == {"operations": []}
    r = await post(client, "operations/list", {"workspaceId": workspace_id})
    assert r.status_code == 200 and r.json() == {"operations": []}
    r = await post(client, "operations/list", {"connectionId": str(uuid.uuid4())})
    assert r.status_code == 404
    r = await post(client, "operations/list", {})
    assert r.status_code == 422
    assert r.json()["validationErrors"][0]["propertyPath"] == "connectionId"


async def test_debug_info(client: httpx.AsyncClient) -> None:
    await make_source(client, await default_workspace(client))
    r = await post(client, "debug/info")
    assert r.status_code == 200
    info = r.json()["info"]
    assert info["version"] == "0.1.0"
    assert info["objects"]["sources"] == 1 and info["objects"]["workspaces"] == 1
    r = await client.get("/api/v1/debug")
    assert r.status_code == 200 and r.json()["info"]["objects"] == info["objects"]
