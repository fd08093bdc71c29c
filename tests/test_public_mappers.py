"""Stream mappers through the public API (`configurations.streams[].mappers`): stored as the
config API stores them (one connection, two faces), checked by the same rules (a 422 problem
naming the stream, the mapper and the reason at `configurations.streams[i].mappers[j]`), and
an AES key masked in every reply and kept when a PATCH sends the mask back."""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
import pytest

from server.domain.secrets import MASK
from server.settings import Settings
from server.store import connections as store
from server.store.db import open_db
from tests.conftest import post
from tests.support.actors import default_workspace, make_destination, make_source
from tests.support.public import API, assert_problem

Json = dict[str, Any]
TWO_STREAMS = {"type": "SINGLE_STREAM", "stream_name": "ds", "stream_duplication": 2}
KEY = os.urandom(32).hex()

DROP_PAYLOAD = {"type": "field-filtering", "mapperConfiguration": {"targetField": "payload"}}
HASH_NAME = {
    "type": "hashing",
    "mapperConfiguration": {"targetField": "name", "method": "SHA-256", "fieldNameSuffix": "_h"},
}
BIG = {"type": "row-filtering", "mapperConfiguration": {"expression": "amount > 10"}}
AES = {
    "type": "encryption",
    "mapperConfiguration": {
        "algorithm": "AES",
        "targetField": "name",
        "fieldNameSuffix": "_enc",
        "key": KEY,
        "mode": "GCM",
        "padding": "NoPadding",
    },
}


@pytest.fixture
async def pair(client: httpx.AsyncClient) -> tuple[str, str]:
    """(source id, destination id): a two-stream E2E source (`ds_0`, `ds_1`: id, updated_at,
    name, amount, active, payload) and SQLite."""
    workspace_id = await default_workspace(client)
    source = await make_source(
        client, workspace_id, "Feed", max_messages=5, mock_catalog=TWO_STREAMS
    )
    destination = await make_destination(client, workspace_id, "Warehouse")
    return str(source["sourceId"]), str(destination["destinationId"])


async def create(
    client: httpx.AsyncClient, pair: tuple[str, str], *streams: Json
) -> httpx.Response:
    source_id, destination_id = pair
    body = {
        "sourceId": source_id,
        "destinationId": destination_id,
        "configurations": {"streams": list(streams)},
    }
    return await client.post(f"{API}/connections", json=body)


def stored_mappers(settings: Settings, connection_id: str, stream: int = 0) -> list[Json]:
    db = open_db(settings.database, settings.secret_key, settings.data_path)
    try:
        catalog = store.get_connection(db, connection_id).sync_catalog
    finally:
        db.close()
    config = catalog.streams[stream].config
    assert config is not None
    return [m.mapper_configuration for m in config.mappers or []]


