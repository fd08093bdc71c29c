"""`sluice connections`, `sync`, `jobs`, `logs` and `cancel` as a user runs them: `python -m
server ...` against a real `sluice serve`, with Sluice's own e2e-test source into dev-null;
`sync --wait` also in a pseudo-terminal, where it draws its live progress display."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.remote.logs import new_lines
from tests.support.serving import ServerProcess

pytestmark = [pytest.mark.serve, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"
SILENT = {"test_destination": {"test_destination_type": "SILENT"}}
# Two streams of 40 records, one every 50 ms: a sync of about 4 s, long enough to watch.
TWO_STREAMS = {
    "max_messages": 40,
    "message_interval_ms": 50,
    "mock_catalog": {
        "type": "MULTI_STREAM",
        "stream_schemas": json.dumps(
            {
                n: {"type": "object", "properties": {"id": {"type": "integer"}}}
                for n in ("users", "orders")
            }
        ),
    },
}
FAILING = {"max_messages": 10, "fault": {"mode": "fail", "after_records": 3}}
ENDLESS = {"max_messages": 100_000, "message_interval_ms": 20}
Json = dict[str, Any]


class Api:
    """The server, as the tests set it up and check it (the commands under test are not used)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(
            base_url=f"{server.url}/api/v1", auth=("airbyte", "password"), timeout=60
        )
        self.workspace = self.call("workspaces/list")["workspaces"][0]["workspaceId"]

    def call(self, path: str, body: Json | None = None) -> Json:
        r = self.http.post(path, json=body or {})
        assert r.is_success, f"{path}: {r.status_code} {r.text}"
        return r.json() if r.content else {}  # type: ignore[no-any-return]

    def connection(self, config: Json) -> tuple[str, str]:
        """A new connection (a unique name) of an e2e-test source into dev-null: name, id."""
        name = f"c-{uuid.uuid4().hex[:8]}"
        common = {"workspaceId": self.workspace, "name": name}
        source = self.call(
            "sources/create",
            {**common, "sourceDefinitionId": E2E, "connectionConfiguration": config},
        )["sourceId"]
        destination = self.call(
            "destinations/create",
            {**common, "destinationDefinitionId": DEV_NULL, "connectionConfiguration": SILENT},
        )["destinationId"]
        catalog = self.call("sources/discover_schema", {"sourceId": source})["catalog"]
        for stream in catalog["streams"]:
            stream["config"]["selected"] = True
        body = {"name": name, "sourceId": source, "destinationId": destination}
        made = self.call("connections/create", {**body, "status": "active", "syncCatalog": catalog})
        return name, made["connectionId"]

    def jobs(self, connection_id: str) -> list[Json]:
        return self.call("jobs/list", {"configId": connection_id})["jobs"]  # type: ignore[no-any-return]

    def wait(self, job_id: int, until: tuple[str, ...], timeout: float = 60) -> Json:
        deadline = time.monotonic() + timeout
        while True:
            job = self.call("jobs/get", {"id": job_id})["job"]
            if job["status"] in until:
                return job  # type: ignore[no-any-return]
            assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    server = ServerProcess(tmp_path_factory.mktemp("cli") / "data")
    try:
        server.start()
        api = Api(server)
        yield api
        api.http.close()
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill(signal.SIGKILL)


