"""Several Sluice processes on one PostgreSQL, for the cluster tests and the benchmark: one
`sluice serve --no-worker` (the API) and N `sluice worker` processes, each with a data
directory of its own, sharing the database, the secret key and the /local root."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg

from server.store.secret_box import new_key
from tests.support.processes import processes_mentioning
from tests.support.serving import ROOT, free_port

LOCAL_JSON = "a625d593-bba5-4a1c-a53d-2d246268a816"  # seeded: destination-jsonl


class Node:
    """One `python -m server <args>` process with its own data directory and log."""

    def __init__(self, base: Path, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name, self.args = name, args
        self.data_dir = base / name
        self.log = base / f"{name}.log"
        self.env = {**env, "SLUICE_DATA_DIR": str(self.data_dir)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.offset = 0

    def start(self) -> None:
        # What this run logs starts here (a restarted node appends to the same log).
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text()[self.offset :]:
            assert self.running(), f"{self.name} exited:\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, (
                f"{self.name}: no {needle!r}:\n{self.text()[-3000:]}"
            )
            time.sleep(0.1)

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)

    def kill_leftovers(self) -> None:
        """Connector processes of this node's runs (a killed node leaves them)."""
        for pid in processes_mentioning(str(self.data_dir)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Cluster:
    """The API node and the workers; `db()` a plain connection to the shared database."""

    def __init__(self, base: Path, url: str, workers: int, **settings: Any) -> None:
        self.base, self.url = base, url
        self.local_root = base / "local"
        self.local_root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = {
            **os.environ,
            "SLUICE_DATABASE_URL": url,
            "SLUICE_SECRET_KEY": new_key(),
            "SLUICE_LOCAL_ROOT": str(self.local_root),
            "SLUICE_SYNC_RETRY_BACKOFF_SECONDS": "0",
            "SLUICE_WORKER_POLL_SECONDS": "0.2",
            "SLUICE_BATCH_RECORDS": "5",
            "SLUICE_LEASE_SECONDS": "3",
            "SLUICE_SCHEDULER_TICK_SECONDS": "0.2",
            "SLUICE_PORT": str(self.port),
        }
        env.update({f"SLUICE_{k.upper()}": str(v) for k, v in settings.items()})
        env.pop("SLUICE_TEST_STORE", None)
        self.env = env
        self.api = Node(base, "api", ["serve", "--no-worker"], env)
        self.workers = [
            Node(base, f"w{i}", ["worker", "--worker-id", f"w{i}"], env)
            for i in range(1, workers + 1)
        ]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.api.start()
        deadline = time.monotonic() + 60
        while True:
            assert self.api.running(), self.api.text()
            try:
                if httpx.get(f"{self.api_url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.1)
        for worker in self.workers:
            worker.start()
        for worker in self.workers:
            worker.wait_for("ready")

    def stop(self) -> None:
        for node in [*self.workers, self.api]:
            node.kill(signal.SIGKILL)
            node.kill_leftovers()

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return list(conn.execute(sql, params).fetchall())


@contextlib.contextmanager
def cluster(base: Path, url: str, workers: int, **settings: Any) -> Iterator[Cluster]:
    nodes = Cluster(base, url, workers, **settings)
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()
