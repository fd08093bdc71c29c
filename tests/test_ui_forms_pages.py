"""The sources and destinations pages through the in-process app (server.ui.actors): forms
drawn from the seeded connectors' specs, test the connection, create, edit with a stored
secret, delete; refusals next to their fields; no secret value in any page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from tests.conftest import post
from tests.support.api_jobs import E2E_TEST, POSTGRES, SQLITE, workspace_id
from tests.support.ui_forms import Ui, signed_in_ui

FILE_SOURCE = "778daa7c-feaf-4db6-96f3-70fd645acc77"
SECRET = "pg-pass-7c1f0e"


@pytest.fixture
async def ui(app: Starlette) -> AsyncIterator[Ui]:
    async with signed_in_ui(app) as signed:
        yield signed


async def test_the_new_source_page_lists_connectors_and_draws_their_form(ui: Ui) -> None:
    picks = await ui.get("/sources/new")
    assert f"/sources/new?definition={FILE_SOURCE}" in picks
    form = await ui.get(f"/sources/new?definition={FILE_SOURCE}")
    assert 'name="config/dataset_name"' in form and "(required)" in form
    assert '<option value="csv" selected>' in form  # the enum's default
    assert 'name="config/provider/@"' in form  # the oneOf group


async def test_a_refused_configuration_shows_each_problem_beside_its_field(ui: Ui) -> None:
    await ui.get(f"/sources/new?definition={E2E_TEST}")
    fields = {
        "definition": E2E_TEST,
        "name": "e2e",
        "action": "save",
        "config/max_messages": "many",
        "config/message_interval_ms": "70000",
        "config/type": "CONTINUOUS_FEED",
    }
    r = await ui.post("/sources/new", fields, status=422)
    assert "Enter a whole number." in r.text
    assert 'value="many"' in r.text  # what was typed, shown again
    fields["config/max_messages"] = "5"
    r = await ui.post("/sources/new", fields, status=422)
    assert "70000 is greater than the maximum of 60000" in r.text
    assert 'aria-invalid="true"' in r.text


async def test_a_failed_check_shows_the_connectors_message_and_saves_nothing(ui: Ui) -> None:
    await ui.get(f"/sources/new?definition={FILE_SOURCE}")
    fields = {
        "definition": FILE_SOURCE,
        "name": "people",
        "action": "check",
        "config/dataset_name": "people",
        "config/format": "csv",
        "config/url": "/local/missing.csv",
        "config/provider/@": "0",
    }
    r = await ui.post("/sources/new", fields)
    assert "The connection test failed." in r.text
    message = re.search(r'<p class="check-message">(.*?)</p>', r.text, re.S)
    assert message and "missing.csv" in message.group(1)
    assert "No sources yet." in await ui.get("/sources")


async def test_create_check_edit_and_delete_a_destination_with_a_secret(ui: Ui) -> None:
    """Postgres' password: typed once, never in a page again; a blank one on edit keeps it."""
    await ui.get(f"/destinations/new?definition={POSTGRES}")
    fields = {
        "definition": POSTGRES,
        "name": "warehouse",
        "action": "save",
        "config/host": "127.0.0.1",
        "config/port": "1",
        "config/database": "d",
        "config/schema": "public",
        "config/username": "u",
        "config/password": SECRET,
        "config/ssl_mode/@": "0",
    }
    r = await ui.post("/destinations/new", fields, status=303)
    page = r.headers["location"]
    assert re.fullmatch(r"/destinations/[0-9a-f-]{36}", page)
    edit = await ui.get(page)
    assert 'value="warehouse"' in edit and "leave blank to keep it" in edit
    # Saved with the password left blank: the stored one stays (the check then uses it).
    changed = {**fields, "name": "warehouse 2", "config/password": "", "config/host": "localhost"}
    await ui.post(page, changed, status=303)
    api = ui.api
    destination_id = page.rsplit("/", 1)[1]
    stored = await post(api, "destinations/get", {"destinationId": destination_id})
    assert stored.json()["name"] == "warehouse 2"
    assert stored.json()["connectionConfiguration"]["host"] == "localhost"
    assert stored.json()["connectionConfiguration"]["password"] == "**********"
    check = await ui.post(page, {**changed, "action": "check"})
    assert "The connection test failed." in check.text  # nothing listens on port 1
    await ui.get("/destinations")
    await ui.post(page + "/delete", {}, status=303)
    assert "No destinations yet." in await ui.get("/destinations")
    await ui.get(page, status=404)
    assert not [p for p in ui.pages if SECRET in p], "a secret value in a page"


async def test_a_stored_source_round_trips_through_its_edit_form(ui: Ui) -> None:
    api = ui.api
    config = {"destination_path": "/local/ui.db"}
    body = {
        "workspaceId": await workspace_id(api),
        "destinationDefinitionId": SQLITE,
        "name": "local db",
        "connectionConfiguration": config,
    }
    created = (await post(api, "destinations/create", body)).json()
    page = f"/destinations/{created['destinationId']}"
    html = await ui.get(page)
    assert 'value="/local/ui.db"' in html
    fields = {"name": "local db", "action": "save", "config/destination_path": "/etc/passwd"}
    r = await ui.post(page, fields, status=422)
    assert "/local" in r.text and 'aria-invalid="true"' in r.text  # the core's path rule
    await ui.post(page, {**fields, "config/destination_path": "/local/ui2.db"}, status=303)
    again = await post(api, "destinations/get", {"destinationId": created["destinationId"]})
    assert again.json()["connectionConfiguration"] == {"destination_path": "/local/ui2.db"}


async def test_unknown_ids_and_bad_tokens_are_pages_not_tracebacks(ui: Ui) -> None:
    await ui.get("/sources/not-a-uuid", status=404)
    await ui.get("/sources/00000000-0000-0000-0000-000000000000", status=404)
    await ui.get(f"/sources/new?definition={SQLITE}", status=404)  # a destination's
    ui.token = "forged"
    await ui.post("/sources/new", {"definition": E2E_TEST, "name": "x"}, status=403)


async def test_the_list_is_paged_and_filtered_by_name(ui: Ui) -> None:
    workspace = await workspace_id(ui.api)
    for i in range(55):
        body = {
            "workspaceId": workspace,
            "sourceDefinitionId": E2E_TEST,
            "name": f"feed {i:02d}" if i % 11 else f"special {i:02d}",
            "connectionConfiguration": {"max_messages": 1},
        }
        assert (await post(ui.api, "sources/create", body)).status_code == 200
    first = await ui.get("/sources")
    assert "Sources 1 to 50 of 55" in first and first.count('<tr><td><a href="/sources/') == 50
    assert 'href="/sources?page=2"' in first and "Previous page" not in first
    second = await ui.get("/sources?page=2")
    assert "Sources 51 to 55 of 55" in second and "Next page" not in second
    names = re.findall(r'<tr><td><a href="/sources/[^"]+">([^<]+)</a>', first + second)
    assert len(set(names)) == 55  # every one once
    special = await ui.get("/sources?name=SPECIAL")
    assert "of 5<" in special and special.count('<tr><td><a href="/sources/') == 5
    assert "No source has “nothing” in its name." in await ui.get("/sources?name=nothing")
    assert "Sources 1 to 50" in await ui.get("/sources?page=junk")
