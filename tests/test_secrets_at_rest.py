"""Secrets at rest: the values of `airbyte_secret` fields are encrypted in the database, so a
copy of its files (sluice.db, -wal, -shm) reveals none of them; connectors still get them in
clear; a wrong key stops start-up with one clear line; `sluice secrets rotate` re-encrypts."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from server import cli
from server.app import create_app
from server.domain.secrets import MASK, encoded_forms
from server.settings import Settings
from server.store import connector_cache, secret_box
from server.store.db import open_db
from tests.conftest import post, running
from tests.connector_fixtures import FIXTURES, custom_definition, fault_command, workspace_id
from tests.support.api_jobs import DEV_NULL, SILENT, make_connection, make_destination, ok, wait_job

# The fault connector's check succeeds only with api_key "good" (too common a word to look for
# in the file's bytes): its password, and the api_key it is changed to, are the ones looked for.
PASSWORD = 'pa55-W\u00f6rd/"x\\'
NEW_API_KEY = "sk-rotated-9b1f/\u00e9"
FAULT_CONFIG: dict[str, Any] = {
    "api_key": "good",
    "count": 2,
    "credentials": {"auth_type": "password", "password": PASSWORD},
}
DSN = "postgres://app:Zr7-secret@db.internal/app"
CLIENT_KEY = "-----BEGIN PRIVATE KEY----- MIIEvQ"
SECRETIVE_CONFIG: dict[str, Any] = {
    "dsn": DSN,
    "host": "db.internal",
    "ssl_mode": {"mode": "verify-full", "client_key": CLIENT_KEY},
}
SECRETIVE = ["secretive_connector.py"]
OLD_CREDENTIALS = {"auth_type": "password", "password": "0ld-passw0rd-k3pt-in-free-space"}
DELETED_PASSWORD = "d3leted-s0urce-passw0rd"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=str(tmp_path / "data"),
        scheduler_tick_seconds=0,
        connector_path=str(FIXTURES),
        sync_retry_backoff_seconds=0.0,
        sync_max_attempts=1,
        worker_poll_seconds=0.2,
    )


def database_bytes(settings: Settings) -> bytes:
    """What a copy of the database's files holds."""
    path = settings.db_path
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def found_in_clear(settings: Settings, secrets: list[str]) -> list[str]:
    data = database_bytes(settings)
    return sorted(
        form
        for secret in secrets
        for form in encoded_forms(secret)
        if form.encode() in data or form.encode("latin-1", "ignore") in data
    )


async def create(
    client: httpx.AsyncClient, kind: str, definition_id: str, config: dict[str, Any]
) -> str:
    body = {
        "workspaceId": await workspace_id(client),
        f"{kind}DefinitionId": definition_id,
        "name": f"a {kind}",
        "connectionConfiguration": config,
    }
    return str((await ok(client, f"{kind}s/create", body))[f"{kind}Id"])


async def fault_source(client: httpx.AsyncClient) -> str:
    definition_id = await custom_definition(client, "source", "Fault", command=fault_command())
    return await create(client, "source", definition_id, FAULT_CONFIG)


async def check(client: httpx.AsyncClient, source_id: str) -> dict[str, Any]:
    return await ok(client, "sources/check_connection", {"sourceId": source_id})


def stored_tokens(settings: Settings) -> list[str]:
    with sqlite3.connect(settings.db_path) as db:
        rows = db.execute("SELECT data FROM sources UNION ALL SELECT data FROM destinations")
        text = "".join(row[0] for row in rows)
    return [part.split('"')[0] for part in text.split(secret_box.PREFIX)[1:]]


async def test_the_database_files_hold_no_secret_in_clear(settings: Settings) -> None:
    async with running(create_app(settings)) as client:
        source_id = await fault_source(client)
        secretive = await custom_definition(
            client, "destination", "Secretive", command=SECRETIVE, image="sluice/secretive:1"
        )
        destination_id = await create(client, "destination", secretive, SECRETIVE_CONFIG)
        # The connector gets the secret itself: its check passes only with the stored key.
        assert (await check(client, source_id))["status"] == "succeeded"

        # Updated: the mask sent back keeps the password, the api_key changes.
        shown = (await ok(client, "sources/get", {"sourceId": source_id}))[
            "connectionConfiguration"
        ]
        assert shown["credentials"]["password"] == MASK
        update = {"sourceId": source_id, "connectionConfiguration": {**shown, "count": 3}}
        await ok(client, "sources/update", update)
        assert (await check(client, source_id))["status"] == "succeeded"
        update["connectionConfiguration"] = {**shown, "api_key": NEW_API_KEY}
        await ok(client, "sources/update", update)
        check_result = await check(client, source_id)
        assert check_result["status"] == "failed"  # the connector saw the new key ...
        assert NEW_API_KEY not in json.dumps(check_result)  # ... and its log masks it

        # And deleted, with a second source holding the same secrets.
        second = await fault_source(client)
        for path, body in [
            ("sources/delete", {"sourceId": second}),
            ("destinations/delete", {"destinationId": destination_id}),
        ]:
            assert (await post(client, path, body)).status_code == 204

        secrets = [PASSWORD, NEW_API_KEY, DSN, CLIENT_KEY]
        assert found_in_clear(settings, secrets) == []
        assert stored_tokens(settings), "the premise: secrets are stored, sealed"
    assert found_in_clear(settings, secrets) == []  # after shut-down too


