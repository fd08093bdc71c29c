"""Secrets (`airbyte_secret`): masked in every reply, kept on update when the mask is sent
back; configurations validated against the connector's spec (422 naming the property)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import httpx

from server.domain.secrets import MASK, mask, mask_by_name, mask_text, restore, secret_values
from server.settings import Settings
from server.store import secret_box
from tests.conftest import post
from tests.connector_fixtures import custom_definition, fault_command, workspace_id
from tests.support.secret_spec import SPEC

CONFIG: dict[str, Any] = {
    "host": "db.example",
    "password": "hunter22",
    "tunnel": {"method": "key", "private_key": "-----BEGIN KEY-----"},
    "replicas": [{"token": "tok-1"}, {"token": "tok-2", "name": "b"}],
    "headers": {"Authorization": "Bearer abc123"},
}


def test_mask_follows_nesting_variants_arrays_refs_and_additional_properties() -> None:
    assert mask(CONFIG, SPEC) == {
        "host": "db.example",
        "password": MASK,
        "tunnel": {"method": "key", "private_key": MASK},
        "replicas": [{"token": MASK}, {"token": MASK, "name": "b"}],
        "headers": {"Authorization": MASK},
    }
    assert CONFIG["password"] == "hunter22"  # a copy; the original is untouched


def test_restore_takes_stored_values_where_the_mask_was_sent_back() -> None:
    sent = {**mask(CONFIG, SPEC), "host": "db2.example"}
    sent["replicas"] = [{"token": MASK}, {"token": "tok-new", "name": "b"}]
    restored = restore(sent, CONFIG)
    assert restored["host"] == "db2.example"
    assert restored["password"] == "hunter22"
    assert restored["tunnel"]["private_key"] == "-----BEGIN KEY-----"
    assert restored["replicas"] == [{"token": "tok-1"}, {"token": "tok-new", "name": "b"}]


def test_secret_values_and_mask_text() -> None:
    values = secret_values(CONFIG, SPEC)
    assert set(values) == {"hunter22", "-----BEGIN KEY-----", "tok-1", "tok-2", "Bearer abc123"}
    line = "connecting with hunter22 and Bearer abc123 to db.example"
    assert mask_text(line, values) == f"connecting with {MASK} and {MASK} to db.example"


def test_mask_by_name_when_no_spec_is_available() -> None:
    masked = mask_by_name({"host": "h", "api_key": "k", "nested": {"client_secret": "s"}})
    assert masked == {"host": "h", "api_key": MASK, "nested": {"client_secret": MASK}}


# --- through the API, on a connector whose spec marks `api_key` and passwords secret ------


async def create(client: httpx.AsyncClient, kind: str, config: dict[str, Any]) -> httpx.Response:
    definition_id = await custom_definition(client, kind, "Fault", command=fault_command())
    return await post(
        client,
        f"{kind}s/create",
        {
            "workspaceId": await workspace_id(client),
            f"{kind}DefinitionId": definition_id,
            "name": "secretive",
            "connectionConfiguration": config,
        },
    )


def stored_configuration(settings: Settings, table: str, object_id: str) -> dict[str, Any]:
    """The configuration as stored, its sealed secrets opened with the data directory's key."""
    with sqlite3.connect(settings.db_path) as db:
        row = db.execute(f"SELECT data FROM {table} WHERE id = ?", [object_id]).fetchone()
    key = secret_box.parse_key((settings.data_path / secret_box.KEY_FILE).read_text(), "key")
    opened = secret_box.open_value(key, json.loads(row[0])["connectionConfiguration"])
    return opened  # type: ignore[no-any-return]


