"""Three `sluice worker` processes and one `sluice serve --no-worker` on one PostgreSQL: syncs
spread over the workers and run once each; a worker killed mid-sync has its job finished by
another from the committed state; the scheduler fails over without running a slot twice; a
cancel sent to the API reaches the worker running the job."""

from __future__ import annotations

import json
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_AUTH
from tests.support.api_jobs import DEV_NULL, E2E_TEST, SILENT
from tests.support.cluster import LOCAL_JSON, Cluster, cluster
from tests.support.postgres import Databases
from tests.support.processes import processes_mentioning

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

Json = dict[str, Any]


@pytest.fixture
def nodes(tmp_path: Path, pg_databases: Databases) -> Iterator[Cluster]:
    with cluster(tmp_path, pg_databases.fresh(), workers=3) as started:
        yield started


def call(c: Cluster, path: str, body: Json) -> Json:
    r = httpx.post(f"{c.api_url}/api/v1/{path}", json=body, auth=ADMIN_AUTH, timeout=60)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()  # type: ignore[no-any-return]


def workspace(c: Cluster) -> str:
    return str(call(c, "workspaces/list", {})["workspaces"][0]["workspaceId"])


def source(c: Cluster, config: Json) -> str:
    body = {"workspaceId": workspace(c), "sourceDefinitionId": E2E_TEST, "name": "e2e"}
    return str(call(c, "sources/create", {**body, "connectionConfiguration": config})["sourceId"])


def destination(c: Cluster, definition: str, config: Json) -> str:
    body = {"workspaceId": workspace(c), "destinationDefinitionId": definition, "name": "d"}
    reply = call(c, "destinations/create", {**body, "connectionConfiguration": config})
    return str(reply["destinationId"])


def connections(
    c: Cluster, source_id: str, destination_id: str, count: int, mode: str, **extra: Any
) -> list[str]:
    """`count` connections between the two, the catalog discovered once (by the API node)."""
    catalog = call(c, "sources/discover_schema", {"sourceId": source_id})["catalog"]
    sync, dest = ("incremental", "append") if mode == "incremental" else ("full_refresh", mode)
    for entry in catalog["streams"]:
        entry["config"].update(selected=True, syncMode=sync, destinationSyncMode=dest)
    ids = []
    for i in range(count):
        body = {
            "sourceId": source_id,
            "destinationId": destination_id,
            "name": f"c{i}",
            "status": "active",
            "syncCatalog": catalog,
            **extra,
        }
        ids.append(str(call(c, "connections/create", body)["connectionId"]))
    return ids


def sync(c: Cluster, connection_id: str) -> int:
    return int(call(c, "connections/sync", {"connectionId": connection_id})["job"]["id"])


def wait_status(c: Cluster, job_id: int, wanted: tuple[str, ...], timeout: float = 120) -> Json:
    deadline = time.monotonic() + timeout
    while True:
        info = call(c, "jobs/get", {"id": job_id})
        if info["job"]["status"] in wanted:
            return info
        assert time.monotonic() < deadline, f"job {job_id} still {info['job']['status']}"
        time.sleep(0.2)


def test_thirty_syncs_spread_over_three_workers_each_run_once(nodes: Cluster) -> None:
    src = source(nodes, {"max_messages": 20, "message_interval_ms": 20})
    ids = connections(nodes, src, destination(nodes, DEV_NULL, SILENT), 30, "overwrite")
    jobs = [sync(nodes, connection) for connection in ids]
    for job_id in jobs:
        assert wait_status(nodes, job_id, ("succeeded", "failed", "cancelled"))["job"][
            "status"
        ] == ("succeeded")
    attempts = nodes.rows(
        "SELECT job_id, attempt_number, status, worker_id FROM attempts ORDER BY job_id"
    )
    # Exactly once: one attempt per job, succeeded, run by one of the three workers.
    assert sorted(a[0] for a in attempts) == sorted(jobs)
    assert {(a[1], a[2]) for a in attempts} == {(0, "succeeded")}
    spread = Counter(a[3] for a in attempts)
    assert set(spread) <= {"w1", "w2", "w3"} and len(spread) == 3, spread


def jsonl_ids(c: Cluster) -> list[int]:
    path = c.local_root / "out" / "_airbyte_raw_data_stream.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line)["_airbyte_data"]["id"] for line in lines]


