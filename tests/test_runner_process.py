"""The process runner and the short-command helper, with real programs: Airbyte's
source-faker from its virtualenv, and the fault connector in tests/fixtures."""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from server.runner.allowed import RunRules, image_repository, rules_for
from server.runner.base import Command, ConnectorError, ConnectorImage, RunRequest
from server.runner.lines import LineTooLong, iter_lines
from server.runner.oneshot import CommandFailed, CommandOutput, run_command, run_in_job_dir
from server.runner.process import ProcessRunner
from server.runner.setup import runners_for
from server.settings import Settings
from tests.connector_fixtures import FAULT_PROGRAM, FIXTURES, need_faker_program

FAKER = ConnectorImage(
    name="Sample Data (Faker)",
    runner="process",
    docker_image="airbyte/source-faker:7.2.1",
    command=("source-faker",),
)


def fault(mode: str) -> ConnectorImage:
    return ConnectorImage(
        name=f"fault {mode}",
        runner="process",
        docker_image="sluice-test/fault:1",
        command=(FAULT_PROGRAM.name, mode),
    )


def fault_runner() -> ProcessRunner:
    """Finds the fault connector by name: its directory is a connector directory."""
    return ProcessRunner([str(FIXTURES)])


def config(**values: object) -> dict[str, bytes]:
    return {"config.json": json.dumps(values).encode()}


# --- iter_lines over a real pipe -----------------------------------------------------------


def _pipe_with(chunks: list[bytes]) -> IO[bytes]:
    read_fd, write_fd = os.pipe()

    def writer() -> None:
        try:
            for chunk in chunks:
                os.write(write_fd, chunk)
                time.sleep(0.01)  # separate reads, so lines straddle chunk boundaries
        except BrokenPipeError:
            pass  # the reader stopped early, as it should on a line too long
        finally:
            os.close(write_fd)

    threading.Thread(target=writer, daemon=True).start()
    return os.fdopen(read_fd, "rb")


def test_iter_lines_joins_lines_split_across_reads() -> None:
    with _pipe_with([b'{"a":', b"1}\n\n{", b'"b":2}\n{"c"', b":3}"]) as stream:
        lines = list(iter_lines(stream, max_line_bytes=100, chunk_bytes=4))
    assert lines == [b'{"a":1}', b'{"b":2}', b'{"c":3}']


def test_iter_lines_stops_at_a_line_longer_than_the_bound() -> None:
    # 10 KiB without a newline in 1 KiB reads: it must stop without waiting for the end.
    with _pipe_with([b"ok\n", b"x" * 10_000, b"\n"]) as stream:
        lines = iter_lines(stream, max_line_bytes=4096, chunk_bytes=1024)
        assert next(lines) == b"ok"
        with pytest.raises(LineTooLong, match="longer than 4096 bytes"):
            next(lines)


# --- source-faker as a local program -------------------------------------------------------


def test_faker_spec_check_discover(tmp_path: Path) -> None:
    runner = ProcessRunner([str(need_faker_program())])
    runs = tmp_path / "runs"

    spec = run_in_job_dir(runner, FAKER, "spec", runs, {}, timeout=120).spec
    assert spec is not None
    assert spec.connectionSpecification["properties"]["count"]["type"] == "integer"

    good = run_in_job_dir(runner, FAKER, "check", runs, config(count=10), timeout=120)
    assert good.connection_status is not None
    assert good.connection_status.status == "SUCCEEDED"

    bad = run_in_job_dir(runner, FAKER, "check", runs, config(count="x"), timeout=120)
    assert bad.connection_status is not None
    assert bad.connection_status.status == "FAILED"
    assert "integer" in (bad.connection_status.message or "")

    found = run_in_job_dir(runner, FAKER, "discover", runs, config(count=10), timeout=120)
    assert found.catalog is not None
    assert {s.name for s in found.catalog.streams} == {"users", "products", "purchases"}
    # Job directories (they hold configurations) are removed after each run.
    assert list(runs.iterdir()) == []


