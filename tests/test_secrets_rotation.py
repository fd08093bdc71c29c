"""`sluice secrets rotate` re-encrypts every sealed value, wherever a document holds one: a
connection's encryption-mapper key and a workspace's webhook secret as well as configurations.
After a rotation each opens with the new key alone."""

from __future__ import annotations

import httpx
import pytest

from server import cli
from server.core.notifications import NotificationEvent, queue_event
from server.domain.secrets import MASK
from server.settings import Settings
from server.store import connections as store
from server.store import secret_box
from server.store.db import open_db, transaction
from server.store.notifications import due_deliveries
from tests.conftest import post
from tests.support.connections import create, users_stream

KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
WEBHOOK_SECRET = "rotate-me-webhook-secret"


def _tokens(settings: Settings) -> dict[str, str]:
    """Each table's documents, as stored (sealed values and all)."""
    db = open_db(settings.database, key_dir=settings.data_path)
    try:
        return {
            table: "".join(row[0] for row in db.execute(f"SELECT data FROM {table}").fetchall())
            for table in ("connections", "workspaces")
        }
    finally:
        db.conn.close()


async def test_rotation_reseals_mapper_keys_and_webhook_secrets(
    client: httpx.AsyncClient, ends: tuple[str, str, str], settings: Settings
) -> None:
    aes = {
        "type": "encryption",
        "mapperConfiguration": {
            "algorithm": "AES",
            "targetField": "id",
            "fieldNameSuffix": "_encrypted",
            "key": KEY,
            "mode": "CBC",
            "padding": "PKCS5Padding",
        },
    }
    r = await create(client, ends, syncCatalog={"streams": [users_stream(mappers=[aes])]})
    assert r.status_code == 200, r.text
    connection_id = r.json()["connectionId"]
    hook = {"url": "http://127.0.0.1:9/hook", "secret": WEBHOOK_SECRET}
    settings_body = {
        "sendOnSuccess": {"notificationType": ["webhook"], "webhookConfiguration": hook}
    }
    r = await post(
        client,
        "workspaces/update",
        {"workspaceId": ends[0], "notificationSettings": settings_body},
    )
    assert r.status_code == 200, r.text
    assert WEBHOOK_SECRET not in r.text and MASK in r.text
    before = _tokens(settings)
    assert all(secret_box.PREFIX in text for text in before.values())

    with pytest.MonkeyPatch.context() as env:  # the command's settings come from the environment
        if settings.database_url:
            env.setenv("SLUICE_DATABASE_URL", settings.database_url)
        assert cli.main(["secrets", "rotate", "--data-dir", settings.data_dir]) == 0

    after = _tokens(settings)
    for table, text in after.items():
        assert secret_box.PREFIX in text, table
        assert text != before[table], f"{table}: its sealed values were not re-encrypted"
        assert KEY not in text and WEBHOOK_SECRET not in text
    # Only the new key is kept (the key file was replaced): both values open with it.
    db = open_db(settings.database, "", settings.data_path)
    try:
        connection = store.get_connection(db, connection_id)
        config = connection.sync_catalog.streams[0].config
        assert config is not None and config.mappers
        assert config.mappers[0].mapper_configuration["key"] == KEY
        with transaction(db):
            event = NotificationEvent(trigger="sendOnSuccess", message="rotated")
            assert queue_event(db, ends[0], event, 100) == 1
        [delivery] = due_deliveries(db, 100, 10)
        assert delivery.signature is not None and delivery.signature.startswith("sha256=")
    finally:
        db.conn.close()
