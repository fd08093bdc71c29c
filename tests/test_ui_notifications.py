"""The Notifications page: per-trigger settings saved through the form (a webhook's secret never
in any page, kept when the form is saved again with it empty, removed on request), "Send a
test" reaching a real local receiver, and the deliveries a real sync made."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from tests.conftest import running
from tests.support.api_jobs import (
    DEV_NULL,
    SILENT,
    make_connection,
    make_destination,
    make_source,
    ok,
    wait_job,
    workspace_id,
)
from tests.support.notifications import SECRET, settings_for, verified
from tests.support.receiver import receiver
from tests.support.ui import browser, sign_in, submit


@pytest.fixture
async def ui(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    app: Starlette = create_app(settings_for(tmp_path))
    async with running(app) as api, browser(app) as b:
        assert (await sign_in(b)).status_code == 303
        yield b, api


async def settings_of(api: httpx.AsyncClient) -> dict[str, object]:
    ws = await ok(api, "workspaces/get", {"workspaceId": await workspace_id(api)})
    found: dict[str, object] = ws.get("notificationSettings") or {}
    return found


async def test_settings_saved_the_secret_never_shown_and_kept(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, api = ui
    with receiver() as hook:
        r = await submit(
            b,
            "/notifications",
            "/notifications",
            {
                "send_on_success.webhook": hook.url + "/done",
                "send_on_success.secret": SECRET,
                "send_on_failure.slack": hook.url + "/slack",
            },
        )
        assert r.status_code == 303 and r.headers["location"] == "/notifications"
        page = await b.get("/notifications")
        assert "Notification settings saved." in page.text
        assert SECRET not in page.text and "**********" not in page.text
        assert f'value="{hook.url}/done"' in page.text and "(set; empty keeps it)" in page.text
        stored = await settings_of(api)
        assert stored["sendOnSuccess"] == {
            "notificationType": ["webhook"],
            "webhookConfiguration": {"url": hook.url + "/done", "secret": "**********"},
        }
        assert stored["sendOnFailure"] == {
            "notificationType": ["slack"],
            "slackConfiguration": {"webhook": hook.url + "/slack"},
        }

        # Saved again with the secret left empty: the stored one signs the next delivery.
        r = await submit(
            b, "/notifications", "/notifications", {"send_on_success.webhook": hook.url + "/done"}
        )
        assert r.status_code == 303
        assert "sendOnFailure" not in await settings_of(api)  # its URL was left empty
        source = await make_source(api, {"max_messages": 3})
        destination = await make_destination(api, DEV_NULL, SILENT)
        connection = await make_connection(api, source, destination)
        job = await ok(api, "connections/sync", {"connectionId": connection})
        info = await wait_job(api, job["job"]["id"])
        assert info["job"]["status"] == "succeeded"
        (got,) = await hook.wait(1)
        assert got.path == "/done" and verified(got)["event"]
        page = await b.get("/notifications")
        assert '<table id="deliveries">' in page.text and "status-succeeded" in page.text
        assert SECRET not in page.text

        # Removed on request.
        r = await submit(
            b,
            "/notifications",
            "/notifications",
            {"send_on_success.webhook": hook.url + "/done", "send_on_success.clear_secret": "on"},
        )
        stored = await settings_of(api)
        assert stored["sendOnSuccess"] == {
            "notificationType": ["webhook"],
            "webhookConfiguration": {"url": hook.url + "/done"},
        }


async def test_a_bad_url_is_refused_with_a_message(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, api = ui
    r = await submit(b, "/notifications", "/notifications", {"send_on_failure.slack": "file:///x"})
    assert r.status_code == 303
    page = await b.get("/notifications")
    assert "Not saved" in page.text and "flash-error" in page.text
    assert await settings_of(api) == {}


async def test_send_a_test_reaches_the_receiver(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, _ = ui
    with receiver() as slack:
        r = await submit(
            b,
            "/notifications",
            "/notifications/try",
            {"trigger": "send_on_failure", "send_on_failure.slack": slack.url + "/hook"},
        )
        assert r.status_code == 303
        (got,) = await slack.wait(1)
        assert got.path == "/hook"
        assert "test of the sendOnFailure notification" in json.loads(got.body)["text"]
        page = await b.get("/notifications")
        assert "succeeded" in page.text and "flash-ok" in page.text
    with receiver(answers=[500]) as down:
        r = await submit(
            b,
            "/notifications",
            "/notifications/try",
            {"trigger": "send_on_success", "send_on_success.slack": down.url},
        )
        page = await b.get("/notifications")
        assert "failed" in page.text and "500" in page.text and "flash-error" in page.text
    r = await submit(b, "/notifications", "/notifications/try", {"trigger": "send_on_success"})
    assert "Give an http(s) Slack webhook URL" in (await b.get("/notifications")).text
