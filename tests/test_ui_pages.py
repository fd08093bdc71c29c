"""The web UI's pages with real connectors (source-e2e-test into destination-dev-null): a
connection created through the form, its page and actions, its job history, and a job's live
log over server-sent events until it ends; escaping and no secret in any page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from tests.conftest import running
from tests.support.api_jobs import (
    DEV_NULL,
    POSTGRES,
    SILENT,
    fast_settings,
    make_destination,
    make_source,
    ok,
    wait_job,
)
from tests.support.ui import browser, csrf_of, sign_in, submit

SECRET = "pw-that-must-never-show-7f3a"


@pytest.fixture
async def ui(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(a signed-in browser, an API client) of one running server."""
    app: Starlette = create_app(fast_settings(tmp_path))
    async with running(app) as api, browser(app) as b:
        r = await sign_in(b)
        assert r.status_code == 303
        yield b, api


async def new_connection(b: httpx.AsyncClient, api: httpx.AsyncClient, name: str) -> str:
    source = await make_source(api, {"max_messages": 25}, name="Feed")
    destination = await make_destination(api, DEV_NULL, SILENT, name="Sink")
    form = await b.get(f"/connections/new?source={source}")
    assert form.status_code == 200 and "Feed" in form.text and "Sink" in form.text
    r = await b.post(
        "/connections/new",
        data={
            "csrf_token": csrf_of(form),
            "source": source,
            "destination": destination,
            "name": name,
        },
    )
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/connections/([0-9a-f-]{36})", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)


def events(body: str) -> list[tuple[str, str]]:
    found = []
    for block in body.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if "event" in fields:
            found.append((fields["event"], fields.get("data", "")))
    return found


