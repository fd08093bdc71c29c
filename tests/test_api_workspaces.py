from __future__ import annotations

import uuid

import httpx
from sqlite_utils import Database

from server.app import create_app
from server.models.workspaces import DEFAULT_ORGANIZATION_ID
from server.settings import Settings
from server.store import workspaces as store
from server.store.migrations import m008_always_sent_fields
from tests.conftest import post, running
from tests.support.postgres import sqlite_only


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


async def test_workspaces_carry_organization_and_onboarding(client: httpx.AsyncClient) -> None:
    # Airbyte's WorkspaceRead requires organizationId; the early API's onboardingComplete.
    default = (await post(client, "workspaces/list")).json()["workspaces"][0]
    assert default["organizationId"] == str(DEFAULT_ORGANIZATION_ID)
    assert default["onboardingComplete"] is True
    created = (await post(client, "workspaces/create", {"name": "Ops"})).json()
    assert created["organizationId"] == "00000000-0000-0000-0000-000000000000"
    assert created["onboardingComplete"] is False

    wid = created["workspaceId"]
    r = await post(client, "workspaces/update", {"workspaceId": wid, "onboardingComplete": True})
    assert r.status_code == 200 and r.json()["onboardingComplete"] is True
    r = await post(client, "workspaces/update", {"workspaceId": wid, "name": "Ops 2"})
    assert r.json()["onboardingComplete"] is True  # left out: kept
    r = await post(client, "workspaces/get", {"workspaceId": wid})
    assert r.json()["onboardingComplete"] is True and r.json()["name"] == "Ops 2"


@sqlite_only
def test_workspaces_stored_before_the_fields_get_them(db: Database) -> None:
    ids = [row[0] for row in db.execute("SELECT id FROM workspaces")]
    # As a workspace was stored before organizationId and onboardingComplete were required.
    db.execute(
        "UPDATE workspaces SET data = json_remove(data, '$.organizationId', '$.onboardingComplete')"
    )
    m008_always_sent_fields(db)
    for wid in ids:
        got = store.get_workspace(db, wid)
        assert got.organization_id == DEFAULT_ORGANIZATION_ID and got.onboarding_complete is True
