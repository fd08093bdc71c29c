from __future__ import annotations

import uuid

import httpx

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running


async def test_default_workspace_exists_after_first_start(client: httpx.AsyncClient) -> None:
    r = await post(client, "workspaces/list")
    assert r.status_code == 200
    workspaces = r.json()["workspaces"]
    assert [w["slug"] for w in workspaces] == ["default"]
    uuid.UUID(workspaces[0]["workspaceId"])


async def test_create_get_update_delete(client: httpx.AsyncClient) -> None:
    r = await post(client, "workspaces/create", {"name": "Data Team", "email": "a@b.c"})
    assert r.status_code == 200
    created = r.json()
    assert created["slug"] == "data-team" and created["email"] == "a@b.c"
    wid = created["workspaceId"]

    r = await post(client, "workspaces/get_by_slug", {"slug": "data-team"})
    assert r.json()["workspaceId"] == wid

    r = await post(client, "workspaces/update", {"workspaceId": wid, "news": True})
    assert r.status_code == 200
    assert r.json()["news"] is True and r.json()["email"] == "a@b.c"

    r = await post(client, "workspaces/delete", {"workspaceId": wid})
    assert r.status_code == 204 and r.content == b""
    r = await post(client, "workspaces/get", {"workspaceId": wid})
    assert r.status_code == 404
    assert r.json()["id"] == wid


async def test_same_name_gets_a_distinct_slug(client: httpx.AsyncClient) -> None:
    first = (await post(client, "workspaces/create", {"name": "Ops"})).json()
    second = (await post(client, "workspaces/create", {"name": "Ops"})).json()
    assert first["slug"] == "ops" and second["slug"] == "ops-2"


async def test_workspaces_survive_a_restart(settings: Settings) -> None:
    async with running(create_app(settings)) as c:
        await post(c, "workspaces/create", {"name": "Kept"})
    async with running(create_app(settings)) as c:
        slugs = [w["slug"] for w in (await post(c, "workspaces/list")).json()["workspaces"]]
    assert slugs == ["default", "kept"]