async def test_create_sync_and_watch_the_log_to_the_end(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, api = ui
    cid = await new_connection(b, api, "Feed to sink")
    page = await b.get(f"/connections/{cid}")
    assert page.status_code == 200
    assert "Connection created." in page.text  # the flash message
    streams = (await ok(api, "connections/get", {"connectionId": cid}))["syncCatalog"]["streams"]
    assert streams and all(s["config"]["selected"] for s in streams)
    for s in streams:
        assert s["stream"]["name"] in page.text

    r = await submit(b, f"/connections/{cid}", f"/connections/{cid}/sync")
    assert r.status_code == 303
    job_id = int(r.headers["location"].rsplit("/", 1)[1])
    log_page = await b.get(r.headers["location"])
    assert log_page.status_code == 200 and f"job {job_id}" in log_page.text
    assert "Sync started" in log_page.text

    # The live log: from the start of attempt 1 until the job ends (the in-process client
    # reads the stream whole, so this returns when the stream ends).
    stream = await b.get(f"/jobs/{job_id}/log-stream?attempt=0&offset=0", timeout=120)
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    got = events(stream.text)
    assert got[-1] == ("end", "succeeded"), got[-5:]
    lines = [data for kind, data in got if kind == "line"]
    assert any("succeeded" in line for line in lines), lines[-5:]
    assert ("status", "succeeded") in got

    info = await wait_job(api, job_id)
    records = info["job"]["aggregatedStats"]["recordsCommitted"]
    assert records > 0
    page = await b.get(f"/connections/{cid}")
    assert f"{records:,} records" in page.text
    done = await b.get(f"/jobs/{job_id}")
    assert "data-stream" not in done.text  # nothing left to tail
    assert "succeeded" in done.text
    history = await b.get(f"/connections/{cid}/jobs")
    assert history.status_code == 200 and f"Sync {job_id}" in history.text

    listed = await b.get("/connections")
    assert "Feed to sink" in listed.text and "Feed → Sink" in listed.text
    assert f"{records:,}" in listed.text


async def test_the_stream_from_an_offset_sends_only_newer_lines(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, api = ui
    cid = await new_connection(b, api, "Offsets")
    job_id = (await ok(api, "connections/sync", {"connectionId": cid}))["job"]["id"]
    await wait_job(api, job_id)
    whole = [d for k, d in events((await b.get(f"/jobs/{job_id}/log-stream")).text) if k == "line"]
    page = await b.get(f"/jobs/{job_id}")
    assert all(line.replace("<", "&lt;")[:40] in page.text for line in whole[:3])
    body = "".join(line + "\n" for line in whole[:2]).encode()
    later = events((await b.get(f"/jobs/{job_id}/log-stream?offset={len(body)}")).text)
    assert [d for k, d in later if k == "line"] == whole[2:]
    assert (await b.get("/jobs/999999/log-stream")).status_code == 404
    assert (await b.get("/jobs/999999")).status_code == 404


async def test_actions_change_the_connection_and_refusals_show_the_message(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, api = ui
    cid = await new_connection(b, api, "Actions")
    here = f"/connections/{cid}"

    async def status() -> str:
        return str((await ok(api, "connections/get", {"connectionId": cid}))["status"])

    r = await submit(b, here, here + "/status", {"status": "inactive"})
    assert r.status_code == 303 and await status() == "inactive"
    assert "Connection disabled." in (await b.get(here)).text
    await submit(b, here, here + "/status", {"status": "active"})
    assert await status() == "active"

    r = await submit(
        b,
        here,
        here + "/schedule",
        {"schedule_type": "cron", "cron": "0 0 12 * * ?", "zone": "UTC"},
    )
    page = await b.get(here)
    assert "Schedule saved." in page.text and "At 12:00 PM" in page.text
    assert page.text.count(":00 UTC") >= 3  # the next runs
    got = await ok(api, "connections/get", {"connectionId": cid})
    assert got["scheduleType"] == "cron"
    assert got["scheduleData"]["cron"]["cronExpression"] == "0 0 12 * * ?"
    r = await submit(
        b, here, here + "/schedule", {"schedule_type": "cron", "cron": "not cron", "zone": "UTC"}
    )
    page = await b.get(here)
    assert "flash-error" in page.text and "Schedule saved." not in page.text
    await submit(
        b, here, here + "/schedule", {"schedule_type": "basic", "units": "6", "time_unit": "hours"}
    )
    assert "Every 6 hours" in (await b.get(here)).text
    await submit(b, here, here + "/schedule", {"schedule_type": "manual"})
    assert (await ok(api, "connections/get", {"connectionId": cid}))["scheduleType"] == "manual"

    # Streams: deselect the first, choose columns of the second.
    catalog = (await ok(api, "connections/get", {"connectionId": cid}))["syncCatalog"]["streams"]
    fields: dict[str, str | list[str]] = {}
    for i, s in enumerate(catalog):
        fields[f"s{i}.name"] = s["stream"]["name"]
        fields[f"s{i}.mode"] = "full_refresh/overwrite"
        if i > 0:
            fields[f"s{i}.selected"] = "on"
    columns = list(catalog[-1]["stream"]["jsonSchema"]["properties"])
    last = len(catalog) - 1
    fields[f"s{last}.fieldSelection"] = "on"
    fields[f"s{last}.field"] = columns[:1]
    page = await b.get(here)
    r = await b.post(here + "/streams", data={"csrf_token": csrf_of(page), **fields})
    assert r.status_code == 303
    after = (await ok(api, "connections/get", {"connectionId": cid}))["syncCatalog"]["streams"]
    if len(after) > 1:
        assert after[0]["config"]["selected"] is False
    assert after[-1]["config"]["fieldSelectionEnabled"] is True
    assert after[-1]["config"]["selectedFields"] == [{"fieldPath": [columns[0]]}]
    assert "Streams saved." in (await b.get(here)).text or "flash" in (await b.get(here)).text

    # Sync now twice: the second is refused with the core's message; cancel ends the first.
    r = await submit(b, here, here + "/sync")
    job_id = int(r.headers["location"].rsplit("/", 1)[1])
    r = await b.post(here + "/sync", data={"csrf_token": csrf_of(await b.get("/connections"))})
    assert r.headers["location"] == here
    page = await b.get(here)
    assert "already running" in page.text
    r = await submit(b, here, here + "/cancel", {"job": str(job_id)})
    assert r.status_code == 303
    info = await wait_job(api, job_id)
    assert info["job"]["status"] in ("cancelled", "succeeded")

    for action, kind in (("reset", "reset_connection"), ("clear", "clear")):
        r = await submit(b, here, f"{here}/{action}")
        reset_id = int(r.headers["location"].rsplit("/", 1)[1])
        info = await wait_job(api, reset_id)
        assert info["job"]["configType"] == kind

    assert (
        await b.get("/connections/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12)
    ).status_code == 404
    assert (await b.get("/connections/not-an-id")).status_code == 404


async def test_list_filters_by_name_and_status_and_pages(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, api = ui
    source = await make_source(api, {"max_messages": 1}, name="S")
    destination = await make_destination(api, DEV_NULL, SILENT, name="D")
    discovered = await ok(api, "sources/discover_schema", {"sourceId": source})
    streams = [
        {"stream": e["stream"], "config": {**e["config"], "selected": True}}
        for e in discovered["catalog"]["streams"]
    ]
    for i in range(55):
        await ok(
            api,
            "connections/create",
            {
                "sourceId": source,
                "destinationId": destination,
                "name": f"{'alpha' if i % 2 else 'beta'} {i:02d}",
                "status": "active" if i % 5 else "inactive",
                "syncCatalog": {"streams": streams},
            },
        )
    first = await b.get("/connections")
    assert len(re.findall(r'href="/connections/[0-9a-f-]{36}"', first.text)) == 50
    assert "Next page" in first.text and "Previous page" not in first.text
    second = await b.get("/connections?offset=50")
    assert "beta 50" in second.text and "Next page" not in second.text
    alpha = await b.get("/connections?name=ALPHA")
    assert "alpha 01" in alpha.text and "beta" not in alpha.text.split("<tbody>")[1]
    inactive = await b.get("/connections?status=inactive")
    body = inactive.text.split("<tbody>")[1]
    assert "beta 00" in body and "beta 10" in body and "alpha 01" not in body
    none = await b.get("/connections?name=%25")
    assert "No connection matches." in none.text


async def test_names_are_escaped_and_no_secret_shows_in_any_page(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, api = ui
    source = await make_source(api, {"max_messages": 1}, name="<script>alert(1)</script>")
    destination = await make_destination(
        api,
        POSTGRES,
        {
            "host": "localhost",
            "port": 5432,
            "database": "db",
            "schema": "public",
            "username": "u",
            "password": SECRET,
            "ssl_mode": {"mode": "disable"},
        },
        name="Warehouse",
    )
    discovered = await ok(api, "sources/discover_schema", {"sourceId": source})
    streams = [
        {"stream": e["stream"], "config": {**e["config"], "selected": True}}
        for e in discovered["catalog"]["streams"]
    ]
    created = await ok(
        api,
        "connections/create",
        {
            "sourceId": source,
            "destinationId": destination,
            "name": '"><img src=x onerror=alert(1)>',
            "syncCatalog": {"streams": streams},
        },
    )
    cid = created["connectionId"]
    job_id = (await ok(api, "connections/sync", {"connectionId": cid}))["job"]["id"]
    await wait_job(api, job_id)
    for path in (
        "/connections",
        "/connections/new",
        f"/connections/{cid}",
        f"/connections/{cid}/jobs",
        f"/jobs/{job_id}",
        f"/jobs/{job_id}/log-stream",
    ):
        r = await b.get(path)
        assert r.status_code == 200, path
        assert SECRET not in r.text, path
        assert "<script>alert" not in r.text and "<img src=x" not in r.text, path
    page = await b.get(f"/connections/{cid}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_an_incremental_mode_takes_the_sources_cursor_and_a_bad_choice_is_refused(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, api = ui
    cid = await new_connection(b, api, "Incremental")
    here = f"/connections/{cid}"
    catalog = (await ok(api, "connections/get", {"connectionId": cid}))["syncCatalog"]["streams"]
    fields = {}
    for i, s in enumerate(catalog):
        fields[f"s{i}.name"] = s["stream"]["name"]
        fields[f"s{i}.selected"] = "on"
        fields[f"s{i}.mode"] = "incremental/append"
    r = await b.post(here + "/streams", data={"csrf_token": csrf_of(await b.get(here)), **fields})
    assert r.status_code == 303
    after = (await ok(api, "connections/get", {"connectionId": cid}))["syncCatalog"]["streams"]
    for s in after:
        assert s["config"]["syncMode"] == "incremental"
        assert s["config"]["cursorField"] == s["stream"]["defaultCursorField"]
    # A mode the destination cannot write: the core's message, nothing changed.
    fields["s0.mode"] = "incremental/no_such_mode"
    page = await b.get(here)
    r = await b.post(here + "/streams", data={"csrf_token": csrf_of(page), **fields})
    shown = await b.get(r.headers["location"])
    assert "flash-error" in shown.text
    again = (await ok(api, "connections/get", {"connectionId": cid}))["syncCatalog"]["streams"]
    assert again == after
