"""Secret paths: each source and destination keeps the JSON paths of the `airbyte_secret`
fields its configuration was validated with, and every reply is masked by them, also when
the connector's spec can no longer be fetched; with nothing known, every value is masked."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.domain.secrets import MASK, mask_leaves, mask_paths, secret_paths
from server.settings import Settings
from server.store import secret_box
from tests.conftest import post
from tests.connector_fixtures import FIXTURES, custom_definition, workspace_id
from tests.support.secret_spec import SPEC

# A connector program is named by its bare name, found in the connector directories.
SECRETIVE = ["secretive_connector.py"]
IMAGE = "sluice/secretive-test:1"
CONFIG: dict[str, Any] = {
    "dsn": "postgres://app:Pa55@db.internal/app",
    "host": "db.internal",
    "ssl_mode": {
        "mode": "verify-full",
        "ca_certificate": "-----BEGIN CA-----",
        "client_certificate": "-----BEGIN CERTIFICATE-----",
        "client_key": "-----BEGIN PRIVATE KEY-----",
    },
}
SHOWN: dict[str, Any] = {
    "dsn": MASK,
    "host": "db.internal",
    "ssl_mode": {
        "mode": "verify-full",
        "ca_certificate": MASK,
        "client_certificate": MASK,
        "client_key": MASK,
    },
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=str(tmp_path / "data"), scheduler_tick_seconds=0, connector_path=str(FIXTURES)
    )


def test_secret_paths_follow_variants_arrays_refs_and_additional_properties() -> None:
    assert sorted(secret_paths(SPEC), key=str) == sorted(
        [
            ["password"],
            ["tunnel", "private_key"],
            ["replicas", None, "token"],
            ["headers", None],
        ],
        key=str,
    )
    config = {"a": [{"k": "s1"}, {"k": "s2", "n": 1}], "b": {"x": "s3"}, "c": None}
    masked = mask_paths(config, [["a", None, "k"], ["b", None], ["c"]])
    assert masked == {"a": [{"k": MASK}, {"k": MASK, "n": 1}], "b": {"x": MASK}, "c": None}
    assert mask_leaves({"a": [1, "x", None], "b": {"c": True}}) == {
        "a": [MASK, MASK, None],
        "b": {"c": MASK},
    }


async def break_spec(client: httpx.AsyncClient, kind: str, definition_id: str) -> None:
    """Point the definition at an image that is not there: its spec cannot be fetched."""
    r = await post(
        client,
        f"{kind}_definitions/update",
        {f"{kind}DefinitionId": definition_id, "runner": "docker", "dockerImageTag": "missing"},
    )
    assert r.status_code == 200, r.text
    r = await post(
        client,
        f"{kind}_definition_specifications/get",
        {
            f"{kind}DefinitionId": definition_id,
            "workspaceId": await workspace_id(client),
        },
    )
    assert r.status_code >= 400, r.text  # the premise: no spec now


async def create(client: httpx.AsyncClient, kind: str, config: dict[str, Any]) -> dict[str, Any]:
    definition_id = await custom_definition(
        client, kind, "Secretive", command=SECRETIVE, image=IMAGE
    )
    r = await post(
        client,
        f"{kind}s/create",
        {
            "workspaceId": await workspace_id(client),
            f"{kind}DefinitionId": definition_id,
            "name": "secretive",
            "connectionConfiguration": config,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def stored(settings: Settings, table: str, object_id: str) -> tuple[dict[str, Any], Any]:
    with sqlite3.connect(settings.db_path) as db:
        row = db.execute(
            f"SELECT data, secret_paths FROM {table} WHERE id = ?", [object_id]
        ).fetchone()
    key = secret_box.parse_key((settings.data_path / secret_box.KEY_FILE).read_text(), "key")
    opened = secret_box.open_value(key, json.loads(row[0])["connectionConfiguration"])
    return opened, json.loads(row[1] or "null")


async def test_masked_by_stored_paths_when_the_spec_cannot_be_fetched(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for kind in ("source", "destination"):
        created = await create(client, kind, CONFIG)
        object_id = created[f"{kind}Id"]
        assert created["connectionConfiguration"] == SHOWN
        configuration, paths = stored(settings, f"{kind}s", object_id)
        assert configuration == CONFIG
        assert sorted(paths) == [
            ["dsn"],
            ["ssl_mode", "ca_certificate"],
            ["ssl_mode", "client_certificate"],
            ["ssl_mode", "client_key"],
        ]
        # The mask sent back keeps the stored secrets.
        update = {f"{kind}Id": object_id, "connectionConfiguration": {**SHOWN, "host": "db2"}}
        r = await post(client, f"{kind}s/update", update)
        assert r.status_code == 200, r.text
        assert stored(settings, f"{kind}s", object_id)[0] == {**CONFIG, "host": "db2"}

        await break_spec(client, kind, created[f"{kind}DefinitionId"])
        got = await post(client, f"{kind}s/get", {f"{kind}Id": object_id})
        assert got.status_code == 200, got.text
        assert got.json()["connectionConfiguration"] == {**SHOWN, "host": "db2"}
        listed = await post(client, f"{kind}s/list", {"workspaceId": created["workspaceId"]})
        assert listed.status_code == 200, listed.text
        assert "BEGIN" not in listed.text and "Pa55" not in listed.text
        assert "BEGIN" not in got.text and "Pa55" not in got.text


async def test_every_value_is_masked_when_neither_spec_nor_paths_are_known(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    created = await create(client, "destination", CONFIG)
    destination_id = created["destinationId"]
    # As a row stored before secret paths were kept has them.
    with sqlite3.connect(settings.db_path) as db:
        db.execute("UPDATE destinations SET secret_paths = NULL WHERE id = ?", [destination_id])
    await break_spec(client, "destination", created["destinationDefinitionId"])
    got = await post(client, "destinations/get", {"destinationId": destination_id})
    assert got.status_code == 200, got.text
    assert got.json()["connectionConfiguration"] == {
        "dsn": MASK,
        "host": MASK,
        "ssl_mode": {
            "mode": MASK,
            "ca_certificate": MASK,
            "client_certificate": MASK,
            "client_key": MASK,
        },
    }
