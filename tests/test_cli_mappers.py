"""Streams' field selection and mappers in pipeline documents, against a real server (uvicorn)
with Sluice's own connectors: `sluice apply` sends them (a new AES key from an environment
variable), a sync writes what they make, `sluice diff` shows a mapper change, `sluice export`
writes them with the key masked, and applying the export keeps the stored key."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from server.mappers import MAPPER_TYPES
from server.remote.pipelines.document import schema
from tests.conftest import ADMIN_AUTH
from tests.support.cli import sluice
from tests.support.serving import ServerProcess

pytestmark = pytest.mark.serve

KEY = os.urandom(32).hex()  # fresh per run: no other data can hold it
ENV = {"USERS_AES_KEY": KEY}
MASK = "**********"

DOCUMENT = """\
workspaces:
  - name: Analytics
sources:
  - name: Users
    workspace: Analytics
    definition: E2E Testing
    configuration:
      max_messages: 20
      seed: 7
destinations:
  - name: Local
    workspace: Analytics
    definition: Local SQLite
    configuration:
      destination_path: /local/users.db
connections:
  - name: users-to-local
    workspace: Analytics
    source: Users
    destination: Local
    streams:
      - name: data_stream
        selectedFields: [[id], [name], [amount]]
        mappers:
          - type: field-renaming
            mapperConfiguration: {originalFieldName: amount, newFieldName: total}
          - type: encryption
            mapperConfiguration:
              algorithm: AES
              targetField: name
              fieldNameSuffix: _enc
              key: ${USERS_AES_KEY}
              mode: CBC
              padding: PKCS5Padding
"""


def api(server: ServerProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{server.url}/api/v1/{path}", json=body, auth=ADMIN_AUTH, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def the_connection(server: ServerProcess) -> dict[str, Any]:
    listed = api(server, "workspaces/list", {})["workspaces"]
    ws = next(w["workspaceId"] for w in listed if w["name"] == "Analytics")
    (conn,) = api(server, "connections/list", {"workspaceId": ws})["connections"]
    return conn  # type: ignore[no-any-return]


def sync(server: ServerProcess) -> None:
    conn = the_connection(server)
    job = api(server, "connections/sync", {"connectionId": conn["connectionId"]})["job"]
    deadline = time.monotonic() + 120
    while (info := api(server, "jobs/get", {"id": job["id"]}))["job"]["status"] not in (
        "succeeded",
        "failed",
        "cancelled",
    ):
        assert time.monotonic() < deadline, "the sync did not end"
        time.sleep(0.2)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]["logs"]["logLines"][-20:]


def read(server: ServerProcess, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The destination table's data columns, and the rows of `query`."""
    with sqlite3.connect(server.data_dir / "local" / "users.db") as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(data_stream)")]
        rows = db.execute(query).fetchall()
    return [c for c in columns if not c.startswith("_airbyte")], rows


