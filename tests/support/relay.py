"""One sync attempt run by the relay (`run_attempt`) with real connector processes, for the relay
tests: the connectors as images of the `process` runner, the fault source and destination of
tests/fixtures/ (relay_source.py, relay_destination.py) and the fault source as a Docker image,
`run` (one attempt, with what it committed, reported and logged) and `assert_nothing_left`."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest

from server.jobs.plan import source_catalog
from server.protocol import StreamDescriptor
from server.runner import Runners
from server.runner.base import ConnectorImage, Runner, RunRequest
from server.runner.process import LocalProcess, ProcessRunner
from server.settings import Settings
from server.sync import AttemptPlan, AttemptProgress, AttemptResult, run_attempt
from server.sync.catalog import Namespacing
from tests.connector_fixtures import BASE_IMAGE, need_image

FIXTURES = Path(__file__).parent.parent / "fixtures"
E2E = ConnectorImage("E2E Testing", "process", "sluice/source-e2e-test:dev", ("source-e2e-test",))
DEV_NULL = ConnectorImage(
    "End-to-End Testing (/dev/null)",
    "process",
    "sluice/destination-dev-null:dev",
    ("destination-dev-null",),
)
SQLITE = ConnectorImage(
    "Local SQLite", "process", "sluice/destination-sqlite:dev", ("destination-sqlite",)
)
# The fault fixtures run by name from the fixtures directory (a connector directory here),
# as a definition names its program.
FAULTY = ConnectorImage("relay fault destination", "process", "none", ("relay_destination.py",))
FAULTY_SOURCE = ConnectorImage("relay fault source", "process", "none", ("relay_source.py",))
# The catalog of the fault source (tests/fixtures/relay_source.py): one stream, `items`.
ITEMS = {
    "streams": [
        {
            "stream": {
                "name": "items",
                "jsonSchema": {"type": "object", "properties": {"id": {"type": "integer"}}},
                "supportedSyncModes": ["full_refresh", "incremental"],
                "sourceDefinedCursor": True,
                "defaultCursorField": ["id"],
            },
            "config": {"syncMode": "incremental", "destinationSyncMode": "append"},
        }
    ]
}


class RecordingRunner(ProcessRunner):
    """The real process runner, remembering what it started (to prove nothing is left)."""

    def __init__(self) -> None:
        super().__init__([str(FIXTURES)])
        self.started: list[LocalProcess] = []

    def start(self, request: RunRequest) -> LocalProcess:
        process = super().start(request)
        self.started.append(process)
        return process


@dataclass
class Run:
    result: AttemptResult
    commits: list[list[dict[str, Any]]]
    progress: list[AttemptProgress]
    log: str
    elapsed: float
    started: list[LocalProcess] = field(default_factory=list)

    def stats(self, stream: str) -> dict[str, int]:
        found = [s.stats for s in self.result.stats.stream_stats if s.stream_name == stream]
        assert len(found) == 1, self.result.stats.stream_stats
        stats = found[0]
        return {
            "recordsEmitted": stats.records_emitted,
            "bytesEmitted": stats.bytes_emitted,
            "recordsCommitted": stats.records_committed,
            "bytesCommitted": stats.bytes_committed,
            "stateMessagesEmitted": stats.state_messages_emitted,
        }


def api_catalog(source_config: dict[str, Any], sync_mode: str, destination_mode: str) -> dict:
    """The connection's syncCatalog (API shape) for the source's discovered streams."""
    out = subprocess.run(
        ["source-e2e-test", "discover", "--config", "/dev/stdin"],
        input=msgspec.json.encode(source_config),
        capture_output=True,
        check=True,
    ).stdout
    catalog = msgspec.json.decode(out.splitlines()[-1])["catalog"]
    return {
        "streams": [
            {
                "stream": {
                    "name": s["name"],
                    "jsonSchema": s["json_schema"],
                    "supportedSyncModes": s["supported_sync_modes"],
                    "sourceDefinedCursor": s.get("source_defined_cursor"),
                    "defaultCursorField": s.get("default_cursor_field"),
                    "sourceDefinedPrimaryKey": s.get("source_defined_primary_key"),
                },
                "config": {
                    "syncMode": sync_mode,
                    "destinationSyncMode": destination_mode,
                    "selected": True,
                },
            }
            for s in catalog["streams"]
        ]
    }


def run(
    tmp_path: Path,
    source_config: dict[str, Any] | None,
    destination: ConnectorImage = DEV_NULL,
    destination_config: dict[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    connection: dict[str, Any] | None = None,
    input_state: list[dict[str, Any]] | None = None,
    kind: str = "sync",
    streams: list[StreamDescriptor] | None = None,
    cancel: threading.Event | None = None,
    sync_catalog: dict[str, Any] | None = None,
    sync_mode: str = "incremental",
    destination_mode: str = "append",
    commits: list[list[dict[str, Any]]] | None = None,
    secrets: list[str] | None = None,
    source: ConnectorImage | None = None,
    docker: Runner | None = None,
) -> Run:
    runner = RecordingRunner()
    commits = [] if commits is None else commits
    progress: list[AttemptProgress] = []
    attempt_dir = tmp_path / f"attempt-{len(list(tmp_path.glob('attempt-*')))}"
    if sync_catalog is None:
        assert source_config is not None
        sync_catalog = api_catalog(source_config, sync_mode, destination_mode)
    plan = AttemptPlan(
        job_id=7,
        attempt_number=0,
        connection_id="c0ffee00-0000-4000-8000-000000000000",
        kind=kind,  # type: ignore[arg-type]
        source=(source or E2E) if kind == "sync" else None,
        destination=destination,
        source_config=source_config if kind == "sync" else None,
        destination_config=destination_config or {},
        catalog=source_catalog(sync_catalog, streams, 7, reset=kind == "reset"),
        namespacing=Namespacing(connection or {"namespaceDefinition": "source"}),
        streams=streams,
        input_state=input_state or [],
        job_dir=attempt_dir / "job",
        log_path=attempt_dir / "attempt.log",
        secrets=secrets or [],
    )
    started = time.monotonic()
    result = run_attempt(
        plan,
        Runners(runner, docker),
        settings or Settings(data_dir=str(tmp_path / "data"), state_commit_seconds=0),
        commits.append,
        progress.append,
        cancel or threading.Event(),
    )
    elapsed = time.monotonic() - started
    log = plan.log_path.read_text()
    return Run(result, commits, progress, log, elapsed, runner.started)


def assert_nothing_left(started: list[LocalProcess]) -> None:
    assert started, "no connector was started"
    for process in started:
        assert process._proc.returncode is not None, "a connector was not reaped"
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)  # nothing of its process group is left either


def source_image(client: Any) -> str:
    """The fault source as an image, built once per content (no network)."""
    import docker.errors

    need_image(client, BASE_IMAGE, "scripts/build-base-image.sh")
    program = FIXTURES / "relay_source.py"
    dockerfile = FIXTURES / "Dockerfile.relay_source"
    digest = hashlib.sha256(program.read_bytes() + dockerfile.read_bytes()).hexdigest()[:12]
    tag = f"sluice-test/relay-source:{digest}"
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        client.images.build(
            path=str(FIXTURES),
            dockerfile=dockerfile.name,
            tag=tag,
            network_mode="none",
            rm=True,
        )
    return tag