def test_a_killed_worker_s_sync_is_finished_by_another_from_the_committed_state(
    nodes: Cluster,
) -> None:
    config = {"max_messages": 400, "message_interval_ms": 15, "state_checkpoint_interval": 10}
    dest = destination(nodes, LOCAL_JSON, {"destination_path": "/local/out"})
    (connection,) = connections(nodes, source(nodes, config), dest, 1, "incremental")
    job_id = sync(nodes, connection)
    deadline = time.monotonic() + 60
    while True:  # running, with some state committed
        rows = nodes.rows(
            "SELECT a.worker_id FROM attempts a JOIN connection_state s ON true "
            "WHERE a.job_id = %s AND a.status = 'running' AND s.connection_id = %s",
            [job_id, connection],
        )
        if rows:
            break
        assert time.monotonic() < deadline, "the sync never committed a state"
        time.sleep(0.1)
    victim = next(w for w in nodes.workers if w.name == rows[0][0])
    victim.kill(signal.SIGKILL)
    info = wait_status(nodes, job_id, ("succeeded", "failed", "cancelled"), timeout=120)
    assert info["job"]["status"] == "succeeded"
    attempts = nodes.rows(
        "SELECT attempt_number, status, worker_id, failure_summary FROM attempts "
        "WHERE job_id = %s ORDER BY attempt_number",
        [job_id],
    )
    assert [a[1] for a in attempts] == ["failed", "succeeded"]
    assert attempts[0][2] == victim.name and attempts[1][2] != victim.name
    assert "lease expired" in attempts[0][3]
    # At least once: every record arrived; those after the last committed state may twice.
    ids = jsonl_ids(nodes)
    assert set(ids) == set(range(1, 401)) and len(ids) >= 400
    # The second attempt resumed from the committed state, not from the start.
    assert len(ids) < 800
    # The victim's attempt recorded its connector processes; when it comes back, it removes
    # what is left of them (they ran on its machine) and forgets them.
    (recorded,) = nodes.rows(
        "SELECT processes FROM attempts WHERE job_id = %s AND attempt_number = 0", [job_id]
    )[0]
    assert len(json.loads(recorded)) == 2  # source and destination
    victim.start()
    victim.wait_for("ready")
    assert nodes.rows(
        "SELECT processes FROM attempts WHERE job_id = %s AND attempt_number = 0", [job_id]
    ) == [("[]",)]
    assert processes_mentioning(str(victim.data_dir)) == []
    assert nodes.rows("SELECT count(*) FROM attempts WHERE status = 'running'") == [(0,)]


def scheduled_slots(c: Cluster) -> list[str]:
    runs = re.compile(r"scheduled sync job \d+ for the (\S+) run")
    return [m.group(1) for w in c.workers for m in runs.finditer(w.text())]


def test_the_scheduler_fails_over_without_running_a_slot_twice(nodes: Cluster) -> None:
    cron = {"cron": {"cronExpression": "0/2 * * * * ?", "cronTimeZone": "UTC"}}
    src = source(nodes, {"max_messages": 5})
    connections(
        nodes, src, destination(nodes, DEV_NULL, SILENT), 2, "overwrite",
        scheduleType="cron", scheduleData=cron,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(scheduled_slots(nodes)) < 4:
        assert time.monotonic() < deadline, "the scheduler started no sync"
        time.sleep(0.2)
    holder = nodes.rows(
        "SELECT application_name FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
        "WHERE l.locktype = 'advisory' AND l.granted"
    )
    leader = next(w for w in nodes.workers if holder and holder[0][0].endswith(f" {w.name}"))
    others = [w for w in nodes.workers if w is not leader]
    before = {w.name: w.text().count("scheduled sync job") for w in others}
    leader.kill(signal.SIGKILL)
    deadline = time.monotonic() + 60
    while all(w.text().count("scheduled sync job") == before[w.name] for w in others):
        assert time.monotonic() < deadline, "no other scheduler took over"
        time.sleep(0.2)
    time.sleep(3)
    # Per connection, each slot gave one job at most (the log line names the connection).
    per_connection = re.compile(r"connection (\S+): scheduled sync job \d+ for the (\S+) run")
    seen = [m.groups() for w in nodes.workers for m in per_connection.finditer(w.text())]
    assert len(seen) == len(set(seen)), Counter(seen).most_common(3)


def test_a_cancel_sent_to_the_api_stops_the_sync_on_its_worker(nodes: Cluster) -> None:
    config = {"max_messages": 5000, "message_interval_ms": 20}
    dest = destination(nodes, DEV_NULL, SILENT)
    (connection,) = connections(nodes, source(nodes, config), dest, 1, "overwrite")
    job_id = sync(nodes, connection)
    deadline = time.monotonic() + 60
    while not nodes.rows(
        "SELECT 1 FROM attempts WHERE job_id = %s AND records_emitted > 0", [job_id]
    ):
        assert time.monotonic() < deadline, "the sync never made progress"
        time.sleep(0.1)
    started = time.monotonic()
    call(nodes, "jobs/cancel", {"id": job_id})
    info = wait_status(nodes, job_id, ("succeeded", "failed", "cancelled"), timeout=30)
    assert info["job"]["status"] == "cancelled"
    assert time.monotonic() - started < 15
    (worker,) = nodes.rows("SELECT worker_id FROM attempts WHERE job_id = %s", [job_id])[0]
    assert worker in {"w1", "w2", "w3"}