async def test_rows_stored_in_clear_before_are_sealed_at_start(settings: Settings) -> None:
    async with running(create_app(settings)) as client:
        source_ids = [await fault_source(client) for _ in range(3)]
        source_id = source_ids[1]
    # As a version that kept secrets in clear left the rows: a password changed (the old one
    # stays in the file's free space), and a large source deleted (its overflow pages go to
    # the free list as they were). Its last connection checkpoints.
    deleted = {"notes": "n" * 20_000, "credentials": {"password": DELETED_PASSWORD}}
    with sqlite3.connect(settings.db_path) as db:
        db.execute("DELETE FROM secret_key_check")  # that version had none
        db.execute("PRAGMA secure_delete=OFF")  # the default of most SQLite builds
        for config in ({**FAULT_CONFIG, "credentials": OLD_CREDENTIALS}, FAULT_CONFIG):
            for row_id, text in db.execute("SELECT id, data FROM sources").fetchall():
                data = json.loads(text)
                data["connectionConfiguration"] = deleted if row_id == source_ids[2] else config
                db.execute("UPDATE sources SET data = ? WHERE id = ?", [json.dumps(data), row_id])
            db.commit()
        db.execute("DELETE FROM sources WHERE id = ?", [source_ids[2]])
    secrets = [PASSWORD, OLD_CREDENTIALS["password"], DELETED_PASSWORD]
    for secret in secrets:
        assert found_in_clear(settings, [secret]), "the premise: the file holds the secrets"

    async with running(create_app(settings)) as client:
        assert found_in_clear(settings, secrets) == []
        assert (await check(client, source_id))["status"] == "succeeded"
        got = await ok(client, "sources/get", {"sourceId": source_id})
        assert got["connectionConfiguration"]["credentials"]["password"] == MASK
    assert found_in_clear(settings, secrets) == []


