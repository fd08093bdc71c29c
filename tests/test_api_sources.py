from __future__ import annotations

import uuid

import httpx

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running
from tests.support.actors import DEV_NULL, E2E, default_workspace, make_source


async def test_create_get_list_update_delete(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    created = await make_source(client, workspace_id, max_messages=10, seed=3)
    source_id = created["sourceId"]
    assert created["sourceName"] == "E2E Testing"
    assert created["connectionConfiguration"] == {"max_messages": 10, "seed": 3}
    assert created["workspaceId"] == workspace_id
    assert isinstance(created["createdAt"], int)

    r = await post(client, "sources/get", {"sourceId": source_id})
    assert r.json() == created

    r = await post(client, "sources/list", {"workspaceId": workspace_id})
    assert [s["sourceId"] for s in r.json()["sources"]] == [source_id]

    r = await post(
        client,
        "sources/update",
        {"sourceId": source_id, "connectionConfiguration": {"max_messages": 20}},
    )
    assert r.status_code == 200, r.text
    # The configuration is replaced, the name kept.
    assert r.json()["connectionConfiguration"] == {"max_messages": 20}
    assert r.json()["name"] == "Test source"
    r = await post(
        client,
        "sources/update",
        {"sourceId": source_id, "connectionConfiguration": {"max_messages": 20}, "name": "Renamed"},
    )
    assert (await post(client, "sources/get", {"sourceId": source_id})).json()["name"] == "Renamed"

    r = await post(client, "sources/delete", {"sourceId": source_id})
    assert r.status_code == 204 and r.content == b""
    r = await post(client, "sources/get", {"sourceId": source_id})
    assert r.status_code == 404
    assert r.json()["id"] == source_id and source_id in r.json()["message"]


async def test_list_is_per_workspace_and_pages(client: httpx.AsyncClient) -> None:
    default = await default_workspace(client)
    other = (await post(client, "workspaces/create", {"name": "Other"})).json()["workspaceId"]
    mine = [(await make_source(client, default, f"s{i}"))["sourceId"] for i in range(3)]
    theirs = (await make_source(client, other, "t"))["sourceId"]
    r = await post(client, "sources/list", {"workspaceId": default})
    assert [s["sourceId"] for s in r.json()["sources"]] == mine
    r = await post(client, "sources/list", {"workspaceId": other})
    assert [s["sourceId"] for s in r.json()["sources"]] == [theirs]
    r = await post(client, "sources/list", {"workspaceId": default, "pageSize": 2})
    assert [s["sourceId"] for s in r.json()["sources"]] == mine[:2]


async def test_unknown_references_are_404_naming_the_id(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    missing = str(uuid.uuid4())
    r = await post(
        client,
        "sources/create",
        {
            "workspaceId": missing,
            "sourceDefinitionId": E2E,
            "name": "x",
            "connectionConfiguration": {},
        },
    )
    assert r.status_code == 404 and r.json()["id"] == missing
    assert "workspace" in r.json()["message"]
    # A destination definition id is not a source definition id.
    r = await post(
        client,
        "sources/create",
        {
            "workspaceId": workspace_id,
            "sourceDefinitionId": DEV_NULL,
            "name": "x",
            "connectionConfiguration": {},
        },
    )
    assert r.status_code == 404 and r.json()["id"] == DEV_NULL
    assert "source definition" in r.json()["message"]
    r = await post(client, "sources/list", {"workspaceId": missing})
    assert r.status_code == 404
    r = await post(client, "sources/update", {"sourceId": missing, "connectionConfiguration": {}})
    assert r.status_code == 404 and r.json()["id"] == missing
    r = await post(client, "sources/delete", {"sourceId": missing})
    assert r.status_code == 404
    assert (await post(client, "sources/list", {"workspaceId": workspace_id})).json() == {
        "sources": []
    }


async def test_configuration_must_be_an_object(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    r = await post(
        client,
        "sources/create",
        {
            "workspaceId": workspace_id,
            "sourceDefinitionId": E2E,
            "name": "x",
            "connectionConfiguration": "count=10",
        },
    )
    assert r.status_code == 422
    error = r.json()["validationErrors"][0]
    assert error["propertyPath"] == "connectionConfiguration"
    assert error["invalidValue"] == "count=10"


async def test_deleting_a_workspace_deletes_its_sources(client: httpx.AsyncClient) -> None:
    other = (await post(client, "workspaces/create", {"name": "Temp"})).json()["workspaceId"]
    source_id = (await make_source(client, other))["sourceId"]
    assert (await post(client, "workspaces/delete", {"workspaceId": other})).status_code == 204
    assert (await post(client, "sources/get", {"sourceId": source_id})).status_code == 404


async def test_sources_survive_a_restart(settings: Settings) -> None:
    async with running(create_app(settings)) as c:
        created = await make_source(c, await default_workspace(c), seed=7)
    async with running(create_app(settings)) as c:
        r = await post(c, "sources/get", {"sourceId": created["sourceId"]})
    assert r.json() == created
