"""An encryption mapper's AES key is a secret: sealed in the database (its bytes are nowhere in
the files, -wal included), masked in every reply (create, update, get, list, the web backend's
views, mapper validation, a refusal), kept when an update sends the mask back, and read in the
clear by the store's typed reads, which the job plan uses."""

from __future__ import annotations

import copy
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from server.app import create_app
from server.domain.secrets import MASK
from server.settings import Settings
from server.store import connections as store
from server.store.db import open_db
from tests.conftest import post, running
from tests.support.api_jobs import (
    SQLITE,
    fast_settings,
    make_destination,
    make_source,
    ok,
    wait_job,
)
from tests.support.connections import create, users_stream

Json = dict[str, Any]

KEY = os.urandom(32).hex()  # a fresh key per run: no other data can hold its bytes
OTHER_KEY = os.urandom(16).hex()
RSA_PUBLIC_KEY = (
    "30820122300d06092a864886f70d01010105000382010f003082010a0282010100"  # a key's DER prefix
)


def aes(key: str = KEY, **more: Any) -> Json:
    configuration = {
        "algorithm": "AES",
        "targetField": "id",
        "fieldNameSuffix": "_encrypted",
        "key": key,
        "mode": "CBC",
        "padding": "PKCS5Padding",
        **more,
    }
    return {"type": "encryption", "mapperConfiguration": configuration}


def database_bytes(settings: Settings) -> bytes:
    path = settings.db_path
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def held_in_clear(settings: Settings, *keys: str) -> list[str]:
    data = database_bytes(settings)
    forms = [form for key in keys for form in (key, key.upper(), bytes.fromhex(key).hex(":"))]
    found = [form for form in forms if form.encode() in data]
    found += [key for key in keys if bytes.fromhex(key) in data]
    return found


def stored_key(settings: Settings, connection_id: str) -> Any:
    """The key as the job plan reads it (`store.get_connection`, secrets opened)."""
    db = open_db(Path(settings.db_path), settings.secret_key)
    try:
        connection = store.get_connection(db, connection_id)
    finally:
        db.close()
    config = connection.sync_catalog.streams[0].config
    assert config is not None and config.mappers
    return config.mappers[0].mapper_configuration["key"]


def mapper_of(reply: Json) -> Json:
    return reply["syncCatalog"]["streams"][0]["config"]["mappers"][0]  # type: ignore[no-any-return]


async def test_the_key_is_sealed_masked_and_kept(
    client: httpx.AsyncClient, ends: tuple[str, str, str], settings: Settings
) -> None:
    r = await create(client, ends, syncCatalog={"streams": [users_stream(mappers=[aes()])]})
    assert r.status_code == 200, r.text
    assert KEY not in r.text
    c = r.json()
    assert mapper_of(c)["mapperConfiguration"]["key"] == MASK
    assert mapper_of(c)["mapperConfiguration"]["mode"] == "CBC"  # only the key is masked
    connection_id = c["connectionId"]

    replies = [
        await post(client, "connections/get", {"connectionId": connection_id}),
        await post(client, "connections/list", {"workspaceId": ends[0]}),
        await post(client, "web_backend/connections/get", {"connectionId": connection_id}),
        await post(client, "web_backend/connections/list", {"workspaceId": ends[0]}),
        await post(
            client,
            "web_backend/mappers/validate",
            {
                "connectionId": connection_id,
                "streamDescriptor": {"name": "users"},
                "mappers": [aes(MASK), aes(targetField="updated_at")],
            },
        ),
    ]
    for reply in replies:
        assert reply.status_code == 200, reply.text
        assert KEY not in reply.text and MASK in reply.text
    assert mapper_of(replies[0].json()) == mapper_of(c)
    # The mask in a draft is the stored key: it validates.
    checked = replies[-1].json()["mappers"]
    assert [m.get("validationError") for m in checked] == [None, None]
    assert checked[0]["mapperConfiguration"]["key"] == MASK

    # The reply sent back as it is (the mask in place of the key) keeps the key.
    r = await post(
        client,
        "connections/update",
        {"connectionId": connection_id, "syncCatalog": c["syncCatalog"], "name": "Renamed"},
    )
    assert r.status_code == 200, r.text
    assert mapper_of(r.json())["mapperConfiguration"]["key"] == MASK
    assert stored_key(settings, connection_id) == KEY

    # A new key replaces it.
    changed = copy.deepcopy(c["syncCatalog"])
    mapper_of({"syncCatalog": changed})["mapperConfiguration"]["key"] = OTHER_KEY
    r = await post(
        client, "connections/update", {"connectionId": connection_id, "syncCatalog": changed}
    )
    assert r.status_code == 200, r.text
    assert OTHER_KEY not in r.text
    assert stored_key(settings, connection_id) == OTHER_KEY
    assert held_in_clear(settings, KEY, OTHER_KEY) == []