def serve(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`sluice serve` as a user runs it; it must refuse before serving."""
    code = cli.main(["serve", "--data-dir", str(data_dir), "--port", "1"])
    return code, capsys.readouterr().err


def test_a_wrong_or_missing_key_stops_start_up_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    open_db(data / "sluice.db", "").conn.close()  # a database with a key file
    key_file = data / secret_box.KEY_FILE
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"

    monkeypatch.setenv("SLUICE_SECRET_KEY", secret_box.new_key())
    code, err = serve(data, capsys)
    assert code == 2 and "SLUICE_SECRET_KEY does not open the secrets" in err, err
    monkeypatch.setenv("SLUICE_SECRET_KEY", "not-a-key")
    code, err = serve(data, capsys)
    assert code == 2 and "SLUICE_SECRET_KEY is not a secret key" in err, err
    monkeypatch.delenv("SLUICE_SECRET_KEY")

    original = key_file.read_text()
    key_file.write_text(secret_box.new_key())
    code, err = serve(data, capsys)
    assert code == 2 and f"the key file {key_file} does not open" in err, err
    key_file.unlink()
    code, err = serve(data, capsys)
    assert code == 2 and f"the key file {key_file} is missing" in err, err
    assert not key_file.exists()  # no new key was made for secrets sealed with another
    assert "Traceback" not in err

    key_file.write_text(original)  # the right key opens them again
    open_db(data / "sluice.db", "").conn.close()


async def test_rotate_seals_every_secret_with_a_new_key_in_the_key_file(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running(create_app(settings)) as client:
        source_id = await fault_source(client)
    key_file = settings.data_path / secret_box.KEY_FILE
    old_key, old_tokens = key_file.read_text(), stored_tokens(settings)

    assert cli.main(["secrets", "rotate", "--data-dir", settings.data_dir]) == 0
    assert "secrets rotated" in capsys.readouterr().out
    new_tokens = stored_tokens(settings)
    assert key_file.read_text() != old_key and len(new_tokens) == len(old_tokens)
    assert not any(token.encode() in database_bytes(settings) for token in old_tokens)
    old = secret_box.parse_key(old_key, "old")
    with pytest.raises(secret_box.SecretKeyError):
        secret_box.open_value(old, secret_box.PREFIX + new_tokens[0])

    async with running(create_app(settings)) as client:
        assert (await check(client, source_id))["status"] == "succeeded"


async def test_rotate_with_the_new_key_from_the_environment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = secret_box.new_key(), secret_box.new_key()
    async with running(create_app(_with_key(settings, first))) as client:
        source_id = await fault_source(client)
    assert not (settings.data_path / secret_box.KEY_FILE).exists()

    monkeypatch.setenv("SLUICE_SECRET_KEY", first)
    rotate = ["secrets", "rotate", "--data-dir", settings.data_dir]
    assert cli.main(rotate) == 2  # which new key: not one printed to a terminal
    assert "pass the new key in SLUICE_NEW_SECRET_KEY" in capsys.readouterr().err
    monkeypatch.setenv("SLUICE_NEW_SECRET_KEY", second)
    assert cli.main([*rotate, "--new-key"]) == 0
    assert "set SLUICE_SECRET_KEY" in capsys.readouterr().out

    monkeypatch.setenv("SLUICE_SECRET_KEY", first)
    code, err = serve(settings.data_path, capsys)
    assert code == 2 and "does not open" in err
    async with running(create_app(_with_key(settings, second))) as client:
        assert (await check(client, source_id))["status"] == "succeeded"


def _with_key(settings: Settings, key: str) -> Settings:
    return msgspec.structs.replace(settings, secret_key=key)


def test_an_interrupted_rotation_is_finished_or_undone_at_start(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sluice.db"
    open_db(path, "").conn.close()
    key_file, pending = path.with_name(secret_box.KEY_FILE), path.with_name(secret_box.NEW_KEY_FILE)
    before = key_file.read_text()
    db = open_db(path, "")
    secret_box.rotate(db)
    db.conn.close()
    after = key_file.read_text()
    # Killed after the database committed, before the new key file was renamed into place.
    key_file.write_text(before)
    pending.write_text(after)
    open_db(path, "").conn.close()
    assert key_file.read_text() == after and not pending.exists()
    # Killed before the database committed: the new key was never used.
    pending.write_text(secret_box.new_key())
    open_db(path, "").conn.close()
    assert key_file.read_text() == after and not pending.exists()


async def test_logs_are_masked_by_the_stored_secret_paths(settings: Settings) -> None:
    async with running(create_app(settings)) as client:
        definition = await custom_definition(
            client, "source", "Secretive", command=SECRETIVE, image="sluice/secretive:1"
        )
        source_id = await create(client, "source", definition, SECRETIVE_CONFIG)
        destination_id = await make_destination(client, DEV_NULL, SILENT)
        connection_id = await make_connection(client, source_id, destination_id)

        # The spec is not cached (evicted): the sync's log masks by the source's stored paths.
        with sqlite3.connect(settings.db_path) as db:
            db.execute("DELETE FROM connector_specs")
        job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
        info = await wait_job(client, job["id"])
        lines = "\n".join(info["attempts"][-1]["logs"]["logLines"])
        assert "read with config" in lines  # the secretive connector printed its config ...
        assert DSN not in lines and CLIENT_KEY not in lines  # ... masked
        assert secret_box.PREFIX not in lines  # it was given the secrets opened, not sealed

        # A newer spec (simulated in the cache) no longer marks `dsn`: it stays a secret.
        await ok(client, "sources/get", {"sourceId": source_id})  # caches the spec again
        with sqlite3.connect(settings.db_path) as db:
            key, data = db.execute("SELECT key, data FROM connector_specs").fetchone()
            spec = json.loads(data)
            del spec["connectionSpecification"]["properties"]["dsn"]["airbyte_secret"]
            db.execute("UPDATE connector_specs SET data = ? WHERE key = ?", [json.dumps(spec), key])
        checked = await ok(client, "sources/check_connection", {"sourceId": source_id})
        assert "check with config" in json.dumps(checked)
        r = await post(
            client, "sources/discover_schema", {"sourceId": source_id, "disable_cache": True}
        )
        assert "discover with config" in r.text
        for text in (json.dumps(checked), r.text):
            assert not any(form in text for form in encoded_forms(DSN)), text


def test_the_discover_cache_key_needs_the_secret_key(tmp_path: Path) -> None:
    """The discover cache is keyed by a digest of the configuration: a plain hash would let a
    copy of the database test guesses of the secrets in it, so the digest is keyed."""
    configuration = {"password": "hunter2", "host": "db.example"}
    plain = msgspec.json.Encoder(order="sorted").encode(
        {"connector": "docker:airbyte/source-postgres:1", "config": configuration}
    )
    digests = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        db = open_db(tmp_path / name / "sluice.db", secret_box.new_key())
        digests.append(
            connector_cache.config_digest(db, "docker:airbyte/source-postgres:1", configuration)
        )
        assert digests[-1] == connector_cache.config_digest(
            db, "docker:airbyte/source-postgres:1", configuration
        )
    assert digests[0] != digests[1]
    assert hashlib.sha256(plain).hexdigest() not in digests
