"""Schema changes on a connection's page, with a real file source (source-file reading a CSV
under /local) into SQLite: "Refresh the source schema" after the file gains a column shows the
change in words; a breaking change (the cursor removed) shows the pause and its reason; the
refreshed schema applied; the two settings saved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings
from tests.conftest import running
from tests.support.api_jobs import fast_settings, ok
from tests.support.file_source import file_connection
from tests.support.ui import browser, sign_in, submit

WIDER = "id,title,updated_at,email\n1,a,2024-01-01,a@example.com\n"
NO_CURSOR = "id,title,email\n1,a,a@example.com\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    found = fast_settings(tmp_path)
    found.local_path.mkdir(parents=True, exist_ok=True)
    return found


@pytest.fixture
async def ui(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    app: Starlette = create_app(settings)
    async with running(app) as api, browser(app) as b:
        assert (await sign_in(b)).status_code == 303
        yield b, api


async def test_a_new_column_shows_after_a_refresh_and_can_be_applied(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient], settings: Settings
) -> None:
    b, api = ui
    cid = await file_connection(api, settings, syncMode="full_refresh")
    here = f"/connections/{cid}"
    page = await b.get(here)
    assert "has not been compared" in page.text and "Refresh the source schema" in page.text

    (settings.local_path / "rows.csv").write_text(WIDER)
    r = await submit(b, here, here + "/schema/refresh")
    assert r.status_code == 303, r.text
    page = await b.get(r.headers["location"])
    assert "The source&#39;s schema has a change." in page.text
    assert "Non-breaking change" in page.text
    assert "Modified stream &#39;rows&#39;: added fields [&#39;email&#39;]" in page.text
    assert "(breaking)" not in page.text
    got = await ok(api, "connections/get", {"connectionId": cid})
    assert got["status"] == "active"

    r = await submit(b, here, here + "/schema/apply")
    assert r.status_code == 303
    page = await b.get(r.headers["location"])
    assert "is the connection&#39;s now" in page.text
    assert "No change: the source's schema matches" in page.text
    got = await ok(api, "connections/get", {"connectionId": cid})
    (item,) = got["syncCatalog"]["streams"]
    assert "email" in item["stream"]["jsonSchema"]["properties"]


async def test_a_breaking_change_shows_the_pause_and_its_reason(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient], settings: Settings
) -> None:
    b, api = ui
    cid = await file_connection(api, settings, syncMode="incremental", cursorField=["updated_at"])
    here = f"/connections/{cid}"
    (settings.local_path / "rows.csv").write_text(NO_CURSOR)
    r = await submit(b, here, here + "/schema/refresh")
    page = await b.get(r.headers["location"])
    assert "a breaking change" in page.text
    assert "Breaking change" in page.text
    assert "&#39;updated_at&#39; (breaking)" in page.text
    got = await ok(api, "connections/get", {"connectionId": cid})
    assert got["status"] == "inactive" and got["breakingChange"] is True
    assert got["statusReason"]
    assert 'id="status-reason"' in page.text
    assert got["statusReason"].replace("'", "&#39;") in page.text


async def test_the_schema_settings_are_saved(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient], settings: Settings
) -> None:
    b, api = ui
    cid = await file_connection(api, settings, syncMode="full_refresh")
    here = f"/connections/{cid}"
    r = await submit(
        b, here, here + "/schema/settings", {"preference": "propagate_fully", "notify": "on"}
    )
    assert r.status_code == 303
    assert "Schema settings saved." in (await b.get(r.headers["location"])).text
    got = await ok(api, "connections/get", {"connectionId": cid})
    assert got["nonBreakingChangesPreference"] == "propagate_fully"
    assert got["notifySchemaChanges"] is True
    page = await b.get(here)
    assert '<option value="propagate_fully" selected>' in page.text

    r = await submit(b, here, here + "/schema/settings", {"preference": "disable"})
    got = await ok(api, "connections/get", {"connectionId": cid})
    assert got["nonBreakingChangesPreference"] == "disable"
    assert got["notifySchemaChanges"] is False
    r = await submit(b, here, here + "/schema/settings", {"preference": "sometimes"})
    assert r.status_code == 400
