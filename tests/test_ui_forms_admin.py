"""The definitions and settings pages through the in-process app (server.ui.definitions,
server.ui.settings_pages): a definition within the allow-lists is added and one outside them is
refused with the core's message; an application's secret and an API key are shown once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import post
from tests.support.ui_forms import Ui, signed_in_ui


@pytest.fixture
async def ui(app: Starlette) -> AsyncIterator[Ui]:
    async with signed_in_ui(app) as signed:
        yield signed


async def test_definitions_lists_the_seeded_connectors(ui: Ui) -> None:
    html = await ui.get("/definitions")
    assert "sluice/source-e2e-test:0.1.0" in html and "sluice/destination-sqlite" in html


async def test_an_allowed_image_is_added_and_an_unlisted_one_refused(ui: Ui) -> None:
    await ui.get("/definitions")
    fields = {"kind": "source", "runner": "docker", "name": "PG", "tag": "3.6.0"}
    refused = await ui.post("/definitions", {**fields, "repository": "evil/miner"}, status=422)
    assert "Image &#39;evil/miner&#39; is not allowed" in refused.text
    assert 'value="evil/miner"' in refused.text  # the form comes back as sent
    r = await ui.post("/definitions", {**fields, "repository": "airbyte/source-postgres"}, 303)
    listed = await ui.get(r.headers["location"])
    assert "airbyte/source-postgres:3.6.0" in listed and "(custom)" in listed
    api_list = await post(ui.api, "source_definitions/list")
    names = [d["name"] for d in api_list.json()["sourceDefinitions"]]
    assert "PG" in names


async def test_a_local_program_must_be_a_connector_program(ui: Ui) -> None:
    await ui.get("/definitions")
    fields = {"kind": "destination", "runner": "process", "name": "Shell", "command": "sh -c id"}
    refused = await ui.post("/definitions", fields, status=422)
    assert "is a shell, interpreter or launcher" in refused.text
    missing = await ui.post("/definitions", {**fields, "command": ""}, status=422)
    assert "A local program needs its command" in missing.text
    ok = {**fields, "name": "Null", "command": "destination-dev-null"}
    r = await ui.post("/definitions", ok, status=303)
    html = await ui.get(r.headers["location"])
    assert "local/destination-dev-null:local" in html
    # A custom definition can be deleted from the list; a seeded one has no delete button.
    delete = re.search(r'action="(/definitions/destination/[0-9a-f-]{36}/delete)"', html)
    assert delete is not None
    await ui.post(delete.group(1), {}, status=303)
    assert "local/destination-dev-null" not in await ui.get("/definitions")


async def test_an_application_secret_is_shown_once(ui: Ui) -> None:
    await ui.get("/settings")
    r = await ui.post("/settings/applications", {"name": "etl"})
    secret = re.search(r'<code class="secret">([^<]+)</code>', r.text)
    client_id = re.search(r"<dt>Client id</dt><dd><code>([^<]+)</code>", r.text)
    assert secret and client_id
    again = await ui.get("/settings")
    assert secret.group(1) not in again and client_id.group(1) in again
    # The secret works: it gets a token.
    body = {"client_id": client_id.group(1), "client_secret": secret.group(1)}
    token = await ui.api.post("/api/v1/applications/token", json=body)
    assert token.status_code == 200, token.text
    delete = re.search(r'action="(/settings/applications/[0-9a-f-]{36}/delete)"', again)
    assert delete
    await ui.post(delete.group(1), {}, status=303)
    assert client_id.group(1) not in await ui.get("/settings")


async def test_an_api_key_is_shown_once_and_revoked(ui: Ui) -> None:
    await ui.get("/settings")
    await ui.post("/settings/keys", {"name": ""}, status=422)
    await ui.post("/settings/keys", {"name": "ci", "days": "0"}, status=422)
    r = await ui.post("/settings/keys", {"name": "ci", "days": "30"})
    key = re.search(r'<code class="secret">([^<]+)</code>', r.text)
    assert key
    again = await ui.get("/settings")
    assert key.group(1) not in again and ">active<" in again
    async with httpx.AsyncClient(transport=ui.api._transport, base_url="http://localhost") as c:
        headers = {"Authorization": f"Bearer {key.group(1)}"}
        assert (
            await c.post("/api/v1/workspaces/list", json={}, headers=headers)
        ).status_code == 200
        revoke = re.search(r'action="(/settings/keys/[0-9a-f-]{36}/revoke)"', again)
        assert revoke
        await ui.post(revoke.group(1), {}, status=303)
        assert ">revoked<" in await ui.get("/settings")
        assert (
            await c.post("/api/v1/workspaces/list", json={}, headers=headers)
        ).status_code == 401


async def test_a_definition_with_a_program_switches_between_docker_and_local(ui: Ui) -> None:
    listed = await post(ui.api, "source_definitions/list")
    (e2e,) = [d for d in listed.json()["sourceDefinitions"] if d["name"] == "E2E Testing"]
    assert e2e["runner"] == "process"  # seeded as a local program, with an image too
    action = f"/definitions/source/{e2e['sourceDefinitionId']}/runner"
    assert f'action="{action}"' in await ui.get("/definitions")
    for runner, said in (("docker", "as a Docker image"), ("process", "as a local program")):
        r = await ui.post(action, {"runner": runner}, status=303)
        assert f"now runs {said}" in await ui.get(r.headers["location"])
        got = await post(
            ui.api, "source_definitions/get", {"sourceDefinitionId": e2e["sourceDefinitionId"]}
        )
        assert got.json()["runner"] == runner