def decrypt(value: str) -> str:
    raw = bytes.fromhex(value)
    decryptor = Cipher(algorithms.AES(bytes.fromhex(KEY)), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode()


@pytest.fixture
def server(server_process: ServerProcess) -> ServerProcess:
    server_process.start()
    return server_process


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "pipelines.yaml"
    path.write_text(DOCUMENT)
    return path


def test_the_documents_mapper_types_are_the_servers() -> None:
    mapper = schema()["$defs"]["mapper"]
    assert mapper["properties"]["type"]["enum"] == list(MAPPER_TYPES)


def test_apply_sync_export_and_apply_the_export_keeping_the_key(
    server: ServerProcess, doc: Path, tmp_path: Path
) -> None:
    applied = sluice(server, "apply", "-f", doc, env=ENV)
    assert applied.returncode == 0, applied.stderr
    assert KEY not in applied.stdout
    config = the_connection(server)["syncCatalog"]["streams"][0]["config"]
    assert config["fieldSelectionEnabled"] is True
    assert [f["fieldPath"] for f in config["selectedFields"]] == [["id"], ["name"], ["amount"]]
    assert [m["type"] for m in config["mappers"]] == ["field-renaming", "encryption"]
    assert config["mappers"][1]["mapperConfiguration"]["key"] == MASK

    # The sync writes what the mappers make, encrypted with the key the document gave.
    sync(server)
    columns, rows = read(server, "SELECT id, name_enc, total FROM data_stream")
    assert columns == ["id", "name_enc", "total"]
    assert len(rows) == 20 and all(decrypt(r[1]) for r in rows)
    names = {r[0]: decrypt(r[1]) for r in rows}

    # Nothing to do again: the key cannot be compared, so it is not sent on its own.
    again = sluice(server, "apply", "-f", doc, env=ENV)
    assert again.returncode == 0, again.stderr
    assert "0 to update" in again.stdout and "Nothing to do." in again.stdout
    assert "secrets cannot be compared" in again.stdout

    # Exported: the mappers as the API shows them, the key as the mask.
    out = tmp_path / "export.yaml"
    exported = sluice(server, "export", "--workspace", "Analytics", "-o", out)
    assert exported.returncode == 0, exported.stderr
    text = out.read_text()
    assert KEY not in text and KEY.upper() not in text
    assert "key: '**********'" in text and "type: field-renaming" in text
    assert "selectedFields:\n          - [id]\n          - [name]\n          - [amount]\n" in text
    same = sluice(server, "diff", "--exit-code", "-f", out)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "secrets cannot be compared" not in same.stdout  # the mask is the stored key

    # A mapper change in the export is planned line by line, applied with the mask sent back.
    out.write_text(text.replace("newFieldName: total", "newFieldName: amount_total"))
    diff = sluice(server, "diff", "--exit-code", "-f", out)
    assert diff.returncode == 1
    assert "Plan: 0 to create, 1 to update" in diff.stdout
    assert (
        'streams.data_stream.mappers[0]: field-renaming {"originalFieldName": "amount", '
        '"newFieldName": "total"} -> field-renaming {"originalFieldName": "amount", '
        '"newFieldName": "amount_total"}'
    ) in diff.stdout
    assert "mappers[1]" not in diff.stdout
    changed = sluice(server, "apply", "-f", out)
    assert changed.returncode == 0, changed.stderr
    stored = the_connection(server)["syncCatalog"]["streams"][0]["config"]["mappers"]
    assert stored[0]["mapperConfiguration"]["newFieldName"] == "amount_total"
    sync(server)
    columns, rows = read(server, "SELECT id, name_enc, amount_total FROM data_stream")
    assert columns == ["id", "name_enc", "amount_total"]
    # Still the document's key: the mask sent back kept it.
    assert {r[0]: decrypt(r[1]) for r in rows} == names


def test_a_new_key_is_sent_with_update_secrets_and_never_shown(
    server: ServerProcess, doc: Path
) -> None:
    assert sluice(server, "apply", "-f", doc, env=ENV).returncode == 0
    other = os.urandom(32).hex()
    rotated = sluice(server, "apply", "--update-secrets", "-f", doc, env={"USERS_AES_KEY": other})
    assert rotated.returncode == 0, rotated.stderr
    assert "1 to update" in rotated.stdout
    assert "streams.data_stream.mappers[1].mapperConfiguration.key: (set)" in rotated.stdout
    assert other not in rotated.stdout and KEY not in rotated.stdout

    # Another key in a change shown: the value is hidden.
    changed = DOCUMENT.replace("fieldNameSuffix: _enc", "fieldNameSuffix: _sealed")
    doc.write_text(changed)
    diff = sluice(server, "diff", "-f", doc, env=ENV)
    assert '"key": "(set)"' in diff.stdout and '"fieldNameSuffix": "_sealed"' in diff.stdout
    assert KEY not in diff.stdout


def test_document_errors_and_refusals_name_the_mapper(
    server: ServerProcess, doc: Path, tmp_path: Path
) -> None:
    missing = sluice(server, "apply", "-f", doc, env={"USERS_AES_KEY": ""})
    assert missing.returncode == 2
    line = DOCUMENT.splitlines().index("              key: ${USERS_AES_KEY}") + 1
    assert (
        f"{doc}:{line}: connections[0].streams[0].mappers[1].mapperConfiguration.key: "
        "environment variable USERS_AES_KEY is not set"
    ) in missing.stderr

    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(DOCUMENT.replace("type: field-renaming", "type: field-shuffling"))
    result = sluice(server, "diff", "-f", unknown, env=ENV)
    assert result.returncode == 2
    assert "connections[0].streams[0].mappers[0].type: 'field-shuffling' is not one of" in (
        result.stderr
    )

    # The server's rules: a rename onto a field the stream has is refused, nothing after it.
    onto = tmp_path / "onto.yaml"
    onto.write_text(DOCUMENT.replace("newFieldName: total", "newFieldName: id"))
    refused = sluice(server, "apply", "-f", onto, env=ENV)
    assert refused.returncode == 1
    assert "create connection 'users-to-local'" in refused.stderr
    assert "mapper 0 (field-renaming)" in refused.stderr and "'id'" in refused.stderr
    assert KEY not in refused.stderr


def test_hashed_fields_export_as_hashing_mappers(server: ServerProcess, doc: Path) -> None:
    """A connection made through the API with Airbyte's deprecated hashedFields exports them
    as the hashing mappers they are; applying that export changes nothing."""
    assert sluice(server, "apply", "-f", doc, env=ENV).returncode == 0
    conn = the_connection(server)
    catalog = conn["syncCatalog"]
    catalog["streams"][0]["config"]["hashedFields"] = [{"fieldPath": ["id"]}]
    catalog["streams"][0]["config"]["mappers"] = catalog["streams"][0]["config"]["mappers"][1:]
    api(
        server, "connections/update", {"connectionId": conn["connectionId"], "syncCatalog": catalog}
    )
    exported = sluice(server, "export", "--workspace", "Analytics")
    assert exported.returncode == 0, exported.stderr
    assert "targetField: id" in exported.stdout and "fieldNameSuffix: _hashed" in exported.stdout
    path = doc.with_name("exported.yaml")
    path.write_text(exported.stdout)
    same = sluice(server, "apply", "-f", path)
    assert same.returncode == 0, same.stderr
    assert "0 to update" in same.stdout
    config = the_connection(server)["syncCatalog"]["streams"][0]["config"]
    assert config["hashedFields"] == [{"fieldPath": ["id"]}]
    assert json.dumps(config).count('"hashing"') == 0
