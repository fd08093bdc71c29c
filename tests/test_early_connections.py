"""The 2020 connection shape end to end: a `syncSchema` as a 2020 client builds it from
discover's `schema`, with real connectors (source-e2e-test into destination-sqlite)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.jobs.plan import source_catalog
from tests.conftest import running
from tests.support.api_jobs import (
    SQLITE,
    e2e_connection,
    fast_settings,
    idle,
    make_destination,
    make_source,
    ok,
    wait_job,
)

__all__ = ["idle"]  # fixture used below

Json = dict[str, Any]
TWO_STREAMS = {
    "max_messages": 5,
    "mock_catalog": {"type": "SINGLE_STREAM", "stream_name": "ds", "stream_duplication": 2},
}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path))) as client:
        yield client


def early_schema(discovered: Json, unselected: str) -> Json:
    """What a 2020 client sends back: discover's `schema` with one stream switched off (its
    fields left selected: the stream-level switch is what counts)."""
    streams = []
    for stream in discovered["schema"]["streams"]:
        fields = [
            {"name": f["name"], "dataType": f["dataType"], "selected": True}
            for f in stream["fields"]
        ]
        streams.append(
            {"name": stream["name"], "fields": fields, "selected": stream["name"] != unselected}
        )
    return {"streams": streams}


@pytest.mark.slow
async def test_a_2020_sync_schema_keeps_types_key_and_selection(
    server: httpx.AsyncClient, tmp_path: Path
) -> None:
    source = await make_source(server, TWO_STREAMS)
    destination = await make_destination(server, SQLITE, {"destination_path": "/local/early.db"})
    discovered = await ok(server, "sources/discover_schema", {"sourceId": source})
    # The 2020 view has no integer type and no key: only the merge can bring them back.
    fields = {f["name"]: f["dataType"] for f in discovered["schema"]["streams"][0]["fields"]}
    assert fields["id"] == "number"

    connection = await ok(
        server,
        "connections/create",
        {
            "sourceId": source,
            "destinationId": destination,
            "status": "active",
            "syncSchema": early_schema(discovered, unselected="ds_1"),
            "syncMode": "full_refresh",
        },
    )
    kept, dropped = connection["syncCatalog"]["streams"]
    assert kept["stream"]["jsonSchema"]["properties"]["id"] == {"type": "integer"}
    assert kept["config"]["primaryKey"] == [["id"]] and kept["config"]["selected"] is True
    assert dropped["stream"]["name"] == "ds_1" and dropped["config"]["selected"] is False
    assert [s["selected"] for s in connection["syncSchema"]["streams"]] == [True, False]

    # What the worker hands the connectors: only the selected stream, with the source's key.
    planned = source_catalog(connection["syncCatalog"], None, sync_id=1)
    assert [(s.stream.name, s.primary_key) for s in planned.streams] == [("ds_0", [["id"]])]

    info = await sync(server, connection["connectionId"])
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]
    path = tmp_path / "data" / "local" / "early.db"
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        columns = {r[1]: r[2] for r in db.execute("PRAGMA table_info(ds_0)")}
        count = db.execute("SELECT COUNT(*) FROM ds_0").fetchone()[0]
    assert "ds_1" not in tables  # not selected: never synced
    assert columns["id"] == "INTEGER" and columns["updated_at"] == "INTEGER"
    assert count == 5

    # A modern client later switches the stream to dedup, keeping the key the merge filled in.
    catalog = connection["syncCatalog"]
    catalog["streams"][0]["config"].update(
        syncMode="incremental", destinationSyncMode="append_dedup"
    )
    await ok(
        server,
        "connections/update",
        {"connectionId": connection["connectionId"], "syncCatalog": catalog},
    )
    info = await sync(server, connection["connectionId"])
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]
    with sqlite3.connect(path) as db:
        indexed = [
            [c[2] for c in db.execute(f"PRAGMA index_info('{index[1]}')")]
            for index in db.execute("PRAGMA index_list(ds_0)")
        ]
    assert ["id"] in indexed  # the source's primary key reached the destination


async def sync(client: httpx.AsyncClient, connection_id: str) -> Json:
    job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
    return await wait_job(client, job["id"], timeout=120)


async def test_a_2020_update_merges_with_the_discovered_catalog(server: httpx.AsyncClient) -> None:
    connection = await e2e_connection(server, TWO_STREAMS)
    current = await ok(server, "connections/get", {"connectionId": connection})
    schema = {"streams": [dict(s) for s in current["syncSchema"]["streams"]]}
    schema["streams"][0]["selected"] = False
    updated = await ok(
        server, "connections/update", {"connectionId": connection, "syncSchema": schema}
    )
    first, second = updated["syncCatalog"]["streams"]
    assert first["config"]["selected"] is False and second["config"]["selected"] is True
    assert second["stream"]["jsonSchema"]["properties"]["id"] == {"type": "integer"}
    assert second["stream"]["sourceDefinedPrimaryKey"] == [["id"]]


async def test_jobs_list_honours_the_2020_config_type(idle: httpx.AsyncClient) -> None:
    connection = await e2e_connection(idle)
    sync = (await ok(idle, "connections/sync", {"connectionId": connection}))["job"]
    await ok(idle, "jobs/cancel", {"id": sync["id"]})
    reset = (await ok(idle, "connections/reset", {"connectionId": connection}))["job"]

    for config_type, expected in (("sync", sync["id"]), ("reset_connection", reset["id"])):
        listed = await ok(idle, "jobs/list", {"configType": config_type, "configId": connection})
        assert [j["job"]["id"] for j in listed["jobs"]] == [expected]
    both = await ok(
        idle,
        "jobs/list",
        {"configType": "sync", "configTypes": ["reset_connection"], "configId": connection},
    )
    assert {j["job"]["id"] for j in both["jobs"]} == {sync["id"], reset["id"]}
