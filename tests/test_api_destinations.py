from __future__ import annotations

import uuid

import httpx

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running
from tests.support.actors import SQLITE, default_workspace, make_destination

FAKER = "dfd88b22-b603-4c3d-aad7-3701784586b1"


async def test_create_get_list_update_delete(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    created = await make_destination(client, workspace_id, destination_path="/local/a.db")
    destination_id = created["destinationId"]
    assert created["destinationName"] == "Local SQLite"
    assert created["connectionConfiguration"] == {"destination_path": "/local/a.db"}
    assert created["workspaceId"] == workspace_id
    assert isinstance(created["createdAt"], int)

    r = await post(client, "destinations/get", {"destinationId": destination_id})
    assert r.json() == created

    r = await post(client, "destinations/list", {"workspaceId": workspace_id})
    assert [s["destinationId"] for s in r.json()["destinations"]] == [destination_id]

    r = await post(
        client,
        "destinations/update",
        {
            "destinationId": destination_id,
            "connectionConfiguration": {"destination_path": "/local/b.db"},
        },
    )
    assert r.status_code == 200, r.text
    # The configuration is replaced, the name kept.
    assert r.json()["connectionConfiguration"] == {"destination_path": "/local/b.db"}
    assert r.json()["name"] == "Local"
    r = await post(
        client,
        "destinations/update",
        {
            "destinationId": destination_id,
            "connectionConfiguration": {"destination_path": "/local/b.db"},
            "name": "Renamed",
        },
    )
    assert (await post(client, "destinations/get", {"destinationId": destination_id})).json()[
        "name"
    ] == "Renamed"

    r = await post(client, "destinations/delete", {"destinationId": destination_id})
    assert r.status_code == 204 and r.content == b""
    r = await post(client, "destinations/get", {"destinationId": destination_id})
    assert r.status_code == 404
    assert r.json()["id"] == destination_id and destination_id in r.json()["message"]


async def test_list_is_per_workspace_and_pages(client: httpx.AsyncClient) -> None:
    default = await default_workspace(client)
    other = (await post(client, "workspaces/create", {"name": "Other"})).json()["workspaceId"]
    mine = [(await make_destination(client, default, f"s{i}"))["destinationId"] for i in range(3)]
    theirs = (await make_destination(client, other, "t"))["destinationId"]
    r = await post(client, "destinations/list", {"workspaceId": default})
    assert [s["destinationId"] for s in r.json()["destinations"]] == mine
    r = await post(client, "destinations/list", {"workspaceId": other})
    assert [s["destinationId"] for s in r.json()["destinations"]] == [theirs]
    r = await post(client, "destinations/list", {"workspaceId": default, "pageSize": 2})
    assert [s["destinationId"] for s in r.json()["destinations"]] == mine[:2]


async def test_unknown_references_are_404_naming_the_id(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    missing = str(uuid.uuid4())
    r = await post(
        client,
        "destinations/create",
        {
            "workspaceId": missing,
            "destinationDefinitionId": SQLITE,
            "name": "x",
            "connectionConfiguration": {"destination_path": "/local/x.db"},
        },
    )
    assert r.status_code == 404 and r.json()["id"] == missing
    assert "workspace" in r.json()["message"]
    # A source definition id is not a destination definition id.
    r = await post(
        client,
        "destinations/create",
        {
            "workspaceId": workspace_id,
            "destinationDefinitionId": FAKER,
            "name": "x",
            "connectionConfiguration": {"destination_path": "/local/x.db"},
        },
    )
    assert r.status_code == 404 and r.json()["id"] == FAKER
    assert "destination definition" in r.json()["message"]
    r = await post(client, "destinations/list", {"workspaceId": missing})
    assert r.status_code == 404
    r = await post(
        client,
        "destinations/update",
        {"destinationId": missing, "connectionConfiguration": {"destination_path": "/local/x.db"}},
    )
    assert r.status_code == 404 and r.json()["id"] == missing
    r = await post(client, "destinations/delete", {"destinationId": missing})
    assert r.status_code == 404
    assert (await post(client, "destinations/list", {"workspaceId": workspace_id})).json() == {
        "destinations": []
    }


async def test_configuration_must_be_an_object(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    r = await post(
        client,
        "destinations/create",
        {
            "workspaceId": workspace_id,
            "destinationDefinitionId": SQLITE,
            "name": "x",
            "connectionConfiguration": "count=10",
        },
    )
    assert r.status_code == 422
    error = r.json()["validationErrors"][0]
    assert error["propertyPath"] == "connectionConfiguration"
    assert error["invalidValue"] == "count=10"


async def test_deleting_a_workspace_deletes_its_destinations(client: httpx.AsyncClient) -> None:
    other = (await post(client, "workspaces/create", {"name": "Temp"})).json()["workspaceId"]
    destination_id = (await make_destination(client, other))["destinationId"]
    assert (await post(client, "workspaces/delete", {"workspaceId": other})).status_code == 204
    assert (
        await post(client, "destinations/get", {"destinationId": destination_id})
    ).status_code == 404


async def test_destinations_survive_a_restart(settings: Settings) -> None:
    async with running(create_app(settings)) as c:
        created = await make_destination(
            c, await default_workspace(c), destination_path="/local/kept.db"
        )
    async with running(create_app(settings)) as c:
        r = await post(c, "destinations/get", {"destinationId": created["destinationId"]})
    assert r.json() == created
