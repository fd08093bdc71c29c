"""Records a row filter drops are in the attempt's stats (Airbyte's `recordsFilteredOut` and
`bytesFilteredOut`), in total and per stream, from a real attempt: source-e2e-test and the
/dev/null destination as processes, through `run_attempt` and through the HTTP API's job."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest

from server.app import create_app
from server.jobs.plan import source_catalog, stream_mappers
from server.models.connections import AirbyteCatalog
from server.runner import Runners
from server.runner.process import ProcessRunner
from server.settings import Settings
from server.store.db import open_db
from server.store.jobs import list_attempts
from server.sync import AttemptPlan, run_attempt
from server.sync.catalog import Namespacing
from tests.conftest import running
from tests.support.api_jobs import (
    DEV_NULL,
    SILENT,
    fast_settings,
    make_destination,
    make_source,
    ok,
    wait_job,
)
from tests.support.mappers import mapper
from tests.support.relay import DEV_NULL as DEV_NULL_IMAGE
from tests.support.relay import E2E, api_catalog

SOURCE = {"max_messages": 200, "seed": 5, "record_size_bytes": 120}
FILTER = [mapper("row-filtering", expression="amount > 5000")]


def dropped(tmp_path: Path) -> tuple[int, int]:
    """(records, data bytes) of the source's records the filter drops, read from it."""
    config, catalog = tmp_path / "source.json", tmp_path / "catalog.json"
    config.write_bytes(msgspec.json.encode(SOURCE))
    streams = api_catalog(SOURCE, "full_refresh", "overwrite")["streams"]
    configured = [
        {
            "stream": {"name": s["stream"]["name"], "json_schema": s["stream"]["jsonSchema"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
        }
        for s in streams
    ]
    catalog.write_bytes(msgspec.json.encode({"streams": configured}))
    out = subprocess.run(
        ["source-e2e-test", "read", "--config", str(config), "--catalog", str(catalog)],
        capture_output=True,
        check=True,
    ).stdout
    lines = [_line.decode(line) for line in out.splitlines()]
    datas = [m.record.data for m in lines if m.record is not None]
    gone = [d for d in datas if not msgspec.json.decode(d)["amount"] > 5000]
    return len(gone), sum(len(d) for d in gone)


class _Record(msgspec.Struct):
    data: msgspec.Raw


class _Line(msgspec.Struct):
    record: _Record | None = None


_line = msgspec.json.Decoder(_Line)


def test_run_attempt_counts_the_filtered_records(tmp_path: Path) -> None:
    catalog = api_catalog(SOURCE, "full_refresh", "overwrite")
    for entry in catalog["streams"]:
        entry["config"]["mappers"] = FILTER
    protocol = source_catalog(catalog, None, 1)
    mappers = stream_mappers(msgspec.convert(catalog, AirbyteCatalog), protocol)
    plan = AttemptPlan(
        job_id=1,
        attempt_number=0,
        connection_id="c0ffee00-0000-4000-8000-000000000001",
        kind="sync",
        source=E2E,
        destination=DEV_NULL_IMAGE,
        source_config=SOURCE,
        destination_config=SILENT,
        catalog=protocol,
        namespacing=Namespacing({"namespaceDefinition": "source"}, mappers),
        streams=None,
        input_state=[],
        job_dir=tmp_path / "job",
        log_path=tmp_path / "attempt.log",
    )
    result = run_attempt(
        plan,
        Runners(ProcessRunner()),
        Settings(data_dir=str(tmp_path / "data"), state_commit_seconds=0),
        lambda state: None,
        lambda progress: None,
        threading.Event(),
    )
    assert result.succeeded, result.failures
    stats = result.stats
    records, size = dropped(tmp_path)
    assert 0 < records < 200
    assert stats.records_emitted == 200  # the dropped ones were emitted by the source
    assert (stats.records_filtered_out, stats.bytes_filtered_out) == (records, size)
    # Committed: what reached the destination, not what the filter dropped.
    assert stats.records_committed == stats.records_emitted - records
    assert stats.bytes_committed == stats.bytes_emitted - size
    (stream,) = stats.stream_stats
    assert stream.stats.records_filtered_out == stats.records_filtered_out
    assert stream.stats.bytes_filtered_out == stats.bytes_filtered_out
    log = plan.log_path.read_text()
    assert f"{stats.records_filtered_out} record(s)" in log and "filtered out" in log


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path))) as c:
        yield c


async def test_a_synced_job_keeps_the_filtered_counts(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    source = await make_source(client, SOURCE)
    destination = await make_destination(client, DEV_NULL, SILENT)
    catalog = api_catalog(SOURCE, "full_refresh", "overwrite")
    for entry in catalog["streams"]:
        entry["config"]["mappers"] = FILTER
    body = {
        "sourceId": source,
        "destinationId": destination,
        "status": "active",
        "syncCatalog": catalog,
    }
    connection = (await ok(client, "connections/create", body))["connectionId"]
    job = (await ok(client, "connections/sync", {"connectionId": connection}))["job"]
    info = await wait_job(client, job["id"], timeout=120)
    assert info["job"]["status"] == "succeeded"
    records, size = dropped(tmp_path)
    attempt = info["attempts"][-1]["attempt"]
    assert attempt["totalStats"]["recordsEmitted"] == 200
    # The attempt as stored: each stream's stats carry the counts.
    settings = fast_settings(tmp_path)
    db = open_db(settings.database, "", settings.data_path)  # the test's store, either engine
    try:
        (stored,) = list_attempts(db, [job["id"]])[job["id"]]
    finally:
        db.close()
    (stream,) = stored.stats.stream_stats
    assert (stream.stats.records_filtered_out, stream.stats.bytes_filtered_out) == (records, size)
    # What jobs/get shows: the totals and each stream's, in Airbyte's names.
    total = attempt["totalStats"]
    assert (total["recordsFilteredOut"], total["bytesFilteredOut"]) == (records, size)
    (shown,) = attempt["streamStats"]
    assert shown["stats"]["recordsFilteredOut"] == records
    assert shown["stats"]["bytesFilteredOut"] == size
