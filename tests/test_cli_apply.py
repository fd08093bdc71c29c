"""`sluice apply`, `diff` and `export` against a real server (uvicorn), with Sluice's own
connectors: plans, idempotence, prune, export round trips, document errors and secrets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_AUTH
from tests.support.cli import sluice
from tests.support.serving import ROOT, ServerProcess

pytestmark = pytest.mark.serve

SECRET = "hunter2-not-in-any-file"
ENV = {"WAREHOUSE_PASSWORD": SECRET}

DOCUMENT = """\
workspaces:
  - name: Analytics
sources:
  - name: Users
    workspace: Analytics
    definition: E2E Testing
    configuration:
      max_messages: 50
      seed: 7
destinations:
  - name: Blackhole
    workspace: Analytics
    definition: End-to-End Testing (/dev/null)
    configuration:
      test_destination:
        test_destination_type: SILENT
  - name: Warehouse
    workspace: Analytics
    definition: Postgres
    configuration:
      host: db.internal
      port: 5432
      database: dw
      schema: public
      username: loader
      password: ${WAREHOUSE_PASSWORD}
connections:
  - name: users-to-null
    workspace: Analytics
    source: Users
    destination: Blackhole
    schedule: {type: basic, units: 24, timeUnit: hours}
    streams:
      - name: data_stream
        syncMode: incremental
        destinationSyncMode: append
  - name: users-to-warehouse
    workspace: Analytics
    source: Users
    destination: Warehouse
    status: inactive
    streams:
      - name: data_stream
        selectedFields: [[id], [name]]
