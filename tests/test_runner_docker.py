"""The Docker runner against a real engine: Airbyte's source-faker image built locally
(scripts/build-faker-image.sh) and the fault connector built as small images."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.runner.base import Command, ConnectorError, ConnectorImage, RunRequest
from server.runner.docker import (
    INSTANCE_LABEL,
    MANAGED_LABEL,
    DockerRunner,
    remove_leftover_containers,
)
from server.runner.lines import iter_lines
from server.runner.oneshot import CommandFailed, CommandOutput, run_in_job_dir
from tests.connector_fixtures import FAKER_IMAGE, docker_client, fault_image, need_image
from tests.support.relay import source_image

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def client() -> Any:
    return docker_client()


@pytest.fixture
def runner(client: Any, tmp_path: Path) -> Iterator[DockerRunner]:
    instance = f"test-{tmp_path.name}"
    runner = DockerRunner(
        network="none", local_root=tmp_path / "local", instance=instance, client=client
    )
    yield runner
    remove_leftover_containers(instance, client)


def image(name: str, tag: str, command: tuple[str, ...] = ()) -> ConnectorImage:
    return ConnectorImage(name=name, runner="docker", docker_image=tag, command=command)


def config(**values: object) -> dict[str, bytes]:
    return {"config.json": json.dumps(values).encode()}


def test_faker_spec_check_discover_in_a_container(
    client: Any, runner: DockerRunner, tmp_path: Path
) -> None:
    need_image(client, FAKER_IMAGE, "scripts/build-faker-image.sh")
    faker = ConnectorImage(
        name="faker", runner="docker", docker_image=FAKER_IMAGE, memory_limit="1Gi", cpu_limit="1"
    )
    runs = tmp_path / "runs"
    spec = run_in_job_dir(runner, faker, "spec", runs, {}, timeout=300).spec
    assert spec is not None and "count" in spec.connectionSpecification["properties"]

    good = run_in_job_dir(runner, faker, "check", runs, config(count=10), timeout=300)
    assert good.connection_status is not None
    assert good.connection_status.status == "SUCCEEDED"
    bad = run_in_job_dir(runner, faker, "check", runs, config(count=-5), timeout=300)
    assert bad.connection_status is not None
    assert bad.connection_status.status == "FAILED"
    assert "minimum" in (bad.connection_status.message or "")

    found = run_in_job_dir(runner, faker, "discover", runs, config(count=10), timeout=300)
    assert found.catalog is not None
    assert {s.name for s in found.catalog.streams} == {"users", "products", "purchases"}
    # Containers are removed after each run.
    assert (
        client.containers.list(all=True, filters={"label": f"{INSTANCE_LABEL}={runner.instance}"})
        == []
    )


def test_stdin_reaches_the_container_and_closing_it_ends_the_input(
    client: Any, runner: DockerRunner, tmp_path: Path
) -> None:
    tag = fault_image(client, "ok")
    request = RunRequest(
        connector=image("echo", tag),
        command="write",
        job_dir=tmp_path / "job",
        files=config(api_key="good", count=1),
        stdin=True,
        log_path=tmp_path / "stderr.log",
    )
    container = runner.start(request)
    assert container.stdin is not None
    state = {"type": "STATE", "state": {"data": {"cursor": 7}}}
    record = {"type": "RECORD", "record": {"stream": "items", "data": {"id": 1}, "emitted_at": 1}}
    for message in (record, record, state):
        container.stdin.write(json.dumps(message).encode() + b"\n")
    container.stdin.close()  # the connector sees EOF and finishes
    lines = [json.loads(line) for line in iter_lines(container.stdout)]
    container.stdout.close()
    assert container.wait(60) == 0
    assert [m["type"] for m in lines] == ["LOG", "STATE", "LOG"]
    assert lines[1]["state"] == {"data": {"cursor": 7}}
    assert lines[2]["log"]["message"] == "received 2 records"
    # stderr went to the run's log, not to stdout.
    assert "fault connector: mode ok, command write" in (tmp_path / "stderr.log").read_text()


def test_limits_labels_and_kill(client: Any, runner: DockerRunner, tmp_path: Path) -> None:
    tag = fault_image(client, "hang")
    connector = ConnectorImage(
        name="hang", runner="docker", docker_image=tag, memory_limit="256Mi", cpu_limit="500m"
    )
    request = RunRequest(
        connector=connector, command="spec", job_dir=tmp_path / "job", labels={"job_id": "42"}
    )
    container = runner.start(request)
    try:
        assert b"about to hang" in container.stdout.readline() + container.stdout.readline()
        attrs = client.api.inspect_container(container.id)
        assert attrs["HostConfig"]["Memory"] == 256 * 1024 * 1024
        assert attrs["HostConfig"]["NanoCpus"] == 500_000_000
        assert attrs["HostConfig"]["NetworkMode"] == "none"
        labels = attrs["Config"]["Labels"]
        assert labels[MANAGED_LABEL] == "true"
        assert labels[INSTANCE_LABEL] == runner.instance
        assert labels["io.sluice.job_id"] == "42"
        with pytest.raises(TimeoutError):
            container.wait(1)
    finally:
        container.kill()
    assert container.stdout.read() == b""  # the output ends with the container
    container.stdout.close()
    assert container.wait(10) != 0
    assert client.containers.list(all=True, filters={"id": container.id}) == []


def test_leftover_containers_of_this_server_only_are_removed(client: Any, tmp_path: Path) -> None:
    tag = fault_image(client, "hang")
    mine = DockerRunner(network="none", instance=f"mine-{tmp_path.name}", client=client)
    other = DockerRunner(network="none", instance=f"other-{tmp_path.name}", client=client)
    started = []
    for runner in (mine, mine, other):
        request = RunRequest(connector=image("hang", tag), command="spec", job_dir=tmp_path / "job")
        started.append(runner.start(request))
    try:
        # As after a crash: nobody waits for these containers.
        assert remove_leftover_containers(mine.instance, client) == 2
        remaining = client.containers.list(all=True, filters={"label": f"{MANAGED_LABEL}=true"})
        ids = {c.id for c in remaining}
        assert started[2].id in ids
        assert not {started[0].id, started[1].id} & ids
    finally:
        for container in started:
            container.kill()
            container.stdout.close()


def test_missing_image_says_how_to_build_it_or_run_the_program(client: Any, tmp_path: Path) -> None:
    missing = image("Ghost", "sluice-test/no-such-image:0.0.1", ("ghost-connector",))
    request = RunRequest(connector=missing, command="spec", job_dir=tmp_path / "job")
    with pytest.raises(ConnectorError, match="not present locally") as plain:
        DockerRunner(client=client).start(request)
    assert "build-connector-images.sh" in str(plain.value)
    assert "local program" not in str(plain.value)

    resolver = {"ghost-connector": "/opt/ghost/bin/ghost-connector"}.get
    with pytest.raises(ConnectorError) as hinted:
        DockerRunner(client=client, local_program=resolver).start(request)
    assert "installed as a local program (/opt/ghost/bin/ghost-connector)" in str(hinted.value)
    assert "set the definition's runner to 'process'" in str(hinted.value)


# --- faults through the short-command helper -----------------------------------------------


def run_fault(
    client: Any,
    runner: DockerRunner,
    tmp_path: Path,
    mode: str,
    command: Command = "check",
    timeout: float = 120,
    max_line_bytes: int = 64 << 20,
) -> CommandOutput:
    files = config(api_key="sekrit-key-123", count=1) if command != "spec" else {}
    return run_in_job_dir(
        runner,
        image(mode, fault_image(client, mode)),
        command,
        tmp_path / "runs",
        files,
        timeout=timeout,
        max_line_bytes=max_line_bytes,
        secrets=["sekrit-key-123"],
    )


def test_fault_exit_1(client: Any, runner: DockerRunner, tmp_path: Path) -> None:
    with pytest.raises(CommandFailed) as failed:
        run_fault(client, runner, tmp_path, "exit1")
    assert failed.value.message == "Something broke (api_key **********)"
    assert any("STDERR fault connector: mode exit1" in line for line in failed.value.log_lines)


def test_fault_not_json(client: Any, runner: DockerRunner, tmp_path: Path) -> None:
    output = run_fault(client, runner, tmp_path, "nonjson")
    assert output.connection_status is not None
    assert output.connection_status.message == "Wrong api_key **********"
    assert sum("not an Airbyte message" in line for line in output.log_lines) == 2


def test_fault_hang(client: Any, runner: DockerRunner, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(CommandFailed, match="did not finish within 3 s"):
        run_fault(client, runner, tmp_path, "hang", timeout=3)
    assert time.monotonic() - started < 30
    assert (
        client.containers.list(all=True, filters={"label": f"{INSTANCE_LABEL}={runner.instance}"})
        == []
    )


def test_fault_huge_line(client: Any, runner: DockerRunner, tmp_path: Path) -> None:
    with pytest.raises(CommandFailed, match="longer than 1048576 bytes"):
        run_fault(client, runner, tmp_path, "hugeline", "spec", max_line_bytes=1 << 20)


def read_output(container: Any, seconds: float) -> tuple[list[bytes], bool]:
    """The lines read from `container.stdout` within `seconds`, and whether it reached EOF."""
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(iter_lines(container.stdout)))
    reader.daemon = True
    reader.start()
    reader.join(seconds)
    return lines, not reader.is_alive()


@pytest.mark.parametrize(("fault", "ends"), [("close_stdout", True), ("child_keeps_stdout", False)])
def test_the_output_ends_when_no_process_in_the_container_holds_stdout(
    client: Any, runner: DockerRunner, tmp_path: Path, fault: str, ends: bool
) -> None:
    """The engine keeps the attach stream open while the container runs: the output ends, as
    a local process's pipe would, once no process holds stdout, and not while one does."""
    request = RunRequest(
        connector=image("relay source", source_image(client)),
        command="read",
        job_dir=tmp_path / "job",
        files={**config(records=20, state_every=10, fault=fault), "catalog.json": b"{}"},
        log_path=tmp_path / "stderr.log",
    )
    container = runner.start(request)
    try:
        lines, ended = read_output(container, 8.0)
        assert ended is ends
        assert len(lines) == 22  # 20 records, 2 states: nothing lost
        with pytest.raises(TimeoutError):
            container.wait(0)  # still running either way
    finally:
        container.kill()
    assert read_output(container, 10.0)[1]  # the output ends with the container in any case
    container.stdout.close()
    assert "stdout closed; not exiting" in (tmp_path / "stderr.log").read_text()
