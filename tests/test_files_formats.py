"""Every format files/upload takes: uploaded, previewed (types, nullability, rows) and imported
into SQLite and DuckDB by the real file source and destinations (rows and types asserted)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from server.app import create_app
from tests.conftest import running
from tests.support.api_jobs import SQLITE, fast_settings, make_destination, ok, wait_job
from tests.support.api_jobs import workspace_id as first_workspace
from tests.support.files import DUCKDB, ROWS, SAMPLES, preview, uploaded

pytestmark = pytest.mark.slow

EXPECTED_TYPES = {"id": "integer", "name": "string", "score": "number", "active": "boolean"}
# What each format says the `day` column holds: JSON has only text, Excel keeps datetimes.
DAY_FORMATS = {"json": None, "jsonl": None, "excel": "date-time"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path))) as c:
        yield c


@pytest.mark.parametrize("fmt", list(SAMPLES))
async def test_upload_and_preview(client: httpx.AsyncClient, fmt: str) -> None:
    name, data, options = SAMPLES[fmt]
    workspace = await first_workspace(client)
    fields = {"options": json.dumps(options)} if options else {}
    file = await uploaded(client, workspace, name, data, **fields)
    assert file["format"] == fmt
    assert file["sha256"] == hashlib.sha256(data).hexdigest()
    assert file["sizeBytes"] == len(data)
    if fmt == "csv":  # the dialect was detected
        assert file["options"]["delimiter"] == ";"
        assert file["options"]["encoding"] == "utf-8"

    shown = await preview(client, file["fileId"])
    columns = {c["name"]: c for c in shown["columns"]}
    assert list(columns) == list(ROWS[0])
    assert {k: columns[k]["type"] for k in EXPECTED_TYPES} == EXPECTED_TYPES
    assert columns["day"]["type"] == "string"
    assert columns["day"].get("format") == DAY_FORMATS.get(fmt, "date")
    if fmt not in ("parquet", "feather"):  # Arrow's schema: every column may be null
        assert columns["name"]["nullable"] is True
        assert columns["id"]["nullable"] is False
    assert shown["rowCount"] == 3 and shown["rowCountExact"] is True
    assert [r["id"] for r in shown["rows"]] == [1, 2, 3]
    assert shown["rows"][1]["name"] is None
    assert shown["rows"][0]["active"] is True
    assert shown["problems"] == []

    listed = await ok(client, "files/list", {"workspaceId": workspace})
    assert [f["fileId"] for f in listed["files"]] == [file["fileId"]]
    assert await ok(client, "files/get", {"fileId": file["fileId"]}) == file


async def _import(
    client: httpx.AsyncClient, fmt: str, definition: str, path: str, table: str
) -> dict[str, Any]:
    name, data, options = SAMPLES[fmt]
    workspace = await first_workspace(client)
    file = await uploaded(client, workspace, name, data)
    destination = await make_destination(client, definition, {"destination_path": path})
    body: dict[str, Any] = {
        "fileId": file["fileId"],
        "destinationId": destination,
        "tableName": table,
    }
    if options:
        body["options"] = options
    started = await ok(client, "files/import", body)
    assert started["job"]["configType"] == "sync"
    info = await wait_job(client, started["job"]["id"], timeout=120)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]
    return info


@pytest.mark.parametrize("fmt", list(SAMPLES))
async def test_import_into_sqlite(client: httpx.AsyncClient, tmp_path: Path, fmt: str) -> None:
    await _import(client, fmt, SQLITE, "/local/files.db", "people")
    with sqlite3.connect(fast_settings(tmp_path).local_path / "files.db") as db:
        got = db.execute(
            "SELECT id, name, score, active, day, typeof(id), typeof(score) FROM people ORDER BY id"
        ).fetchall()
    assert [(r[0], r[1], r[2]) for r in got] == [(r["id"], r["name"], r["score"]) for r in ROWS]
    assert [bool(r[3]) for r in got] == [r["active"] for r in ROWS]
    assert [str(r[4])[:10] for r in got] == [r["day"] for r in ROWS]
    assert {(r[5], r[6]) for r in got} == {("integer", "real")}


@pytest.mark.parametrize("fmt", list(SAMPLES))
async def test_import_into_duckdb(client: httpx.AsyncClient, tmp_path: Path, fmt: str) -> None:
    await _import(client, fmt, DUCKDB, "/local/files.duckdb", "people")
    with duckdb.connect(str(fast_settings(tmp_path).local_path / "files.duckdb")) as db:
        tables = db.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'people'"
        ).fetchall()
        schema = tables[0][0]
        got = db.execute(f'SELECT id, name, score, active FROM "{schema}".people ORDER BY id')
        rows = got.fetchall()
        types = dict(
            db.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'people'"
            ).fetchall()
        )
    assert rows == [(r["id"], r["name"], r["score"], r["active"]) for r in ROWS]
    assert types["id"] == "BIGINT" and types["score"] == "DOUBLE" and types["active"] == "BOOLEAN"


async def test_a_second_import_reuses_the_source_and_connection(
    client: httpx.AsyncClient,
) -> None:
    name, data, _ = SAMPLES["csv"]
    workspace = await first_workspace(client)
    file = await uploaded(client, workspace, name, data)
    destination = await make_destination(client, SQLITE, {"destination_path": "/local/again.db"})
    body = {"fileId": file["fileId"], "destinationId": destination, "tableName": "people"}
    first = await ok(client, "files/import", body)
    await wait_job(client, first["job"]["id"])
    second = await ok(client, "files/import", body)
    await wait_job(client, second["job"]["id"])
    assert first["job"]["configId"] == second["job"]["configId"]
    sources = await ok(client, "sources/list", {"workspaceId": workspace})
    assert len([s for s in sources["sources"] if s["name"] == f"File: {name}"]) == 1


async def test_column_renames_go_through_the_field_renaming_mapper(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    name, data, _ = SAMPLES["csv"]
    workspace = await first_workspace(client)
    file = await uploaded(client, workspace, name, data)
    destination = await make_destination(client, SQLITE, {"destination_path": "/local/renamed.db"})
    body = {
        "fileId": file["fileId"],
        "destinationId": destination,
        "tableName": "people",
        "columnRenames": {"name": "full_name"},
    }
    started = await ok(client, "files/import", body)
    info = await wait_job(client, started["job"]["id"], timeout=120)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]
    connection = await ok(client, "connections/get", {"connectionId": started["job"]["configId"]})
    mappers = connection["syncCatalog"]["streams"][0]["config"]["mappers"]
    assert [(m["type"], m["mapperConfiguration"]) for m in mappers] == [
        ("field-renaming", {"originalFieldName": "name", "newFieldName": "full_name"})
    ]
    with sqlite3.connect(fast_settings(tmp_path).local_path / "renamed.db") as db:
        got = db.execute("SELECT id, full_name FROM people ORDER BY id").fetchall()
    assert got == [(r["id"], r["name"]) for r in ROWS]

    bad = {**body, "columnRenames": {"nope": "x"}}
    reply = await client.post("/api/v1/files/import", json=bad)
    assert reply.status_code == 422
    assert reply.json()["validationErrors"][0]["propertyPath"] == "columnRenames"
