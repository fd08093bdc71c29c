"""A stream's mappers edited as JSON on the connection's page (a real file source): saved and
checked by the core as an API update is, a refusal shown beside the textarea with the text as
typed, and an AES key never in the page (masked), kept when the mask is sent back."""

from __future__ import annotations

import json
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
from tests.support.mappers import mapper
from tests.support.ui import browser, csrf_of, sign_in

AES_KEY = bytes(range(16)).hex()


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


async def save(b: httpx.AsyncClient, cid: str, text: str) -> httpx.Response:
    page = await b.get(f"/connections/{cid}")
    assert 'id="mappers-0-text"' in page.text
    return await b.post(
        f"/connections/{cid}/mappers",
        data={"csrf_token": csrf_of(page), "stream": "0", "name": "rows", "mappers": text},
    )


async def stored(api: httpx.AsyncClient, cid: str) -> list[dict[str, object]]:
    got = await ok(api, "connections/get", {"connectionId": cid})
    found: list[dict[str, object]] = got["syncCatalog"]["streams"][0]["config"].get("mappers") or []
    return found


async def test_mappers_saved_refused_beside_and_the_key_kept(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient], settings: Settings
) -> None:
    b, api = ui
    cid = await file_connection(api, settings, syncMode="full_refresh")
    renaming = mapper("field-renaming", originalFieldName="title", newFieldName="headline")
    r = await save(b, cid, json.dumps([renaming]))
    assert r.status_code == 303, r.text
    assert "Mappers of rows saved." in (await b.get(r.headers["location"])).text
    (kept,) = await stored(api, cid)
    assert kept["type"] == "field-renaming" and kept["id"]

    bad = json.dumps([mapper("field-renaming", originalFieldName="nope", newFieldName="x")])
    r = await save(b, cid, bad)
    assert r.status_code == 422
    assert 'id="mappers-0-error"' in r.text and "nope" in r.text
    assert 'aria-invalid="true"' in r.text
    assert "&#34;nope&#34;" in r.text  # the text as typed, in the textarea
    assert [m["type"] for m in await stored(api, cid)] == ["field-renaming"]
    r = await save(b, cid, "[{")
    assert r.status_code == 422 and "Not JSON" in r.text

    encryption = mapper(
        "encryption",
        algorithm="AES",
        targetField="title",
        key=AES_KEY,
        mode="CBC",
        padding="PKCS5Padding",
    )
    r = await save(b, cid, json.dumps([encryption]))
    assert r.status_code == 303, r.text
    page = await b.get(f"/connections/{cid}")
    assert AES_KEY not in page.text and "**********" in page.text
    (enc,) = await stored(api, cid)
    # Saved again as the page shows it (the mask): the stored key is kept, not refused.
    text = page.text.split('id="mappers-0-text"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    shown = json.loads(text.replace("&#34;", '"'))
    assert shown[0]["mapperConfiguration"]["key"] == "**********"
    r = await save(b, cid, json.dumps(shown))
    assert r.status_code == 303, r.text
    assert await stored(api, cid) == [enc]

    r = await save(b, cid, "")
    assert r.status_code == 303 and await stored(api, cid) == []
