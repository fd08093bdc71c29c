"""The job queue's rules (store level, on a real SQLite database) and the worker running real
connectors: claims, attempts, retries with backoff, concurrency, cancel, and leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlite_utils import Database

from server.app import create_app
from server.runner.processes import kill_process_groups, process_identity
from server.errors import Conflict
from server.protocol import ConnectorSpecification
from server.runner.images import connector_image
from server.store import jobs, recovery, state
from server.store.connector_cache import put_spec, spec_key
from server.store.definitions import get_destination_definition
from server.worker import _secrets
from tests.conftest import post, running
from tests.connector_fixtures import FIXTURES, custom_definition
from tests.test_api_jobs import (
    e2e_connection,
    fast_settings,
    make_connection,
    make_destination,
    make_source,
    ok,
    wait_job,
)
from tests.test_sync_e2e import processes_mentioning

NOW = 1_700_000_000


def add_connection(db: Database, streams: tuple[str, ...] = ("users",)) -> str:
    """A connection row with just what the job store reads (its status and syncCatalog)."""
    workspace = db.execute("SELECT id FROM workspaces").fetchone()[0]
    source, destination, connection = (str(uuid.uuid4()) for _ in range(3))
    for table, id in (("sources", source), ("destinations", destination)):
        db.execute(
            f"INSERT INTO {table} (id, workspace_id, definition_id, created_at, data) "
            "VALUES (?, ?, 'd', 0, '{}')",
            [id, workspace],
        )
    catalog = {"streams": [{"stream": {"name": s}, "config": {"selected": True}} for s in streams]}
    db.execute(
        "INSERT INTO connections (id, workspace_id, source_id, destination_id, status, "
        "created_at, data) VALUES (?, ?, ?, ?, 'active', 0, ?)",
        [connection, workspace, source, destination, json.dumps({"syncCatalog": catalog})],
    )
    return connection


def fail(db: Database, claim: jobs.Claim, committed: int = 0, now: int = NOW) -> str | None:
    return jobs.end_attempt(
        db,
        claim.job.id,
        claim.attempt_number,
        succeeded=False,
        cancelled=False,
        stats=jobs.Stats(records_emitted=committed, records_committed=committed),
        failures=[{"failureOrigin": "source", "externalMessage": "boom", "timestamp": 1}],
        now=now,
        max_attempts=3,
        backoff_seconds=10,
    )


def test_claim_reuses_the_first_attempt_and_retries_get_new_ones(db: Database) -> None:
    connection = add_connection(db)
    job_id = jobs.create_sync_job(db, connection, NOW)
    assert [a.status for a in jobs.list_attempts(db, [job_id])[job_id]] == ["running"]
    claim = jobs.claim_job(db, NOW)
    assert claim is not None and claim.job.id == job_id and claim.attempt_number == 0
    assert jobs.get_job(db, job_id).status == "running"
    assert jobs.claim_job(db, NOW) is None  # nothing else is due
    assert fail(db, claim) == "incomplete"
    job = jobs.get_job(db, job_id)
    assert job.next_attempt_at == NOW + 10  # the first retry waits the base backoff
    assert jobs.claim_job(db, NOW + 9) is None
    retry = jobs.claim_job(db, NOW + 10)
    assert retry is not None and retry.attempt_number == 1
    assert retry.log_path == f"jobs/{job_id}/attempt-1.log"
    assert fail(db, retry, now=NOW + 20) == "incomplete"
    assert jobs.get_job(db, job_id).next_attempt_at == NOW + 20 + 30
    last = jobs.claim_job(db, NOW + 50)
    assert last is not None and last.attempt_number == 2
    assert fail(db, last, now=NOW + 60) == "failed"  # three attempts used
    statuses = [a.status for a in jobs.list_attempts(db, [job_id])[job_id]]
    assert statuses == ["failed", "failed", "failed"]
    assert jobs.get_job(db, job_id).started_at == NOW


def test_backoff_triples_and_resets_after_an_attempt_that_committed_data() -> None:
    def attempt(status: str, committed: int = 0) -> jobs.Attempt:
        return jobs.Attempt(
            1, 0, status, 0, 0, None, 0, 0, committed, 0, 0, None, None, [], None, ""
        )

    failed, progressed = attempt("failed"), attempt("failed", committed=5)
    assert [jobs.retry_delay([failed] * n, 10) for n in (1, 2, 3, 4)] == [10, 30, 90, 270]
    assert jobs.retry_delay([failed, failed, progressed], 10) == 0
    assert jobs.retry_delay([progressed, failed], 10) == 10
    assert jobs.retry_delay([failed] * 12, 10) == 3600  # capped
    assert jobs.retry_delay([attempt("succeeded")], 10) == 0


def test_one_active_job_per_connection_is_a_database_rule(db: Database) -> None:
    connection = add_connection(db)
    first = jobs.create_sync_job(db, connection, NOW)
    with pytest.raises(Conflict, match="A sync is already running"):
        jobs.create_sync_job(db, connection, NOW)
    # Even a writer that skips the check cannot queue a second one.
    with pytest.raises(Exception, match="UNIQUE"):
        db.execute(
            "INSERT INTO jobs (config_type, config_id, status, created_at, updated_at) "
            "VALUES ('sync', ?, 'pending', 0, 0)",
            [connection],
        )
    claim = jobs.claim_job(db, NOW)
    assert claim is not None
    jobs.end_attempt(
        db,
        first,
        0,
        succeeded=True,
        cancelled=False,
        stats=jobs.Stats(),
        failures=[],
        now=NOW,
        max_attempts=3,
        backoff_seconds=0,
    )
    assert jobs.create_sync_job(db, connection, NOW + 1) > first


def test_recovery_fails_orphans_and_leaves_waiting_jobs_alone(db: Database) -> None:
    orphan_connection, waiting_connection = add_connection(db), add_connection(db)
    orphan = jobs.create_sync_job(db, orphan_connection, NOW)
    claim = jobs.claim_job(db, NOW)
    assert claim is not None and claim.job.id == orphan
    jobs.save_progress(db, orphan, 0, jobs.Stats(records_emitted=7, records_committed=5), NOW)
    state.set_state(db, orphan_connection, [{"type": "LEGACY", "data": {"at": 5}}], NOW)
    waiting = jobs.create_sync_job(db, waiting_connection, NOW)

    assert [a.job_id for a in recovery.orphaned_attempts(db)] == [orphan]
    reason = {"failureOrigin": "airbyte_platform", "externalMessage": "stopped", "timestamp": 1}
    ended = recovery.fail_orphans(db, reason, NOW + 5, max_attempts=3, backoff_seconds=10)
    assert ended == [(orphan, "incomplete")]
    job = jobs.get_job(db, orphan)
    # The attempt committed data, so the retry is due at once.
    assert job.status == "incomplete" and job.next_attempt_at == NOW + 5
    [attempt] = jobs.list_attempts(db, [orphan])[orphan]
    assert attempt.status == "failed" and attempt.records_committed == 5
    assert attempt.failure_summary == {"failures": [reason], "partialSuccess": True}
    assert jobs.get_job(db, waiting).status == "pending"
    assert state.get_state(db, orphan_connection) == [{"type": "LEGACY", "data": {"at": 5}}]
    assert recovery.orphaned_attempts(db) == []
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'running'").fetchone()[0] == 0


def test_reset_state_of_some_streams() -> None:
    messages: list[dict[str, Any]] = [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"c": 1}},
        },
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "b"}, "stream_state": {"c": 2}},
        },
    ]
    assert state.without_streams(messages, [{"name": "a"}]) == messages[1:]
    shared = {
        "type": "GLOBAL",
        "global": {
            "shared_state": {"lsn": 9},
            "stream_states": [
                {"stream_descriptor": {"name": "a"}, "stream_state": {}},
                {"stream_descriptor": {"name": "b", "namespace": "s"}, "stream_state": {}},
            ],
        },
    }
    kept = state.without_streams([shared], [{"name": "a"}])
    assert kept[0]["global"]["shared_state"] == {"lsn": 9}
    assert [s["stream_descriptor"]["name"] for s in kept[0]["global"]["stream_states"]] == ["b"]
    assert state.without_streams([shared], [{"name": "a"}, {"name": "b", "namespace": "s"}]) == []
    assert state.without_streams([{"type": "LEGACY", "data": {}}], [{"name": "a"}]) == []


def test_attempt_secrets_come_from_the_cached_spec_or_else_by_name(db: Database) -> None:
    postgres = get_destination_definition(db, "25c5221d-dce2-4163-ade9-739ef790f503")
    config = {"host": "db.internal", "username": "sluice", "password": "pw-123456"}
    # No spec cached yet: values under secret-looking names are kept out of the log.
    assert _secrets(db, postgres, config) == ["pw-123456"]
    # With the connector's spec cached, its airbyte_secret marks decide.
    spec = ConnectorSpecification(
        connectionSpecification={
            "type": "object",
            "properties": {"host": {"type": "string", "airbyte_secret": True}},
        }
    )
    put_spec(db, spec_key(connector_image(postgres, "get_spec")), spec)
    assert _secrets(db, postgres, config) == ["db.internal"]


def test_leftover_process_groups_are_killed_and_only_ours(tmp_path: Path) -> None:
    """A connector and its helper process, in their own session, outlive a killed server."""
    script = "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)"
    leader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(group_members(leader.pid)) < 2:
            assert time.monotonic() < deadline, "the helper process did not start"
            time.sleep(0.05)
        identity = process_identity(leader.pid)
        # A recorded start later than the process's own means another process: untouched.
        assert kill_process_groups([{**identity, "start": identity["start"] + 10**6}]) == 0
        assert leader.poll() is None
        assert kill_process_groups([identity]) == 2
        leader.wait(timeout=10)
        deadline = time.monotonic() + 10
        while group_members(leader.pid):
            assert time.monotonic() < deadline, "the helper process survived"
            time.sleep(0.05)
    finally:
        if leader.poll() is None:
            os.killpg(leader.pid, signal.SIGKILL)
            leader.wait()


def group_members(group: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            fields = text[text.rfind(")") + 2 :].split()
            if int(fields[2]) == group and fields[0] != "Z":
                found.append(int(entry.name))
    return found


# --- the worker with real connectors --------------------------------------------------------


@pytest.mark.slow
async def test_jobs_beyond_the_concurrency_limit_wait_as_pending(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, max_concurrent_syncs=1)
    async with running(create_app(settings)) as client:
        slow = await e2e_connection(client, {"max_messages": 40, "message_interval_ms": 50})
        quick = await e2e_connection(client, {"max_messages": 5})
        first = (await ok(client, "connections/sync", {"connectionId": slow}))["job"]["id"]
        await wait_job(client, first, until=("running",))
        second = (await ok(client, "connections/sync", {"connectionId": quick}))["job"]["id"]
        await anyio.sleep(0.5)
        assert (await ok(client, "jobs/get", {"id": second}))["job"]["status"] == "pending"
        assert (await wait_job(client, first))["job"]["status"] == "succeeded"
        assert (await wait_job(client, second))["job"]["status"] == "succeeded"


@pytest.mark.slow
async def test_progress_is_visible_while_the_attempt_runs(tmp_path: Path) -> None:
    async with running(create_app(fast_settings(tmp_path))) as client:
        connection = await e2e_connection(
            client, {"max_messages": 60, "message_interval_ms": 50, "state_checkpoint_interval": 5}
        )
        job_id = (await ok(client, "connections/sync", {"connectionId": connection}))["job"]["id"]
        deadline = time.monotonic() + 60
        while True:
            info = await ok(client, "jobs/get", {"id": job_id})
            attempt = info["attempts"][-1]["attempt"]
            if info["job"]["status"] == "running" and 0 < attempt["recordsSynced"] < 60:
                break
            assert info["job"]["status"] != "succeeded", "never saw the attempt in progress"
            assert time.monotonic() < deadline
            await anyio.sleep(0.2)
        summary = await ok(client, "web_backend/connections/get", {"connectionId": connection})
        assert summary["isSyncing"] is True and summary["latestSyncJobStatus"] == "running"
        done = await wait_job(client, job_id)
        assert done["job"]["status"] == "succeeded"
        summary = await ok(client, "web_backend/connections/get", {"connectionId": connection})
        assert summary["isSyncing"] is False and summary["latestSyncJobStatus"] == "succeeded"
        assert summary["latestSyncJobCreatedAt"] == done["job"]["createdAt"]


@pytest.mark.slow
async def test_failed_attempts_are_retried_after_a_backoff_then_the_job_fails(
    tmp_path: Path,
) -> None:
    settings = fast_settings(tmp_path, sync_max_attempts=3, sync_retry_backoff_seconds=1.0)
    async with running(create_app(settings)) as client:
        connection = await e2e_connection(
            client, {"max_messages": 10, "fault": {"mode": "fail", "after_records": 0}}
        )
        job_id = (await ok(client, "connections/sync", {"connectionId": connection}))["job"]["id"]
        between = await wait_job(client, job_id, until=("incomplete", "failed"))
        assert between["job"]["status"] == "incomplete"  # waiting for its retry
        assert [a["attempt"]["status"] for a in between["attempts"]] == ["failed"]
        info = await wait_job(client, job_id)
        assert info["job"]["status"] == "failed"
        attempts = [a["attempt"] for a in info["attempts"]]
        assert [a["id"] for a in attempts] == [0, 1, 2]
        assert all(a["status"] == "failed" and a["failureSummary"]["failures"] for a in attempts)
        # 1 s, then 3 s between the attempts (the backoff triples).
        assert attempts[2]["createdAt"] - attempts[1]["endedAt"] >= 2
        origins = {f["failureOrigin"] for a in attempts for f in a["failureSummary"]["failures"]}
        assert "source" in origins


async def test_deleting_the_connection_stops_its_running_sync(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    async with running(create_app(settings)) as client:
        connection = await e2e_connection(
            client,
            {"max_messages": 1000, "message_interval_ms": 20, "state_checkpoint_interval": 5},
        )
        job_id = (await ok(client, "connections/sync", {"connectionId": connection}))["job"]["id"]
        await wait_job(client, job_id, until=("running",))
        job_files = settings.data_path / "jobs" / str(job_id)
        deadline = time.monotonic() + 30
        while not processes_mentioning(str(job_files)):
            assert time.monotonic() < deadline, "the connectors never started"
            await anyio.sleep(0.1)
        r = await post(client, "connections/delete", {"connectionId": connection})
        assert r.status_code == 204
        deadline = time.monotonic() + 20
        while processes_mentioning(str(job_files)) or job_files.exists():
            assert time.monotonic() < deadline, "the deleted connection's sync kept running"
            await anyio.sleep(0.1)
        assert (await post(client, "jobs/get", {"id": job_id})).status_code == 404
        # The worker is free for other work.
        other = await e2e_connection(client)
        info = await wait_job(
            client, (await ok(client, "connections/sync", {"connectionId": other}))["job"]["id"]
        )
        assert info["job"]["status"] == "succeeded"


async def test_a_destination_that_confirms_no_state_warns_in_the_job(tmp_path: Path) -> None:
    """It took the records and exited 0, but echoed none of the states: the job succeeds
    and says, in the attempt's failureSummary and its log, that no state was saved."""
    settings = fast_settings(tmp_path, connector_path=str(FIXTURES))
    async with running(create_app(settings)) as client:
        never = await custom_definition(
            client, "destination", "Never echoes", command=["relay_destination.py"]
        )
        source = await make_source(client, {"max_messages": 50, "state_checkpoint_interval": 10})
        destination = await make_destination(client, never, {"mode": "never"})
        connection = await make_connection(client, source, destination, "incremental", "append")
        job_id = (await ok(client, "connections/sync", {"connectionId": connection}))["job"]["id"]
        info = await wait_job(client, job_id)
        assert info["job"]["status"] == "succeeded"
        attempt = info["attempts"][-1]["attempt"]
        assert attempt["status"] == "succeeded"
        assert attempt["totalStats"]["stateMessagesEmitted"] == 5
        [warning] = attempt["failureSummary"]["failures"]
        assert warning["failureOrigin"] == "destination"
        assert warning["retryable"] is False
        message = warning["externalMessage"]
        assert "confirmed none of the 5 states" in message
        assert "the next incremental sync starts over" in message
        lines = info["attempts"][-1]["logs"]["logLines"]
        assert any(" WARN " in line and "confirmed none of the 5 states" in line for line in lines)
        assert any("succeeded with a warning" in line for line in lines)
        state = await ok(client, "state/get", {"connectionId": connection})
        assert state["stateType"] == "not_set"
        # A destination that does confirm gets no such summary.
        echoes = await make_destination(client, never, {"mode": "gate", "gate_path": "/"})
        again = await make_connection(client, source, echoes, "incremental", "append")
        job_id = (await ok(client, "connections/sync", {"connectionId": again}))["job"]["id"]
        attempt = (await wait_job(client, job_id))["attempts"][-1]["attempt"]
        assert attempt["status"] == "succeeded" and attempt.get("failureSummary") is None
