"""Schema changes end to end: a file source (Sluice's source-file, a real program) whose CSV
gains and loses columns between two syncs into a SQLite destination, through the config API.
Before each sync the worker discovers the source, compares, and applies the connection's
preference; discover_schema with a connectionId and web_backend/connections/get with
withRefreshedCatalog return the diff."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running
from tests.support.api_jobs import (
    fast_settings,
    make_source,
    ok,
    workspace_id,
)
from tests.support.receiver import receiver
from tests.support.schema_changes import (
    SECOND,
    Json,
    columns,
    log,
    properties,
    setup,
    sync,
    write,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fast_settings(
        tmp_path, notification_poll_seconds=0.1, notification_retry_backoff_seconds=0.0
    )


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    settings.local_path.mkdir(parents=True, exist_ok=True)
    async with running(create_app(settings)) as c:
        yield c


def schema_of(catalog: Json, field: str) -> Json:
    (item,) = catalog["streams"]
    return item["stream"]["jsonSchema"]["properties"][field]  # type: ignore[no-any-return]


def expected_diff(before: Json, after: Json) -> list[Json]:
    """The diff of FIRST -> SECOND in Airbyte's shape, each field's schema as the catalogs
    (before: the connection's, after: the discovered one) have it."""
    return [
        {
            "transformType": "update_stream",
            "streamDescriptor": {"name": "rows"},
            "updateStream": {
                "fieldTransforms": [
                    {
                        "transformType": "add_field",
                        "fieldName": ["email"],
                        "breaking": False,
                        "addField": {"schema": schema_of(after, "email")},
                    },
                    {
                        "transformType": "remove_field",
                        "fieldName": ["updated_at"],
                        "breaking": False,
                        "removeField": {"schema": schema_of(before, "updated_at")},
                    },
                ],
                "streamAttributeTransforms": [],
            },
        }
    ]


async def test_ignore_records_the_diff_and_keeps_the_catalog(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    source, connection_id = await setup(api, settings, "ignore")
    write(settings, SECOND)
    info = await sync(api, connection_id)
    assert info["job"]["status"] == "succeeded"
    (line,) = [entry for entry in log(info) if "Schema change detected" in entry]
    assert "(non_breaking): Modified stream 'rows': added fields ['email'], removed fields" in line
    assert "left the connection's catalog as it is" in line
    connection = await ok(api, "connections/get", {"connectionId": connection_id})
    assert properties(connection) == ["id", "title", "updated_at"]
    assert connection["status"] == "active" and connection["breakingChange"] is False

    read = await ok(api, "web_backend/connections/get", {"connectionId": connection_id})
    assert read["schemaChange"] == "non_breaking" and "catalogDiff" not in read
    listed = await ok(
        api, "web_backend/connections/list", {"workspaceId": connection["workspaceId"]}
    )
    assert [c["schemaChange"] for c in listed["connections"]] == ["non_breaking"]

    found = await ok(
        api,
        "sources/discover_schema",
        {"sourceId": source, "connectionId": connection_id, "disable_cache": True},
    )
    expected = expected_diff(connection["syncCatalog"], found["catalog"])
    assert found["catalogDiff"]["transforms"] == expected
    assert found["breakingChange"] is False and found["connectionStatus"] == "active"
    plain = await ok(api, "sources/discover_schema", {"sourceId": source})
    assert "catalogDiff" not in plain and "breakingChange" not in plain


async def test_refreshed_catalog_returns_the_diff_and_the_catalog_to_review(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    _, connection_id = await setup(api, settings, "ignore")
    write(settings, SECOND)
    read = await ok(
        api,
        "web_backend/connections/get",
        {"connectionId": connection_id, "withRefreshedCatalog": True},
    )
    connection = await ok(api, "connections/get", {"connectionId": connection_id})
    expected = expected_diff(connection["syncCatalog"], read["syncCatalog"])
    assert read["catalogDiff"]["transforms"] == expected
    assert read["schemaChange"] == "non_breaking"
    assert read["catalogId"] != connection.get("sourceCatalogId")
    assert properties(read) == ["email", "id", "title"]
    (item,) = read["syncCatalog"]["streams"]
    assert item["config"]["destinationSyncMode"] == "overwrite"  # the connection's config kept
    assert "email" in [f["name"] for f in read["syncSchema"]["streams"][0]["fields"]]
    # Nothing but the diff was saved: the stored catalog is the old one.
    assert properties(connection) == ["id", "title", "updated_at"]
    # The user saves the refreshed catalog: the change is taken, no change is left.
    await ok(
        api,
        "connections/update",
        {"connectionId": connection_id, "syncCatalog": read["syncCatalog"]},
    )
    again = await ok(api, "web_backend/connections/get", {"connectionId": connection_id})
    assert again["schemaChange"] == "no_change"


@pytest.mark.parametrize("preference", ["propagate_columns", "propagate_fully"])
async def test_propagate_applies_the_columns_and_the_destination_gets_them(
    api: httpx.AsyncClient, settings: Settings, preference: str
) -> None:
    _, connection_id = await setup(api, settings, preference)
    assert columns(settings) >= {"id", "title", "updated_at"}
    write(settings, SECOND)
    info = await sync(api, connection_id)
    assert info["job"]["status"] == "succeeded", log(info)
    (line,) = [entry for entry in log(info) if "Schema change detected" in entry]
    assert (
        f"applied them to the connection's catalog (nonBreakingChangesPreference {preference})"
        in line
    )
    connection = await ok(api, "connections/get", {"connectionId": connection_id})
    assert properties(connection) == ["email", "id", "title"]
    assert connection["status"] == "active"
    assert "email" in columns(settings) and "updated_at" not in columns(settings)
    read = await ok(api, "web_backend/connections/get", {"connectionId": connection_id})
    assert read["schemaChange"] == "no_change"


async def test_propagate_fully_adds_and_removes_streams(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    source, connection_id = await setup(api, settings, "propagate_fully")
    # The source now names its stream `items`: `rows` is gone, `items` is new.
    await ok(
        api,
        "sources/update",
        {
            "sourceId": source,
            "name": "Source",
            "connectionConfiguration": {
                "dataset_name": "items",
                "format": "csv",
                "url": "/local/rows.csv",
                "provider": {"storage": "local"},
            },
        },
    )
    info = await sync(api, connection_id)
    assert info["job"]["status"] == "succeeded", log(info)
    assert any("Added stream 'items'; Removed stream 'rows'" in line for line in log(info))
    connection = await ok(api, "connections/get", {"connectionId": connection_id})
    (item,) = connection["syncCatalog"]["streams"]
    assert item["stream"]["name"] == "items" and item["config"]["selected"] is True


async def test_disable_stops_the_connection_and_the_sync(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    _, connection_id = await setup(api, settings, "disable")
    write(settings, SECOND)
    info = await sync(api, connection_id)
    assert info["job"]["status"] == "failed"
    assert len(info["attempts"]) == 1  # not retried: the configuration must change
    reason = info["attempts"][0]["attempt"]["failureSummary"]["failures"][0]
    assert reason["failureType"] == "config_error"
    assert "nonBreakingChangesPreference (disable)" in reason["externalMessage"]
    assert "added fields ['email']" in reason["externalMessage"]
    connection = await ok(api, "connections/get", {"connectionId": connection_id})
    assert connection["status"] == "inactive" and connection["breakingChange"] is False
    read = await ok(api, "web_backend/connections/get", {"connectionId": connection_id})
    assert read["statusReason"] == reason["externalMessage"]


async def test_a_removed_cursor_is_breaking_and_pauses_the_connection(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    incremental = {
        "syncMode": "incremental",
        "destinationSyncMode": "append",
        "cursorField": ["updated_at"],
    }
    source, connection_id = await setup(api, settings, "propagate_fully", **incremental)
    write(settings, SECOND)
    info = await sync(api, connection_id)
    assert info["job"]["status"] == "failed"
    reason = info["attempts"][0]["attempt"]["failureSummary"]["failures"][0]["externalMessage"]
    assert reason.startswith("Breaking schema change: Modified stream 'rows'")
    assert "removed fields ['updated_at' (breaking)]" in reason
    assert any("Breaking schema change" in line for line in log(info))
    connection = await ok(api, "connections/get", {"connectionId": connection_id})
    assert connection["status"] == "inactive" and connection["breakingChange"] is True
    assert properties(connection) == ["id", "title", "updated_at"]  # not propagated
    read = await ok(api, "web_backend/connections/get", {"connectionId": connection_id})
    assert read["schemaChange"] == "breaking" and read["statusReason"] == reason
    found = await ok(
        api, "sources/discover_schema", {"sourceId": source, "connectionId": connection_id}
    )
    assert found["breakingChange"] is True and found["connectionStatus"] == "inactive"
    (transform,) = found["catalogDiff"]["transforms"]
    removed = transform["updateStream"]["fieldTransforms"][1]
    assert (removed["fieldName"], removed["breaking"]) == (["updated_at"], True)


async def test_a_connection_of_another_source_is_a_422_and_a_missing_one_a_404(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    _, connection_id = await setup(api, settings, "ignore")
    other = await make_source(api, {"max_messages": 1})
    r = await post(
        api, "sources/discover_schema", {"sourceId": other, "connectionId": connection_id}
    )
    assert r.status_code == 422, r.text
    assert r.json()["validationErrors"][0]["propertyPath"] == "connectionId"
    missing = "00000000-0000-4000-8000-000000000000"
    r = await post(api, "sources/discover_schema", {"sourceId": other, "connectionId": missing})
    assert r.status_code == 404 and r.json()["id"] == missing, r.text
    body = {"connectionId": missing, "withRefreshedCatalog": True}
    r = await post(api, "web_backend/connections/get", body)
    assert r.status_code == 404, r.text


INCREMENTAL = {
    "syncMode": "incremental",
    "destinationSyncMode": "append",
    "cursorField": ["updated_at"],
}


async def notify_to(api: httpx.AsyncClient, url: str, *triggers: str) -> None:
    item = {"notificationType": ["webhook"], "webhookConfiguration": {"url": url}}
    body = {
        "workspaceId": await workspace_id(api),
        "notificationSettings": {t: item for t in triggers},
    }
    await ok(api, "workspaces/update", body)


async def test_a_breaking_change_is_announced_once(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    with receiver() as hook:
        triggers = ("sendOnConnectionUpdateActionRequired", "sendOnBreakingChangeSyncsDisabled")
        await notify_to(api, hook.url, *triggers)
        _, connection_id = await setup(api, settings, "ignore", **INCREMENTAL)
        write(settings, SECOND)
        info = await sync(api, connection_id)
        assert info["job"]["status"] == "failed"
        got = [json.loads(r.body) for r in await hook.wait(2)]
        assert sorted(p["event"] for p in got) == sorted(triggers)
        for payload in got:
            assert payload["connection"]["id"] == connection_id
            assert payload["job"]["id"] == info["job"]["id"]
            details = payload["details"]
            assert details["schemaChange"] == "breaking" and details["action"] == "paused"
            (transform,) = details["catalogDiff"]["transforms"]
            removed = [f for f in transform["updateStream"]["fieldTransforms"] if f["breaking"]]
            assert [f["fieldName"] for f in removed] == [["updated_at"]]
        assert any(
            "Queued 1 sendOnBreakingChangeSyncsDisabled notification(s)" in line
            for line in log(info)
        )
        paused = next(p for p in got if p["event"] == "sendOnBreakingChangeSyncsDisabled")
        assert "was paused" in paused["message"] and "updated_at" in paused["message"]
        # The same change found again (the user enabled the connection without fixing it)
        # pauses it again, and says so again; it is not announced as a new change.
        await ok(api, "connections/update", {"connectionId": connection_id, "status": "active"})
        assert (await sync(api, connection_id))["job"]["status"] == "failed"
        again = [json.loads(r.body)["event"] for r in await hook.wait(3)]
        assert again[2:] == ["sendOnBreakingChangeSyncsDisabled"]


@pytest.mark.parametrize("notify", [True, False])
async def test_notify_schema_changes_gates_the_update_notification(
    api: httpx.AsyncClient, settings: Settings, notify: bool
) -> None:
    with receiver() as hook:
        await notify_to(api, hook.url, "sendOnConnectionUpdate", "sendOnSuccess")
        _, connection_id = await setup(api, settings, "propagate_columns", notify=notify)
        write(settings, SECOND)
        assert (await sync(api, connection_id))["job"]["status"] == "succeeded"
        # Two syncs succeeded: their sendOnSuccess come whatever notifySchemaChanges says.
        got = [json.loads(r.body) for r in await hook.wait(3 if notify else 2)]
        await anyio.sleep(0.5)  # nothing more comes
        events = sorted(p["event"] for p in json_bodies(hook.got))
        expected = ["sendOnSuccess", "sendOnSuccess"] + (
            ["sendOnConnectionUpdate"] if notify else []
        )
        assert events == sorted(expected)
        if notify:
            update = next(p for p in got if p["event"] == "sendOnConnectionUpdate")
            assert "applied to the connection" in update["message"]
            assert update["details"]["action"] == "propagated"


def json_bodies(received: list[Any]) -> list[Json]:
    return [json.loads(r.body) for r in received]
