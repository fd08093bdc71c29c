"""Mappers end to end: a connection through the HTTP API with a field selection, a hashed
field, a renamed field and a row filter, synced by real connectors (source-e2e-test as a
process) into SQLite, DuckDB and PostgreSQL; the destination's columns and values are what
the mappers make of the source's records, and the column left out is nowhere in the file."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from server.app import create_app
from tests.conftest import running
from tests.connectors.conftest import PostgresServer, postgres_server
from tests.support.api_jobs import (
    POSTGRES,
    SQLITE,
    fast_settings,
    make_destination,
    make_source,
    ok,
    wait_job,
)
from tests.support.files import DUCKDB
from tests.support.mappers import mapper

__all__ = ["postgres_server"]  # a fixture used below

pytestmark = pytest.mark.slow

SOURCE = {"max_messages": 60, "seed": 3, "record_size_bytes": 200}
KEPT = ("id", "updated_at", "name", "amount", "active")
MAPPING: dict[str, Any] = {
    "fieldSelectionEnabled": True,
    "selectedFields": [{"fieldPath": [f]} for f in KEPT],  # payload is left out
    "hashedFields": [{"fieldPath": ["name"]}],
    "mappers": [
        mapper("field-renaming", originalFieldName="amount", newFieldName="total"),
        mapper("row-filtering", expression="active = true AND total > 1000"),
    ],
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path))) as c:
        yield c


def source_records(tmp_path: Path, config: dict[str, Any]) -> list[dict[str, Any]]:
    """What source-e2e-test emits for `config`, read straight from it."""
    path = tmp_path / "e2e-source.json"
    path.write_bytes(msgspec.json.encode(config))
    catalog = msgspec.json.decode(
        subprocess.run(
            ["source-e2e-test", "discover", "--config", str(path)], capture_output=True, check=True
        ).stdout.splitlines()[-1]
    )["catalog"]
    streams = [
        {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
        for s in catalog["streams"]
    ]
    catalog_path = tmp_path / "e2e-catalog.json"
    catalog_path.write_bytes(msgspec.json.encode({"streams": streams}))
    out = subprocess.run(
        ["source-e2e-test", "read", "--config", str(path), "--catalog", str(catalog_path)],
        capture_output=True,
        check=True,
    ).stdout
    messages = [msgspec.json.decode(line) for line in out.splitlines()]
    return [m["record"]["data"] for m in messages if m["type"] == "RECORD"]


def expected_rows(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(id, updated_at, name_hashed, total, active) of the records the filter keeps."""
    return [
        (
            r["id"],
            r["updated_at"],
            hashlib.sha256(r["name"].encode()).hexdigest(),
            r["amount"],
            True,
        )
        for r in records
        if r["active"] is True and r["amount"] > 1000
    ]


async def mapped_connection(
    client: httpx.AsyncClient,
    source: str,
    destination: str,
    mapping: dict[str, Any],
    sync_mode: str = "full_refresh",
    destination_sync_mode: str = "overwrite",
) -> str:
    discovered = await ok(client, "sources/discover_schema", {"sourceId": source})
    streams = []
    for entry in discovered["catalog"]["streams"]:
        config = {
            **(entry.get("config") or {}),
            "selected": True,
            "syncMode": sync_mode,
            "destinationSyncMode": destination_sync_mode,
            **mapping,
        }
        if sync_mode == "incremental":
            config["cursorField"] = ["updated_at"]
        streams.append({"stream": entry["stream"], "config": config})
    body = {
        "sourceId": source,
        "destinationId": destination,
        "status": "active",
        "syncCatalog": {"streams": streams},
    }
    created = await ok(client, "connections/create", body)
    stored = created["syncCatalog"]["streams"][0]["config"]
    assert stored.get("mappers"), "the connection did not keep its mappers"
    return str(created["connectionId"])


async def sync(client: httpx.AsyncClient, connection: str) -> dict[str, Any]:
    job = (await ok(client, "connections/sync", {"connectionId": connection}))["job"]
    info = await wait_job(client, job["id"], timeout=240)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]["logs"]["logLines"][-30:]
    return info