"""


def api(server: ServerProcess, path: str, body: dict[str, object]) -> dict[str, object]:
    r = httpx.post(f"{server.url}/api/v1/{path}", json=body, auth=ADMIN_AUTH, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def workspace_id(server: ServerProcess, name: str) -> str:
    listed = api(server, "workspaces/list", {})["workspaces"]
    return next(str(w["workspaceId"]) for w in listed if w["name"] == name)  # type: ignore[index,union-attr]


def connections(server: ServerProcess) -> dict[str, dict[str, object]]:
    listed = api(server, "connections/list", {"workspaceId": workspace_id(server, "Analytics")})
    return {c["name"]: c for c in listed["connections"]}  # type: ignore[attr-defined]


@pytest.fixture
def server(server_process: ServerProcess) -> ServerProcess:
    server_process.start()
    return server_process


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "pipelines" / "analytics.yaml"
    path.parent.mkdir()
    path.write_text(DOCUMENT)
    return path


def test_apply_creates_in_order_and_a_second_apply_plans_nothing(
    server: ServerProcess, doc: Path
) -> None:
    diff = sluice(server, "diff", "-f", doc.parent, env=ENV)
    assert diff.returncode == 0, diff.stderr
    assert "Plan: 6 to create, 0 to update, 0 to delete, 0 unchanged." in diff.stdout
    assert "configuration.password: (set)" in diff.stdout
    assert SECRET not in diff.stdout
    # Nothing is created by a diff.
    names = [w["name"] for w in api(server, "workspaces/list", {})["workspaces"]]  # type: ignore[index]
    assert "Analytics" not in names

    applied = sluice(server, "apply", "-f", doc, env=ENV)
    assert applied.returncode == 0, applied.stderr
    lines = [line.strip() for line in applied.stdout.splitlines() if line.startswith("  created")]
    assert [line.split(" ")[1] for line in lines] == [
        "workspace",
        "source",
        "destination",
        "destination",
        "connection",
        "connection",
    ]
    conns = connections(server)
    assert conns["users-to-null"]["scheduleType"] == "basic"
    assert conns["users-to-warehouse"]["status"] == "inactive"
    stream = conns["users-to-null"]["syncCatalog"]["streams"][0]["config"]  # type: ignore[index]
    assert (stream["syncMode"], stream["destinationSyncMode"]) == ("incremental", "append")
    fields = conns["users-to-warehouse"]["syncCatalog"]["streams"][0]["config"]  # type: ignore[index]
    assert fields["selectedFields"] == [{"fieldPath": ["id"]}, {"fieldPath": ["name"]}]

    again = sluice(server, "apply", "-f", doc, env=ENV)
    assert again.returncode == 0, again.stderr
    assert "Plan: 0 to create, 0 to update, 0 to delete, 6 unchanged." in again.stdout
    assert "Nothing to do." in again.stdout
    assert "secrets cannot be compared" in again.stdout
    assert sluice(server, "diff", "--exit-code", "-f", doc, env=ENV).returncode == 0


def test_a_change_is_planned_field_by_field_then_applied(server: ServerProcess, doc: Path) -> None:
    assert sluice(server, "apply", "-f", doc, env=ENV).returncode == 0
    doc.write_text(
        DOCUMENT.replace("max_messages: 50", "max_messages: 60")
        .replace("status: inactive", "status: active")
        .replace("syncMode: incremental", "syncMode: full_refresh")
    )
    diff = sluice(server, "diff", "--exit-code", "-f", doc, env=ENV)
    assert diff.returncode == 1
    assert "Plan: 0 to create, 3 to update, 0 to delete, 3 unchanged." in diff.stdout
    assert "configuration.max_messages: 50 -> 60" in diff.stdout
    assert 'status: "inactive" -> "active"' in diff.stdout
    assert 'streams.data_stream.syncMode: "incremental" -> "full_refresh"' in diff.stdout

    applied = sluice(server, "apply", "-f", doc, env=ENV)
    assert applied.returncode == 0, applied.stderr
    assert "Applied 3 change(s)." in applied.stdout
    assert connections(server)["users-to-warehouse"]["status"] == "active"
    assert "0 to update" in sluice(server, "diff", "-f", doc, env=ENV).stdout


def test_prune_deletes_what_the_document_no_longer_names(server: ServerProcess, doc: Path) -> None:
    assert sluice(server, "apply", "-f", doc, env=ENV).returncode == 0
    doc.write_text(DOCUMENT.split("  - name: users-to-warehouse")[0])  # drop one connection
    kept = sluice(server, "apply", "-f", doc, env=ENV)
    assert "0 to delete" in kept.stdout
    assert set(connections(server)) == {"users-to-null", "users-to-warehouse"}

    pruned = sluice(server, "apply", "--prune", "-f", doc, env=ENV)
    assert pruned.returncode == 0, pruned.stderr
    assert "- connection 'users-to-warehouse' (workspace 'Analytics')" in pruned.stdout
    assert set(connections(server)) == {"users-to-null"}


def test_export_round_trips_without_secrets(
    server: ServerProcess, doc: Path, tmp_path: Path
) -> None:
    assert sluice(server, "apply", "-f", doc, env=ENV).returncode == 0
    out = tmp_path / "export.yaml"
    exported = sluice(server, "export", "--workspace", "Analytics", "-o", out)
    assert exported.returncode == 0, exported.stderr
    data = out.read_bytes()
    assert SECRET.encode() not in data
    assert b"**********" not in data
    assert b"password: ${WAREHOUSE_PASSWORD}" in data

    same = sluice(server, "apply", "-f", out, env=ENV)
    assert same.returncode == 0, same.stderr
    assert "Plan: 0 to create, 0 to update, 0 to delete, 6 unchanged." in same.stdout

    fresh = ServerProcess(tmp_path / "fresh")
    fresh.start()
    try:
        created = sluice(fresh, "apply", "-f", out, env=ENV)
        assert created.returncode == 0, created.stderr
        assert "Plan: 6 to create" in created.stdout
        again = sluice(fresh, "export", "--workspace", "Analytics")
        assert again.stdout == out.read_text()
    finally:
        fresh.kill(signal.SIGTERM)


def test_document_errors_name_the_file_line_and_path(server: ServerProcess, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(DOCUMENT.replace("syncMode: incremental", "syncMode: sometimes"))
    result = sluice(server, "apply", "-f", bad, env=ENV)
    assert result.returncode == 2
    line = DOCUMENT.splitlines().index("        syncMode: incremental") + 1
    assert (
        f"{bad}:{line}: connections[0].streams[0].syncMode: 'sometimes' is not one of"
        in result.stderr
    )

    json_doc = tmp_path / "bad.json"
    json_doc.write_text('{\n  "workspaces": [\n    {"name": "A", "colour": "red"}\n  ]\n}\n')
    result = sluice(server, "diff", "-f", json_doc)
    assert result.returncode == 2
    assert f"{json_doc}:3: workspaces[0]: Additional properties are not allowed" in result.stderr


def test_a_missing_environment_variable_is_a_clear_error(server: ServerProcess, doc: Path) -> None:
    result = sluice(server, "apply", "-f", doc, env={"WAREHOUSE_PASSWORD": ""})
    assert result.returncode == 2
    line = DOCUMENT.splitlines().index("      password: ${WAREHOUSE_PASSWORD}") + 1
    assert (
        f"{doc}:{line}: destinations[1].configuration.password: "
        "environment variable WAREHOUSE_PASSWORD is not set"
    ) in result.stderr
    assert "Analytics" not in str(api(server, "workspaces/list", {}))


def test_dry_run_checks_configurations_against_the_spec(server: ServerProcess, doc: Path) -> None:
    doc.write_text(DOCUMENT.replace("max_messages: 50", "max_messages: -3"))
    result = sluice(server, "apply", "--dry-run", "-f", doc, env=ENV)
    assert result.returncode == 2
    assert "configuration.max_messages: -3 is less than the minimum of 0" in result.stderr
    doc.write_text(DOCUMENT)
    result = sluice(server, "apply", "--dry-run", "-f", doc, env=ENV)
    assert result.returncode == 0, result.stderr
    assert "nothing changed" in result.stdout
    assert "Analytics" not in str(api(server, "workspaces/list", {}))


def test_schema_ships_and_a_bad_credential_exits_4(server: ServerProcess, doc: Path) -> None:
    schema = sluice(server, "apply", "--schema")
    assert schema.returncode == 0 and '"Sluice pipelines"' in schema.stdout
    result = sluice(server, "diff", "-f", doc, env={**ENV, "SLUICE_PASSWORD": "wrong"})
    assert result.returncode == 4
    assert "wrong" not in result.stderr


def test_the_client_reads_flags_then_environment_then_its_file(tmp_path: Path) -> None:
    from server.remote.client import resolve

    file = tmp_path / "client.toml"
    file.write_text('url = "http://sluice.internal:8000"\ntoken = "tok"\n')
    env = {"SLUICE_CLIENT_CONFIG": str(file)}
    config = resolve(env=env)
    assert (config.url, config.token, config.username) == (
        "http://sluice.internal:8000",
        "tok",
        None,
    )
    assert "tok" not in repr(config)
    config = resolve(env={**env, "SLUICE_URL": "http://env:1", "SLUICE_PASSWORD": "pw"})
    assert (config.url, config.username, config.password) == ("http://env:1", "airbyte", "pw")
    config = resolve(server="http://flag:2", username="ops", password="p", env=env)
    assert (config.url, config.username, config.password) == ("http://flag:2", "ops", "p")
    default = resolve(env={"SLUICE_CLIENT_CONFIG": str(tmp_path / "none.toml")})
    assert (default.url, default.username) == ("http://127.0.0.1:8000", "airbyte")


def test_an_apply_whose_reader_goes_away_still_applies_everything(
    server: ServerProcess, doc: Path
) -> None:
    # `sluice apply -f doc | head -1`: the plan's first line is all the reader takes.
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    environ.update(ENV, SLUICE_URL=server.url)
    environ["SLUICE_CLIENT_CONFIG"] = str(server.data_dir.parent / "no-client.toml")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "apply", "-f", str(doc)],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith("Plan: 6 to create")
    proc.stdout.close()
    errors = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0, errors
    assert "Traceback" not in errors
    assert set(connections(server)) == {"users-to-null", "users-to-warehouse"}