async def test_a_mask_with_no_stored_key_and_refusals_never_echo_a_key(
    client: httpx.AsyncClient, ends: tuple[str, str, str], settings: Settings
) -> None:
    r = await create(client, ends, syncCatalog={"streams": [users_stream(mappers=[aes(MASK)])]})
    assert r.status_code == 422, r.text
    (problem,) = r.json()["validationErrors"]
    assert (
        problem["propertyPath"]
        == "syncCatalog.streams[0].config.mappers[0].mapperConfiguration.key"
    )
    assert "mask" in problem["message"] and "Stream 'users'" in problem["message"]

    for bad in (aes(mode="XTS"), aes(KEY[:-2]), aes(targetField="nope")):
        r = await create(client, ends, syncCatalog={"streams": [users_stream(mappers=[bad])]})
        assert r.status_code == 422, r.text
        assert "mapper 0 (encryption)" in r.text
        assert KEY not in r.text and KEY[:-2] not in r.text
    assert held_in_clear(settings, KEY) == []


async def test_an_rsa_public_key_is_not_a_secret(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        private.public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        .hex()
    )
    assert public.startswith(RSA_PUBLIC_KEY[:20])
    rsa_mapper = {
        "type": "encryption",
        "mapperConfiguration": {
            "algorithm": "RSA",
            "targetField": "id",
            "fieldNameSuffix": "_encrypted",
            "publicKey": public,
        },
    }
    r = await create(client, ends, syncCatalog={"streams": [users_stream(mappers=[rsa_mapper])]})
    assert r.status_code == 200, r.text
    assert mapper_of(r.json())["mapperConfiguration"]["publicKey"] == public


SOURCE = {"max_messages": 20, "seed": 5}


def source_records(tmp_path: Path, config: Json) -> list[Json]:
    """What source-e2e-test emits for `config`, read from it directly."""
    config_path, catalog_path = tmp_path / "source.json", tmp_path / "catalog.json"
    config_path.write_bytes(msgspec.json.encode(config))
    found = subprocess.run(
        ["source-e2e-test", "discover", "--config", str(config_path)],
        capture_output=True,
        check=True,
    ).stdout.splitlines()[-1]
    streams = [
        {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
        for s in msgspec.json.decode(found)["catalog"]["streams"]
    ]
    catalog_path.write_bytes(msgspec.json.encode({"streams": streams}))
    out = subprocess.run(
        ["source-e2e-test", "read", "--config", str(config_path), "--catalog", str(catalog_path)],
        capture_output=True,
        check=True,
    ).stdout
    messages = [msgspec.json.decode(line) for line in out.splitlines()]
    return [m["record"]["data"] for m in messages if m["type"] == "RECORD"]


@pytest.mark.slow
async def test_a_sync_encrypts_with_the_stored_key_and_never_shows_it(tmp_path: Path) -> None:
    """The job plan reads the connection with its key opened: the values in the destination
    decrypt with it; the key is in no reply, no log line and no file."""
    settings = fast_settings(tmp_path)
    async with running(create_app(settings)) as client:
        source = await make_source(client, SOURCE)
        destination = await make_destination(client, SQLITE, {"destination_path": "/local/e.db"})
        discovered = await ok(client, "sources/discover_schema", {"sourceId": source})
        (entry,) = discovered["catalog"]["streams"]
        mappers = [aes(targetField="name")]
        config = {**entry["config"], "syncMode": "full_refresh", "destinationSyncMode": "overwrite"}
        body = {
            "sourceId": source,
            "destinationId": destination,
            "syncCatalog": {
                "streams": [{"stream": entry["stream"], "config": {**config, "mappers": mappers}}]
            },
        }
        connection = await ok(client, "connections/create", body)
        job = await ok(client, "connections/sync", {"connectionId": connection["connectionId"]})
        info = await wait_job(client, job["job"]["id"], timeout=240)
        assert info["job"]["status"] == "succeeded", info["attempts"][-1]["logs"]["logLines"][-20:]
        assert KEY not in msgspec.json.encode(info).decode()
        path = settings.local_path / "e.db"
        with sqlite3.connect(path) as db:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({entry['stream']['name']})")]
            sealed = db.execute(f"SELECT name_encrypted FROM {entry['stream']['name']}").fetchall()
        assert "name_encrypted" in columns and "name" not in columns
        assert len(sealed) == 20
        key = bytes.fromhex(KEY)
        names = []
        for (value,) in sealed:
            raw = bytes.fromhex(value)
            decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:16])).decryptor()
            padded = decryptor.update(raw[16:]) + decryptor.finalize()
            unpadder = padding.PKCS7(128).unpadder()
            names.append((unpadder.update(padded) + unpadder.finalize()).decode())
        assert sorted(names) == sorted(r["name"] for r in source_records(tmp_path, SOURCE))
        files = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert KEY.encode() not in files and key not in files
    assert held_in_clear(settings, KEY) == []
