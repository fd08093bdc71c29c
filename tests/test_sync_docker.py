"""Sync attempts whose source runs as a container: failures that stop the relay reading the
source end as fast as with a local process (the fault source in tests/fixtures/relay_source.py,
as a program and as an image)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.runner.base import ConnectorImage
from server.runner.docker import INSTANCE_LABEL, DockerRunner, remove_leftover_containers
from server.settings import Settings
from tests.connector_fixtures import docker_client
from tests.support.relay import (
    DEV_NULL,
    FAULTY,
    FAULTY_SOURCE,
    ITEMS,
    Run,
    assert_nothing_left,
    run,
    source_image,
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def client() -> Any:
    return docker_client()


@pytest.fixture
def docker_runner(client: Any, tmp_path: Path) -> Iterator[DockerRunner]:
    instance = f"test-{tmp_path.name}"
    yield DockerRunner(network="none", instance=instance, client=client)
    remove_leftover_containers(instance, client)


def sync(
    tmp_path: Path,
    source: ConnectorImage,
    config: dict[str, Any],
    destination: ConnectorImage = DEV_NULL,
    destination_config: dict[str, Any] | None = None,
    docker: DockerRunner | None = None,
    **settings: Any,
) -> Run:
    return run(
        tmp_path,
        config,
        destination,
        destination_config,
        source=source,
        docker=docker,
        sync_catalog=ITEMS,
        settings=Settings(data_dir=str(tmp_path / "data"), state_commit_seconds=0, **settings),
    )


def no_containers_left(client: Any, runner: DockerRunner) -> None:
    found = client.containers.list(
        all=True, filters={"label": f"{INSTANCE_LABEL}={runner.instance}"}
    )
    assert found == []


HUGE = {"records": 100, "fault": "huge_line", "line_bytes": 16 << 20}
MANY = {"records": 300_000, "state_every": 1000}


def test_a_huge_line_ends_as_fast_from_a_container_as_from_a_process(
    client: Any, docker_runner: DockerRunner, tmp_path: Path
) -> None:
    local = sync(tmp_path, FAULTY_SOURCE, HUGE, max_line_bytes=1 << 20)
    assert local.result.failures[0].failure_origin == "source", local.log
    assert_nothing_left(local.started)
    image = ConnectorImage("relay fault source", "docker", source_image(client))
    docker = sync(tmp_path, image, HUGE, docker=docker_runner, max_line_bytes=1 << 20)
    first = docker.result.failures[0]
    assert first.failure_origin == "source", docker.log
    assert "longer than 1048576 bytes" in first.external_message
    print(f"huge line: process {local.elapsed:.1f} s, docker {docker.elapsed:.1f} s")
    # Measured before the fix: 31 s (the output pump blocked on a pipe nobody read).
    assert docker.elapsed < local.elapsed + 5, docker.log
    assert "did not stop" not in docker.log
    no_containers_left(client, docker_runner)


def test_a_destination_that_quits_early_ends_a_container_source_fast(
    client: Any, docker_runner: DockerRunner, tmp_path: Path
) -> None:
    quit_ = {"mode": "quit"}
    local = sync(tmp_path, FAULTY_SOURCE, MANY, FAULTY, quit_)
    assert [f.failure_origin for f in local.result.failures] == ["destination"], local.log
    image = ConnectorImage("relay fault source", "docker", source_image(client))
    docker = sync(tmp_path, image, MANY, FAULTY, quit_, docker=docker_runner)
    failures = docker.result.failures
    assert [f.failure_origin for f in failures] == ["destination"], docker.log
    assert "stopped reading its input" in failures[0].external_message
    print(f"destination quits: process {local.elapsed:.1f} s, docker {docker.elapsed:.1f} s")
    assert docker.elapsed < local.elapsed + 5, docker.log
    no_containers_left(client, docker_runner)


def test_a_container_source_that_closes_its_output_but_never_exits_fails_as_the_source(
    client: Any, docker_runner: DockerRunner, tmp_path: Path
) -> None:
    """As with a local process (tests/test_sync_relay.py): the source is stopped after the
    exit grace period and named, whatever the destination's timeout. The engine never ends
    the attach stream while the container runs, so the runner has to find out itself."""
    closing = {"records": 20, "state_every": 10, "fault": "close_stdout"}
    image = ConnectorImage("relay fault source", "docker", source_image(client))
    for destination_timeout in (1.0, 3600.0):
        timing = {
            "connector_exit_grace_seconds": 2.0,
            "destination_timeout_seconds": destination_timeout,
            # Before the fix the attempt ended only here (3 h by default), as 'unresponsive'.
            "heartbeat_seconds": 30.0,
        }
        gate = {"mode": "gate", "gate_path": str(tmp_path)}
        local = sync(tmp_path, FAULTY_SOURCE, closing, FAULTY, gate, **timing)
        assert [f.failure_origin for f in local.result.failures] == ["source"], local.log
        docker = sync(tmp_path, image, closing, FAULTY, gate, docker=docker_runner, **timing)
        failures = docker.result.failures
        assert [f.failure_origin for f in failures] == ["source"], docker.log
        assert failures[0].external_message == (
            "The source closed its output but did not exit within 2 s; it was stopped"
        )
        print(f"stdout closed: process {local.elapsed:.1f} s, docker {docker.elapsed:.1f} s")
        assert docker.elapsed < local.elapsed + 5, docker.log
        assert docker.commits[-1][0]["stream"]["stream_state"] == {"id": 20}
        assert "stdout closed; not exiting" in docker.log  # its stderr still reached the log
        no_containers_left(client, docker_runner)