def file_bytes(path: Path) -> bytes:
    """A database file and its journal/WAL companions, as they are on disk."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_into_sqlite(client: httpx.AsyncClient, tmp_path: Path) -> None:
    records = source_records(tmp_path, SOURCE)
    source = await make_source(client, SOURCE)
    destination = await make_destination(client, SQLITE, {"destination_path": "/local/m.db"})
    connection = await mapped_connection(client, source, destination, MAPPING)
    info = await sync(client, connection)
    log = "\n".join(info["attempts"][-1]["logs"]["logLines"])
    wanted = expected_rows(records)
    assert f"{len(records) - len(wanted)} record(s)" in log and "filtered out" in log
    path = fast_settings(tmp_path).local_path / "m.db"
    with sqlite3.connect(path) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(data_stream)")]
        rows = db.execute(
            "SELECT id, updated_at, name_hashed, total, active FROM data_stream ORDER BY id"
        ).fetchall()
    assert [c for c in columns if not c.startswith("_airbyte")] == [
        "id",
        "updated_at",
        "name_hashed",
        "total",
        "active",
    ]  # the source's order, a renamed or hashed field in its place
    assert [(*r[:4], bool(r[4])) for r in rows] == wanted
    content = file_bytes(path)
    assert all(r["payload"].encode() not in content for r in records)
    assert all(r["name"].encode() not in content for r in records)


async def test_into_duckdb(client: httpx.AsyncClient, tmp_path: Path) -> None:
    import duckdb

    records = source_records(tmp_path, SOURCE)
    source = await make_source(client, SOURCE)
    destination = await make_destination(client, DUCKDB, {"destination_path": "/local/m.duckdb"})
    connection = await mapped_connection(client, source, destination, MAPPING)
    await sync(client, connection)
    path = fast_settings(tmp_path).local_path / "m.duckdb"
    with duckdb.connect(str(path), read_only=True) as db:
        columns = [r[0] for r in db.execute("DESCRIBE main.data_stream").fetchall()]
        rows = db.execute(
            "SELECT id, updated_at, name_hashed, total, active FROM main.data_stream ORDER BY id"
        ).fetchall()
    assert {"id", "updated_at", "name_hashed", "total", "active"} <= set(columns)
    assert "payload" not in columns and "name" not in columns and "amount" not in columns
    assert [tuple(r) for r in rows] == expected_rows(records)
    content = file_bytes(path)
    assert all(r["payload"].encode() not in content for r in records)


@pytest.mark.postgres
async def test_into_postgres_incremental_with_a_renamed_cursor(
    client: httpx.AsyncClient, tmp_path: Path, postgres_server: PostgresServer
) -> None:
    import psycopg

    schema = f"m_{uuid.uuid4().hex[:8]}"
    first_config = {**SOURCE, "max_messages": 30, "state_checkpoint_interval": 10}
    source = await make_source(client, first_config)
    destination = await make_destination(client, POSTGRES, postgres_server.config(schema=schema))
    mapping = {
        **MAPPING,
        "mappers": [
            *MAPPING["mappers"],
            mapper("field-renaming", originalFieldName="updated_at", newFieldName="changed_at"),
        ],
    }
    connection = await mapped_connection(
        client, source, destination, mapping, "incremental", "append"
    )
    first = await sync(client, connection)
    assert first["job"]["aggregatedStats"]["recordsEmitted"] == 30
    await ok(
        client,
        "sources/update",
        {
            "sourceId": source,
            "name": "Source",
            "connectionConfiguration": {**first_config, "max_messages": 50},
        },
    )
    second = await sync(client, connection)
    assert second["job"]["aggregatedStats"]["recordsEmitted"] == 20  # only the new ones
    state = await ok(client, "state/get", {"connectionId": connection})
    assert state["streamState"][0]["streamState"] == {"updated_at": 50}  # the source's names
    records = source_records(tmp_path, {**first_config, "max_messages": 50})
    with psycopg.connect(postgres_server.dsn()) as db:
        columns = {
            r[0]
            for r in db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s",
                [schema],
            ).fetchall()
        }
        rows = db.execute(
            f'SELECT id, changed_at, name_hashed, total, active FROM "{schema}".data_stream '
            "ORDER BY id"
        ).fetchall()
    assert {"id", "changed_at", "name_hashed", "total", "active"} <= columns
    assert not {"updated_at", "payload", "name", "amount"} & columns
    assert [(*r[:3], float(r[3]), r[4]) for r in rows] == expected_rows(records)


# --- the other mappers: field filtering, value transform, AES encryption, field names, NOT ---

AES_KEY = bytes(range(32))
OTHERS: dict[str, Any] = {
    "mappers": [
        mapper("field-filtering", targetField="payload"),
        mapper("value-transform", targetField="name", operation="UPPERCASE"),
        mapper(
            "encryption",
            algorithm="AES",
            targetField="name",
            fieldNameSuffix="_enc",
            key=AES_KEY.hex(),
            mode="CBC",
            padding="PKCS5Padding",
        ),
        mapper("field-name-transform", pattern="^", replacement="src_"),
        mapper(
            "row-filtering",
            conditions={
                "type": "NOT",
                "conditions": [
                    {"type": "EQUAL", "fieldName": "src_active", "comparisonValue": "false"}
                ],
            },
        ),
    ]
}
OTHER_COLUMNS = ("src_id", "src_updated_at", "src_name_enc", "src_amount", "src_active")


def decrypted(hex_text: str) -> str:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = bytes.fromhex(hex_text)
    decryptor = Cipher(algorithms.AES(AES_KEY), modes.CBC(raw[:16])).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    clear = unpadder.update(decryptor.update(raw[16:]) + decryptor.finalize())
    return (clear + unpadder.finalize()).decode()


def check_others(records: list[dict[str, Any]], rows: list[tuple[Any, ...]]) -> None:
    wanted = [
        (r["id"], r["updated_at"], r["name"].upper(), r["amount"], True)
        for r in records
        if r["active"] is True
    ]
    got = [(r[0], r[1], decrypted(r[2]), float(r[3]), bool(r[4])) for r in rows]
    assert got == wanted


async def test_other_mappers_into_sqlite(client: httpx.AsyncClient, tmp_path: Path) -> None:
    records = source_records(tmp_path, SOURCE)
    source = await make_source(client, SOURCE)
    destination = await make_destination(client, SQLITE, {"destination_path": "/local/o.db"})
    connection = await mapped_connection(client, source, destination, OTHERS)
    info = await sync(client, connection)
    log = "\n".join(info["attempts"][-1]["logs"]["logLines"])
    assert AES_KEY.hex() not in log  # the key is a secret
    path = fast_settings(tmp_path).local_path / "o.db"
    with sqlite3.connect(path) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(data_stream)")]
        rows = db.execute(
            f"SELECT {', '.join(OTHER_COLUMNS)} FROM data_stream ORDER BY src_id"
        ).fetchall()
    assert [c for c in columns if not c.startswith("_airbyte")] == list(OTHER_COLUMNS)
    check_others(records, rows)


async def test_other_mappers_into_duckdb(client: httpx.AsyncClient, tmp_path: Path) -> None:
    import duckdb

    records = source_records(tmp_path, SOURCE)
    source = await make_source(client, SOURCE)
    destination = await make_destination(client, DUCKDB, {"destination_path": "/local/o.duckdb"})
    connection = await mapped_connection(client, source, destination, OTHERS)
    await sync(client, connection)
    path = fast_settings(tmp_path).local_path / "o.duckdb"
    with duckdb.connect(str(path), read_only=True) as db:
        columns = {r[0] for r in db.execute("DESCRIBE main.data_stream").fetchall()}
        rows = db.execute(
            f"SELECT {', '.join(OTHER_COLUMNS)} FROM main.data_stream ORDER BY src_id"
        ).fetchall()
    assert set(OTHER_COLUMNS) <= columns and "src_payload" not in columns
    check_others(records, rows)
    content = file_bytes(path)
    assert all(r["payload"].encode() not in content for r in records)


@pytest.mark.postgres
async def test_other_mappers_into_postgres(
    client: httpx.AsyncClient, tmp_path: Path, postgres_server: PostgresServer
) -> None:
    import psycopg

    schema = f"o_{uuid.uuid4().hex[:8]}"
    records = source_records(tmp_path, SOURCE)
    source = await make_source(client, SOURCE)
    destination = await make_destination(client, POSTGRES, postgres_server.config(schema=schema))
    connection = await mapped_connection(client, source, destination, OTHERS)
    await sync(client, connection)
    with psycopg.connect(postgres_server.dsn()) as db:
        rows = db.execute(
            f'SELECT {", ".join(OTHER_COLUMNS)} FROM "{schema}".data_stream ORDER BY src_id'
        ).fetchall()
    check_others(records, rows)


async def test_the_2020_shapes_field_selection_applies(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A 2020 client leaves a field out with `fields[].selected: false` in the syncSchema it
    sends: the column is not written."""
    records = source_records(tmp_path, SOURCE)
    source = await make_source(client, SOURCE)
    destination = await make_destination(client, SQLITE, {"destination_path": "/local/e.db"})
    discovered = await ok(client, "sources/discover_schema", {"sourceId": source})
    schema = discovered["schema"]
    for stream in schema["streams"]:
        for field in stream["fields"]:
            field["selected"] = field["name"] != "payload"
    body = {
        "sourceId": source,
        "destinationId": destination,
        "status": "active",
        "syncSchema": schema,
        "syncMode": "full_refresh",
    }
    connection = (await ok(client, "connections/create", body))["connectionId"]
    await sync(client, connection)
    path = fast_settings(tmp_path).local_path / "e.db"
    with sqlite3.connect(path) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(data_stream)")]
        count = db.execute("SELECT COUNT(*) FROM data_stream").fetchone()[0]
    assert [c for c in columns if not c.startswith("_airbyte")] == list(KEPT)
    assert count == len(records)
    content = file_bytes(path)
    assert all(r["payload"].encode() not in content for r in records)


async def test_mapped_records_under_a_prefix_and_their_states_commit(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    records = source_records(tmp_path, SOURCE)
    config = {**SOURCE, "state_checkpoint_interval": 7}
    source = await make_source(client, config)
    destination = await make_destination(client, SQLITE, {"destination_path": "/local/p.db"})
    connection = await mapped_connection(
        client, source, destination, MAPPING, "incremental", "append"
    )
    await ok(client, "connections/update", {"connectionId": connection, "prefix": "raw_"})
    info = await sync(client, connection)
    assert info["job"]["aggregatedStats"]["recordsEmitted"] == len(records)
    state = await ok(client, "state/get", {"connectionId": connection})
    assert state["streamState"][0]["streamState"] == {"updated_at": len(records)}
    path = fast_settings(tmp_path).local_path / "p.db"
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT id, updated_at, name_hashed, total, active FROM raw_data_stream ORDER BY id"
        ).fetchall()
    assert [(*r[:4], bool(r[4])) for r in rows] == expected_rows(records)