# --- faults --------------------------------------------------------------------------------


def run_fault(
    tmp_path: Path,
    mode: str,
    command: Command = "check",
    timeout: float = 60,
    max_line_bytes: int = 64 << 20,
) -> CommandOutput:
    files = config(api_key="sekrit-key-123", count=1) if command != "spec" else {}
    return run_in_job_dir(
        fault_runner(),
        fault(mode),
        command,
        tmp_path / "runs",
        files,
        timeout=timeout,
        max_line_bytes=max_line_bytes,
        secrets=["sekrit-key-123"],
    )


def test_check_failed_is_a_result_and_secrets_are_masked(tmp_path: Path) -> None:
    output = run_fault(tmp_path, "ok")
    status = output.connection_status
    assert status is not None and status.status == "FAILED"
    assert status.message == "Wrong api_key **********"
    # The connector repeats the key in its message, a LOG line and stderr: none shows it.
    text = "\n".join(output.log_lines)
    assert "sekrit-key-123" not in text
    assert "starting check with api_key **********" in text
    assert "STDERR fault connector: mode ok, command check, api_key **********" in text


def test_exit_1_with_trace_error_fails_with_its_message(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed) as failed:
        run_fault(tmp_path, "exit1")
    assert failed.value.message == "Something broke (api_key **********)"
    assert failed.value.trace is not None
    assert failed.value.trace.failure_type == "config_error"
    assert not any("sekrit" in line for line in failed.value.log_lines)


def test_crash_without_output_reports_exit_code_and_stderr(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed, match="exited with code 3 without a CONNECTION_STATUS"):
        run_fault(tmp_path, "crash")
    with pytest.raises(CommandFailed) as failed:
        run_fault(tmp_path, "crash")
    assert any("RuntimeError: crashed" in line for line in failed.value.log_lines)


def test_lines_that_are_not_json_are_logged_and_skipped(tmp_path: Path) -> None:
    output = run_fault(tmp_path, "nonjson", "spec")
    assert output.spec is not None
    skipped = [line for line in output.log_lines if "not an Airbyte message" in line]
    assert len(skipped) == 2
    assert "hello, this line is not JSON" in skipped[0]


def test_a_connector_that_hangs_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(CommandFailed, match="did not finish within 2 s"):
        run_fault(tmp_path, "hang", timeout=2)
    assert time.monotonic() - started < 10


def test_a_huge_line_ends_the_run(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed, match="longer than 1048576 bytes"):
        run_fault(tmp_path, "hugeline", "spec", max_line_bytes=1 << 20)
    # Under the bound the same line is fine.
    assert run_fault(tmp_path, "hugeline", "spec", max_line_bytes=8 << 20).spec is not None


def test_no_result_message(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed, match="ended without a SPEC message"):
        run_fault(tmp_path, "noresult", "spec")


def test_missing_program(tmp_path: Path) -> None:
    connector = ConnectorImage(
        name="ghost", runner="process", docker_image="x/y:1", command=("no-such-connector-xyz",)
    )
    with pytest.raises(CommandFailed, match="'no-such-connector-xyz' was not found"):
        run_in_job_dir(ProcessRunner(), connector, "spec", tmp_path / "runs", {}, timeout=10)


def test_kill_stops_the_whole_process_group(tmp_path: Path) -> None:
    request = RunRequest(connector=fault("hang"), command="spec", job_dir=tmp_path / "job")
    connector = fault_runner().start(request)
    assert connector.stdout.readline().startswith(b'{"type": "LOG"')
    with pytest.raises(TimeoutError):
        connector.wait(0.2)
    connector.kill()
    connector.stdout.close()
    assert connector.wait(5) != 0
    with pytest.raises(ProcessLookupError):
        os.killpg(connector.pid, 0)


