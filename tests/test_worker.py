"""The job queue's rules (store level, on a real SQLite database) and the worker running real
connectors: claims, attempts, retries with backoff, concurrency, cancel, and leftovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from sqlite_utils import Database

from server.app import create_app
from server.core import jobs as core_jobs
from server.jobs.plan import secrets_of
from server.protocol import ConnectorSpecification
from server.runner.cache_keys import spec_key
from server.runner.images import connector_image
from server.runner.processes import kill_process_groups, process_identity
from server.store import jobs
from server.store.connector_cache import put_spec
from server.store.definitions import get_destination_definition
from tests.conftest import post, running
from tests.connector_fixtures import FIXTURES, custom_definition
from tests.support.api_jobs import (
    e2e_connection,
    fast_settings,
    make_connection,
    make_destination,
    make_source,
    ok,
    wait_job,
)
from tests.support.postgres import current_database_url
from tests.support.processes import processes_mentioning


def test_attempt_secrets_come_from_the_cached_spec_or_else_by_name(db: Database) -> None:
    postgres = get_destination_definition(db, "25c5221d-dce2-4163-ade9-739ef790f503")
    config = {"host": "db.internal", "username": "sluice", "password": "pw-123456"}
    # No spec cached yet: values under secret-looking names are kept out of the log.
    assert secrets_of(db, postgres, config) == ["pw-123456"]
    # With the connector's spec cached, its airbyte_secret marks decide.
    spec = ConnectorSpecification(
        connectionSpecification={
            "type": "object",
            "properties": {"host": {"type": "string", "airbyte_secret": True}},
        }
    )
    put_spec(db, spec_key(connector_image(postgres, "get_spec")), spec)
    assert secrets_of(db, postgres, config) == ["db.internal"]


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


async def test_an_unexpected_error_while_planning_is_a_retryable_system_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in planning (here a fault injection) is the platform's fault, not the user's
    configuration: logged with its traceback, the attempt fails as a retryable system error
    and the job is retried."""
    from server.jobs import worker as worker_module
    from server.jobs.worker import Worker, _Running
    from server.runner import Runners
    from server.runner.process import ProcessRunner
    from server.settings import Settings
    from server.store.db import Store, open_db
    from tests.support.jobs import NOW, add_connection

    def fault_injection(*args: object) -> None:
        raise RuntimeError("fault injection: planning failed")

    monkeypatch.setattr(worker_module, "build_plan", fault_injection)
    settings = Settings(
        data_dir=str(tmp_path / "data"), sync_max_attempts=3, database_url=current_database_url()
    )
    store = Store(open_db(settings.database, key_dir=settings.data_path))
    try:
        connection = await store.write(add_connection)
        job_id = await store.write(core_jobs.create_sync_job, connection, NOW)
        worker = Worker(store, settings, Runners(ProcessRunner()), lambda: NOW)
        claim = await store.write(jobs.claim_job, NOW)
        assert claim is not None
        await worker._run_job(claim, _Running(job_id))
        job = await store.read(jobs.get_job, job_id)
        [attempt] = (await store.read(jobs.list_attempts, [job_id]))[job_id]
    finally:
        store.close()
    assert job.status == "incomplete"  # retried, not failed for good
    assert attempt.failure_summary is not None
    [reason] = attempt.failure_summary.failures
    assert (reason.failure_type, reason.retryable) == ("system_error", True)
    assert "fault injection: planning failed" in reason.external_message
    assert reason.stacktrace is not None and "RuntimeError" in reason.stacktrace
    assert any(r.exc_info and "fault injection" in str(r.exc_info[1]) for r in caplog.records)
