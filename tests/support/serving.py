"""A real `sluice serve` for tests that talk to it over HTTP: a free loopback port, and the
server as a user starts it (`ServerProcess`, the `server_process` fixture; registered for every
test module by tests/conftest.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import processes_mentioning

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`python -m server serve` as a user starts it, on a loopback port."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "SLUICE_DATA_DIR": str(self.data_dir),
            "SLUICE_PORT": str(self.port),
            "SLUICE_SYNC_RETRY_BACKOFF_SECONDS": "0",
            "SLUICE_WORKER_POLL_SECONDS": "0.2",
            # Destinations commit (and echo states) every 5 records, not at their usual
            # size or time thresholds, so a hung source leaves its states committed.
            "SLUICE_BATCH_RECORDS": "5",
        }
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server", "serve"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

    def kill(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server on tmp_path/data, not started yet; killed at the end if still running."""
    server = ServerProcess(tmp_path / "data")
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill(signal.SIGKILL)
        # Connectors a test left behind (a failed test that killed its server mid-sync) would
        # otherwise outlive the run.
        for pid in processes_mentioning(str(server.data_dir)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
