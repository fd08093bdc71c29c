"""An encryption mapper's AES key is a secret: sealed in the database (its bytes are nowhere in
the files, -wal included), masked in every reply (create, update, get, list, the web backend's
views, mapper validation, a refusal), kept when an update sends the mask back, and read in the
clear by the store's typed reads, which the job plan uses."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import httpx

from server.domain.secrets import MASK
from server.settings import Settings
from server.store import connections as store
from server.store.db import open_db
from tests.conftest import post
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
