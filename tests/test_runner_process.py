"""The process runner and the short-command helper, with real programs: Airbyte's
source-faker from its virtualenv, and the fault connector in tests/fixtures."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from server.runner.base import Command, ConnectorImage, RunRequest
from server.runner.lines import LineTooLong, iter_lines
from server.runner.oneshot import CommandFailed, CommandOutput, run_command, run_in_job_dir
from server.runner.process import ProcessRunner
from tests.connector_fixtures import FAULT_PROGRAM, need_faker_program

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
        command=(str(FAULT_PROGRAM), mode),
    )


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
        ProcessRunner(),
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
    connector = ProcessRunner().start(request)
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
    output = run_command(ProcessRunner(), request, timeout=30)
    assert output.exit_code == 0
    assert output.log_lines[-1].endswith("spec finished (exit code 0)")