async def test_source_secrets_never_come_back_and_the_mask_keeps_them(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    config = {
        "api_key": "good",
        "count": 2,
        "credentials": {"auth_type": "password", "password": "pa55word!"},
    }
    r = await create(client, "source", config)
    assert r.status_code == 200, r.text
    source = r.json()
    source_id = source["sourceId"]
    shown = {
        "api_key": MASK,
        "count": 2,
        "credentials": {"auth_type": "password", "password": MASK},
    }
    assert source["connectionConfiguration"] == shown
    assert (await post(client, "sources/get", {"sourceId": source_id})).json() == source
    listed = (await post(client, "sources/list", {"workspaceId": source["workspaceId"]})).json()
    assert [s["connectionConfiguration"] for s in listed["sources"]] == [shown]
    assert stored_configuration(settings, "sources", source_id) == config

    # An update that sends the masked configuration back (with one change) keeps the secrets.
    update = {"sourceId": source_id, "connectionConfiguration": {**shown, "count": 3}}
    r = await post(client, "sources/update", update)
    assert r.status_code == 200, r.text
    assert r.json()["connectionConfiguration"] == {**shown, "count": 3}
    assert stored_configuration(settings, "sources", source_id) == {**config, "count": 3}
    # ... as the connector confirms: the stored key is still the good one.
    r = await post(client, "sources/check_connection", {"sourceId": source_id})
    assert r.json()["status"] == "succeeded", r.text

    # A new secret replaces the old one, and is masked too.
    update["connectionConfiguration"] = {"api_key": "other-key", "count": 3}
    r = await post(client, "sources/update", update)
    assert r.json()["connectionConfiguration"] == {"api_key": MASK, "count": 3}
    assert stored_configuration(settings, "sources", source_id)["api_key"] == "other-key"
    assert "other-key" not in r.text


async def test_destination_secrets_are_masked(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    r = await create(client, "destination", {"api_key": "d-key-1", "count": 1})
    assert r.status_code == 200, r.text
    destination_id = r.json()["destinationId"]
    assert r.json()["connectionConfiguration"] == {"api_key": MASK, "count": 1}
    r = await post(client, "destinations/get", {"destinationId": destination_id})
    assert r.json()["connectionConfiguration"]["api_key"] == MASK
    update = {
        "destinationId": destination_id,
        "connectionConfiguration": {"api_key": MASK, "count": 5},
    }
    assert (await post(client, "destinations/update", update)).status_code == 200
    assert stored_configuration(settings, "destinations", destination_id) == {
        "api_key": "d-key-1",
        "count": 5,
    }


async def test_bad_configurations_are_422_naming_the_property(client: httpx.AsyncClient) -> None:
    r = await create(client, "source", {"api_key": "good", "count": "many"})
    assert r.status_code == 422
    errors = r.json()["validationErrors"]
    assert errors[0]["propertyPath"] == "connectionConfiguration.count"
    assert errors[0]["invalidValue"] == "many"
    assert "is not of type 'integer'" in errors[0]["message"]

    r = await create(client, "source", {"count": 1})
    assert r.status_code == 422
    assert r.json()["validationErrors"][0]["propertyPath"] == "connectionConfiguration.api_key"
    assert "required" in r.json()["message"]

    # A secret that breaks a rule is named, never shown.
    r = await create(client, "destination", {"api_key": "abc", "count": 1})
    assert r.status_code == 422
    error = r.json()["validationErrors"][0]
    assert error["propertyPath"] == "connectionConfiguration.api_key"
    assert error["invalidValue"] == MASK
    assert "'abc'" not in r.text


async def test_a_bad_update_is_422_and_changes_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    source = (await create(client, "source", {"api_key": "good", "count": 2})).json()
    update = {
        "sourceId": source["sourceId"],
        "connectionConfiguration": {"api_key": MASK, "count": 0},
    }
    r = await post(client, "sources/update", update)
    assert r.status_code == 422
    assert r.json()["validationErrors"][0]["propertyPath"] == "connectionConfiguration.count"
    assert stored_configuration(settings, "sources", source["sourceId"]) == {
        "api_key": "good",
        "count": 2,
    }