def test_run_command_keeps_the_log_bounded(tmp_path: Path) -> None:
    request = RunRequest(
        connector=fault("ok"), command="spec", job_dir=tmp_path / "job", log_path=tmp_path / "l"
    )
    output = run_command(fault_runner(), request, timeout=30)
    assert output.exit_code == 0
    assert output.log_lines[-1].endswith("spec finished (exit code 0)")


# --- what may run, and where programs are found ---------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("/bin/sh", "-c", "touch owned.txt"),
        ("sh", "-c", "touch owned.txt"),
        ("bash", "-c", "touch owned.txt"),
        ("env", "sh", "-c", "touch owned.txt"),
        ("python3", "-c", "open('owned.txt', 'w')"),
        ("perl", "-e", "open(F, '>owned.txt')"),
        ("touch", "owned.txt"),  # only on $PATH
        ("../../../../usr/bin/touch", "owned.txt"),
        (f"fixtures/{FAULT_PROGRAM.name}", "ok"),
    ],
)
def test_the_runner_refuses_what_a_definition_may_not_run(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    # A row stored before the rule (or written to the store directly) must not run either.
    connector = ConnectorImage(name="evil", runner="process", docker_image="x/y:1", command=command)
    request = RunRequest(connector=connector, command="spec", job_dir=tmp_path / "job")
    with pytest.raises(ConnectorError, match="Connector 'evil': "):
        fault_runner().start(request)
    assert not list(tmp_path.rglob("owned.txt"))


def test_a_virtualenvs_own_python_and_pip_are_refused(tmp_path: Path) -> None:
    # The default connector directory is a virtualenv's bin: it holds python and pip too.
    runner = ProcessRunner([str(sys.prefix) + "/bin"])
    for name in ("python", "python3", "pip", "pip3"):
        assert runner.resolve(name) is None, name


def test_built_in_connectors_are_found_beside_the_server_without_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As under `<venv>/bin/sluice serve` without activation: the scripts dir is not on $PATH.
    monkeypatch.setenv("PATH", "/nonexistent")
    scripts = Path(sysconfig.get_path("scripts"))
    if not (scripts / "destination-sqlite").exists():
        pytest.skip("the built-in connectors are not installed (scripts/setup.sh)")
    assert ProcessRunner().resolve("destination-sqlite") == str(scripts / "destination-sqlite")
    # Only connectors are taken from there, not the other tools installed beside the server.
    assert ProcessRunner().resolve("pytest") is None
    assert RunRules(builtin_dirs=()).find_program("destination-sqlite") is None


def test_a_relative_job_directory_is_handed_over_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    request = RunRequest(
        connector=fault("ok"),
        command="check",
        job_dir=Path("runs") / "job",
        files=config(api_key="k", count=1),
        log_path=Path("runs") / "job" / "stderr.log",
    )
    # The connector runs in its job directory: a relative --config would not be found there.
    output = run_command(fault_runner(), request, timeout=30)
    assert output.connection_status is not None, output.log_lines
    assert not any("No such file" in line for line in output.log_lines)
    assert any("api_key k" in line for line in output.log_lines)


def test_docker_images_outside_the_allow_list_are_refused_at_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "d"), allowed_images="airbyte/*, sluice/*")
    runners = runners_for(settings)
    evil = ConnectorImage(name="evil", runner="docker", docker_image="evil/shell:1")
    request = RunRequest(connector=evil, command="spec", job_dir=tmp_path / "job")
    # Refused before the Docker engine is even reached (none is needed for this test).
    with pytest.raises(ConnectorError, match="Image 'evil/shell' is not allowed"):
        runners.get(evil).start(request)
    assert not (tmp_path / "job").exists()
    assert rules_for(settings).image_refusal("sluice/destination-sqlite") is None
    assert rules_for(settings).image_refusal("registry.io/airbyte/x") is not None
    assert image_repository("registry.local:5000/acme/x:1.0") == "registry.local:5000/acme/x"
    assert image_repository("registry.local:5000/acme/x") == "registry.local:5000/acme/x"
