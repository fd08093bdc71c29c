"""`statusReason`: why Sluice set a connection inactive (jobs that kept failing, a breaking
schema change, `nonBreakingChangesPreference: disable`), shown by connections/get and /list and
the web_backend reads alike, never by the public API (Airbyte's ConnectionResponse has none),
and cleared when the status is set by hand. Real connectors throughout: source-e2e-test that
fails, and the file source whose CSV loses its cursor column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.conftest import running
from tests.support.api_jobs import e2e_connection, ok, wait_job
from tests.support.notifications import settings_for
from tests.support.schema_changes import SECOND, setup, sync, write

FAILING = {"type": "EXCEPTION_AFTER_N", "throw_after_n_records": 1}
PUBLIC = "/api/public/v1"
Json = dict[str, Any]


async def reasons(client: httpx.AsyncClient, connection_id: str) -> list[str | None]:
    """The connection's statusReason as connections/get, connections/list,
    web_backend/connections/get and web_backend/connections/list show it."""
    got = await ok(client, "connections/get", {"connectionId": connection_id})
    workspace = {"workspaceId": got["workspaceId"]}
    listed = await ok(client, "connections/list", workspace)
    (item,) = [c for c in listed["connections"] if c["connectionId"] == connection_id]
    web = await ok(client, "web_backend/connections/get", {"connectionId": connection_id})
    web_listed = await ok(client, "web_backend/connections/list", workspace)
    (web_item,) = [c for c in web_listed["connections"] if c["connectionId"] == connection_id]
    return [c.get("statusReason") for c in (got, item, web, web_item)]


async def test_auto_disable_sets_the_reason_and_enabling_clears_it(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_consecutive_failures=2, sync_max_attempts=1)
    async with running(create_app(settings)) as client:
        connection_id = await e2e_connection(client, FAILING)
        for _ in range(2):
            job = await ok(client, "connections/sync", {"connectionId": connection_id})
            assert (await wait_job(client, job["job"]["id"]))["job"]["status"] == "failed"
        got = await ok(client, "connections/get", {"connectionId": connection_id})
        assert got["status"] == "inactive"
        expected = "Disabled automatically: its last 2 jobs failed"
        assert await reasons(client, connection_id) == [expected] * 4

        # Not Airbyte's public ConnectionResponse.
        public = await client.get(f"{PUBLIC}/connections/{connection_id}")
        assert public.status_code == 200 and "statusReason" not in public.json()
        # An update that changes something else, or sends the same status back, keeps it.
        body = {"connectionId": connection_id, "name": "Renamed", "status": "inactive"}
        renamed = await ok(client, "connections/update", body)
        assert renamed["statusReason"] == expected

        enabled = await ok(
            client, "connections/update", {"connectionId": connection_id, "status": "active"}
        )
        assert enabled["status"] == "active" and "statusReason" not in enabled
        assert await reasons(client, connection_id) == [None] * 4


@pytest.fixture
def file_settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)


INCREMENTAL = {
    "syncMode": "incremental",
    "destinationSyncMode": "append",
    "cursorField": ["updated_at"],
}


async def test_a_breaking_change_sets_the_reason_and_the_public_patch_clears_it(
    file_settings: Settings,
) -> None:
    file_settings.local_path.mkdir(parents=True, exist_ok=True)
    async with running(create_app(file_settings)) as client:
        _, connection_id = await setup(client, file_settings, "ignore", **INCREMENTAL)
        assert await reasons(client, connection_id) == [None] * 4
        write(file_settings, SECOND)  # `updated_at`, the cursor, is gone
        info = await sync(client, connection_id)
        assert info["job"]["status"] == "failed"
        failure = info["attempts"][0]["attempt"]["failureSummary"]["failures"][0]
        reason = failure["externalMessage"]
        assert reason.startswith("Breaking schema change: Modified stream 'rows'")
        assert await reasons(client, connection_id) == [reason] * 4

        url = f"{PUBLIC}/connections/{connection_id}"
        patched = await client.patch(url, json={"status": "active"})
        assert patched.status_code == 200, patched.text
        assert "statusReason" not in patched.json()
        assert await reasons(client, connection_id) == [None] * 4


async def test_disable_sets_the_reason_and_a_pause_by_hand_has_none(
    file_settings: Settings,
) -> None:
    file_settings.local_path.mkdir(parents=True, exist_ok=True)
    async with running(create_app(file_settings)) as client:
        _, connection_id = await setup(client, file_settings, "disable")
        write(file_settings, SECOND)
        info = await sync(client, connection_id)
        assert info["job"]["status"] == "failed"
        reason = info["attempts"][0]["attempt"]["failureSummary"]["failures"][0]
        assert "nonBreakingChangesPreference (disable)" in reason["externalMessage"]
        assert await reasons(client, connection_id) == [reason["externalMessage"]] * 4
        # The user takes the change, enables, then pauses it: a pause by hand has no reason.
        for status in ("active", "inactive"):
            body = {"connectionId": connection_id, "status": status}
            assert "statusReason" not in await ok(client, "connections/update", body)
        assert await reasons(client, connection_id) == [None] * 4
