"""What the schema-change tests share: a file source whose CSV changes between syncs into a
SQLite destination, set up and synced through the config API."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx

from server.settings import Settings
from tests.support.api_jobs import SQLITE, make_destination, make_source, ok, wait_job

FILE = "778daa7c-feaf-4db6-96f3-70fd645acc77"
FIRST = "id,title,updated_at\n1,a,2024-01-01\n2,b,2024-01-02\n"
# `updated_at` gone, `email` new.
SECOND = "id,title,email\n1,a,a@example.com\n2,b,b@example.com\n3,c,c@example.com\n"
Json = dict[str, Any]


def write(settings: Settings, text: str) -> None:
    (settings.local_path / "rows.csv").write_text(text)


def columns(settings: Settings) -> set[str]:
    with sqlite3.connect(settings.local_path / "out.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        (table,) = [t for t in tables if t.endswith("rows")]
        return {r[1] for r in db.execute(f'PRAGMA table_info("{table}")')}


async def setup(
    api: httpx.AsyncClient,
    settings: Settings,
    preference: str,
    notify: bool = True,
    **config: Any,
) -> tuple[str, str]:
    """(source id, connection id): rows.csv (FIRST) synced once, as the user set it up."""
    write(settings, FIRST)
    source = await make_source(
        api,
        {
            "dataset_name": "rows",
            "format": "csv",
            "url": "/local/rows.csv",
            "provider": {"storage": "local"},
        },
        FILE,
    )
    destination = await make_destination(api, SQLITE, {"destination_path": "/local/out.db"})
    discovered = await ok(api, "sources/discover_schema", {"sourceId": source})
    (item,) = discovered["catalog"]["streams"]
    stream_config = {
        **item["config"],
        "syncMode": "full_refresh",
        "destinationSyncMode": "overwrite",
        **config,
    }
    body = {
        "sourceId": source,
        "destinationId": destination,
        "status": "active",
        "syncCatalog": {"streams": [{"stream": item["stream"], "config": stream_config}]},
        "nonBreakingChangesPreference": preference,
        "notifySchemaChanges": notify,
    }
    connection_id = str((await ok(api, "connections/create", body))["connectionId"])
    info = await sync(api, connection_id)
    assert info["job"]["status"] == "succeeded", info
    assert any("Schema check: the source's catalog matches" in line for line in log(info))
    return source, connection_id


async def sync(api: httpx.AsyncClient, connection_id: str) -> Json:
    job = await ok(api, "connections/sync", {"connectionId": connection_id})
    return await wait_job(api, job["job"]["id"])


def log(info: Json) -> list[str]:
    return [line for a in info["attempts"] for line in a["logs"]["logLines"]]


def properties(connection: Json) -> list[str]:
    (item,) = connection["syncCatalog"]["streams"]
    return sorted(item["stream"]["jsonSchema"]["properties"])