async def test_mappers_are_stored_and_shown_by_both_apis(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    r = await create(
        client, pair, {"name": "ds_0", "mappers": [DROP_PAYLOAD, HASH_NAME, BIG]}, {"name": "ds_1"}
    )
    assert r.status_code == 200, r.text
    c = r.json()
    first, second = c["configurations"]["streams"]
    assert [m["type"] for m in first["mappers"]] == ["field-filtering", "hashing", "row-filtering"]
    assert all(uuid.UUID(m["id"]) for m in first["mappers"])
    assert first["mappers"][2]["mapperConfiguration"] == {"expression": "amount > 10"}
    assert "mappers" not in second
    got = await client.get(f"{API}/connections/{c['connectionId']}")
    assert got.json()["configurations"] == c["configurations"]
    config_api = await post(client, "connections/get", {"connectionId": c["connectionId"]})
    streams = {
        s["stream"]["name"]: s["config"] for s in config_api.json()["syncCatalog"]["streams"]
    }
    assert streams["ds_0"]["mappers"] == first["mappers"]

    # A PATCH without the streams keeps them; one with other mappers replaces them.
    r = await client.patch(f"{API}/connections/{c['connectionId']}", json={"name": "Renamed"})
    assert r.status_code == 200, r.text
    assert r.json()["configurations"] == c["configurations"]
    r = await client.patch(
        f"{API}/connections/{c['connectionId']}",
        json={"configurations": {"streams": [{"name": "ds_0", "mappers": [HASH_NAME]}]}},
    )
    assert r.status_code == 200, r.text
    (only,) = r.json()["configurations"]["streams"]
    assert [m["type"] for m in only["mappers"]] == ["hashing"]


@pytest.mark.parametrize(
    ("mappers", "index", "words"),
    [
        (
            [
                DROP_PAYLOAD,
                {"type": "field-filtering", "mapperConfiguration": {"targetField": "payload"}},
            ],
            1,
            ["mapper 1 (field-filtering)", "'payload'"],
        ),
        (
            [
                {
                    "type": "field-renaming",
                    "mapperConfiguration": {"originalFieldName": "name", "newFieldName": "amount"},
                }
            ],
            0,
            ["mapper 0 (field-renaming)", "'amount'", "already exists"],
        ),
        (
            [{**AES, "mapperConfiguration": {**AES["mapperConfiguration"], "key": "00ff"}}],
            0,
            ["mapper 0 (encryption)", "key"],
        ),
        (
            [{"type": "row-filtering", "mapperConfiguration": {"expression": "amount >"}}],
            0,
            ["mapper 0 (row-filtering)", "condition"],
        ),
    ],
)
async def test_a_bad_mapper_is_a_422_problem_naming_it(
    client: httpx.AsyncClient,
    pair: tuple[str, str],
    mappers: list[Json],
    index: int,
    words: list[str],
) -> None:
    r = await create(client, pair, {"name": "ds_1"}, {"name": "ds_0", "mappers": mappers})
    body = assert_problem(r, 422, "unprocessable-entity")
    problems = {e["propertyPath"]: e["message"] for e in body["data"]["validationErrors"]}
    path = f"configurations.streams[1].mappers[{index}]"
    assert path in problems, problems
    for word in ["Stream 'ds_0'", *words]:
        assert word in problems[path] and word in body["detail"]
    assert (await client.get(f"{API}/connections")).json()["data"] == []


async def test_an_unknown_mapper_type_is_a_422_problem(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    r = await create(client, pair, {"name": "ds_0", "mappers": [{"type": "hashing"}]})
    body = assert_problem(r, 422, "unprocessable-entity")
    paths = [e["propertyPath"] for e in body["data"]["validationErrors"]]
    assert any(p.startswith("configurations.streams[0].mappers[0]") for p in paths), paths


async def test_the_aes_key_is_masked_and_kept_by_a_patch(
    client: httpx.AsyncClient, pair: tuple[str, str], settings: Settings
) -> None:
    r = await create(client, pair, {"name": "ds_0", "mappers": [DROP_PAYLOAD, AES]})
    assert r.status_code == 200, r.text
    assert KEY not in r.text
    c = r.json()
    shown = c["configurations"]["streams"][0]["mappers"][1]["mapperConfiguration"]
    assert shown["key"] == MASK and shown["mode"] == "GCM"
    for reply in [
        await client.get(f"{API}/connections/{c['connectionId']}"),
        await client.get(f"{API}/connections"),
    ]:
        assert reply.status_code == 200 and KEY not in reply.text and MASK in reply.text

    # The reply's streams sent back: the key is the stored one.
    streams = [
        {k: v for k, v in s.items() if k in ("name", "syncMode", "mappers")}
        for s in c["configurations"]["streams"]
    ]
    r = await client.patch(
        f"{API}/connections/{c['connectionId']}", json={"configurations": {"streams": streams}}
    )
    assert r.status_code == 200, r.text
    assert KEY not in r.text
    assert stored_mappers(settings, c["connectionId"])[1]["key"] == KEY

    # A mask where nothing is stored is refused at the key.
    r = await create(
        client, pair, {"name": "ds_1", "mappers": [{**AES, "mapperConfiguration": shown}]}
    )
    body = assert_problem(r, 422, "unprocessable-entity")
    paths = [e["propertyPath"] for e in body["data"]["validationErrors"]]
    assert paths == ["configurations.streams[0].mappers[0].mapperConfiguration.key"]

    path = settings.db_path
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    data = b"".join(f.read_bytes() for f in files if f.exists())
    assert KEY.encode() not in data and KEY.upper().encode() not in data
    assert bytes.fromhex(KEY) not in data