def env_for(api: Api, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    return {**env, "SLUICE_URL": api.server.url, **extra}


def sluice(api: Api, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env=env_for(api, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(out: str) -> list[list[str]]:
    """A table as printed for a script: tab-separated, a header first."""
    return [line.split("\t") for line in out.splitlines()]


def in_terminal(api: Api, *args: str, timeout: float = 90) -> tuple[int, str]:
    """The command in a pseudo-terminal: its exit code and everything it drew."""
    env = env_for(api, TERM="xterm-256color", COLUMNS="120", LINES="40")
    controller, terminal = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's other side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    return code, b"".join(chunks).decode(errors="replace")


def test_connections_are_listed_for_scripts(api: Api) -> None:
    name, connection_id = api.connection({"max_messages": 5})
    done = sluice(api, "connections")
    assert done.returncode == 0, done.stderr
    table = rows(done.stdout)
    assert table[0] == ["name", "id", "source -> destination", "status", "schedule", "last job"]
    assert [name, connection_id, f"{name} -> {name}", "active", "manual", "-"] in table[1:]

    assert sluice(api, "sync", name, "--wait").returncode == 0
    mine = [
        r
        for r in rows(sluice(api, "connections", "--workspace", "Default Workspace").stdout)
        if r[0] == name
    ]
    assert mine and mine[0][5] == "succeeded"
    # A workspace that does not exist is a usage error.
    missing = sluice(api, "connections", "--workspace", "nowhere")
    assert missing.returncode == 2 and "no workspace named 'nowhere'" in missing.stderr


def test_sync_wait_in_a_terminal_shows_progress_and_exits_0(api: Api) -> None:
    name, connection_id = api.connection(TWO_STREAMS)
    code, drawn = in_terminal(api, "sync", name, "--wait")
    assert code == 0, drawn
    (job,) = api.jobs(connection_id)
    assert job["job"]["status"] == "succeeded"
    job_id = job["job"]["id"]
    # The live display: redrawn in place (cursor up), with running totals, a rate, the elapsed
    # time and a row per stream, before the summary line.
    assert "\x1b[1A" in drawn
    assert f"job {job_id}" in drawn and "running" in drawn
    assert "records/s" in drawn and "elapsed" in drawn
    assert "users" in drawn and "orders" in drawn
    assert f"job {job_id} succeeded: 80 records read, 80 committed" in drawn
    partial = [int(n) for n in re.findall(r"(\d+) records read", drawn)]
    assert any(0 < n < 80 for n in partial), "no frame showed the sync part-way"


def test_sync_wait_of_a_failing_source_exits_1(api: Api) -> None:
    name, connection_id = api.connection(FAILING)
    code, drawn = in_terminal(api, "sync", connection_id, "--wait")  # by id this time
    assert code == 1, drawn
    (job,) = api.jobs(connection_id)
    assert job["job"]["status"] == "failed"
    assert f"job {job['job']['id']} failed" in drawn
    assert "fault injection" in drawn  # the failure reason, from the server

    # Without a terminal: only the start and the summary lines, for a log file.
    done = sluice(api, "sync", name, "--wait")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and lines[1].startswith("job ") and " failed: " in lines[1]
    assert "\x1b" not in done.stdout

    everything = sluice(api, "logs", str(job["job"]["id"]), "--all")
    assert everything.returncode == 0
    headers = [x for x in everything.stdout.splitlines() if x.startswith("--- attempt")]
    assert headers == [f"--- attempt {n} (failed) ---" for n in (1, 2, 3)]
    last = sluice(api, "logs", str(job["job"]["id"])).stdout
    assert "Starting attempt 3 of at most 3" in last and "Starting attempt 1 " not in last


def test_cancel_ends_a_waiting_sync_with_exit_3(api: Api) -> None:
    name, connection_id = api.connection(ENDLESS)
    waiting = subprocess.Popen(
        [sys.executable, "-m", "server", "sync", name, "--wait"],
        cwd=ROOT,
        env=env_for(api),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not api.jobs(connection_id):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        job_id = api.jobs(connection_id)[0]["job"]["id"]
        api.wait(job_id, ("running",))
        done = sluice(api, "cancel", str(job_id))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"job {job_id} ")
        out, err = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 3, out + err
    assert f"job {job_id} cancelled" in out
    assert api.wait(job_id, ("cancelled",))["status"] == "cancelled"
    # An ended job cannot be cancelled: the server's reason, and a usage error.
    again = sluice(api, "cancel", str(job_id))
    assert again.returncode == 2 and "already ended" in again.stderr


def test_logs_follow_prints_each_line_once_and_ends_with_the_job(api: Api) -> None:
    name, connection_id = api.connection(TWO_STREAMS)
    started = sluice(api, "sync", name)
    assert started.returncode == 0, started.stderr
    (job,) = api.jobs(connection_id)
    job_id = job["job"]["id"]
    assert started.stdout.startswith(f"job {job_id} started ({name})")
    began = time.monotonic()
    followed = sluice(api, "logs", str(job_id), "--follow")
    assert followed.returncode == 0, followed.stderr
    assert time.monotonic() - began > 2  # it waited for the sync of about 4 s
    assert api.wait(job_id, ("succeeded",), timeout=1)["status"] == "succeeded"
    lines = followed.stdout.splitlines()
    assert any("Sync attempt succeeded" in line for line in lines)
    assert lines[-1].endswith("job is now succeeded")
    # The same lines as the whole log read afterwards: none missed, none twice.
    assert lines == sluice(api, "logs", str(job_id)).stdout.splitlines()


def test_jobs_are_listed_with_their_counts(api: Api) -> None:
    name, connection_id = api.connection({"max_messages": 25})
    assert sluice(api, "sync", name, "--wait").returncode == 0
    assert sluice(api, "sync", name, "--wait").returncode == 0
    ids = [j["job"]["id"] for j in api.jobs(connection_id)]
    done = sluice(api, "jobs", name)
    assert done.returncode == 0, done.stderr
    table = rows(done.stdout)
    assert table[0] == ["id", "type", "status", "started", "duration", "records", "bytes"]
    assert [int(r[0]) for r in table[1:]] == sorted(ids, reverse=True)  # newest first
    for row in table[1:]:
        assert row[1:3] == ["sync", "succeeded"] and row[5] == "25" and int(row[6]) > 0
        assert row[3].endswith("Z") and float(row[4]) >= 0
    everyone = rows(sluice(api, "jobs", "--limit", "100").stdout)
    assert everyone[0][0] == "connection"
    assert {int(r[1]) for r in everyone[1:] if r[0] == name} == set(ids)


def test_bad_input_and_an_unreachable_server_have_their_exit_codes(api: Api) -> None:
    unknown = sluice(api, "sync", "no-such-connection")
    assert unknown.returncode == 2
    assert "no connection named 'no-such-connection'" in unknown.stderr
    assert sluice(api, "logs", "not-a-number").returncode == 2
    missing = sluice(api, "logs", "987654")
    assert missing.returncode == 2 and missing.stderr.startswith("sluice: ")
    wrong = sluice(api, "jobs", "--username", "airbyte", "--password", "wrong")
    assert wrong.returncode == 4 and "Authentication" in wrong.stderr
    down = subprocess.run(
        [sys.executable, "-m", "server", "connections", "--server", "http://127.0.0.1:9"],
        cwd=ROOT,
        env=env_for(api),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 4 and "cannot reach the server" in down.stderr
    assert "exit codes:" in sluice(api, "sync", "--help").stdout


def test_a_sliding_log_window_gives_only_the_new_lines() -> None:
    assert new_lines([], ["a", "b"]) == ["a", "b"]
    assert new_lines(["a", "b"], ["a", "b", "c"]) == ["c"]
    # The server's window of the last lines moved on by two.
    assert new_lines(["a", "b", "c"], ["c", "d", "e"]) == ["d", "e"]
    assert new_lines(["a", "b"], ["x", "y"]) == ["x", "y"]
