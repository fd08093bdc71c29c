"""How a connector command runs: the contract both runners (Docker, local process) keep.

A run is blocking and thread-friendly on purpose: the sync relay reads and writes the pipes
from worker threads (measured ~2x faster than asyncio streams), and the async API handlers
call `anyio.to_thread.run_sync` around the short commands (spec, check, discover).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, Protocol

Command = Literal["spec", "check", "discover", "read", "write"]

# File names Sluice writes into a run's job directory, and the flag each is passed with.
FILE_FLAGS = {"config.json": "--config", "catalog.json": "--catalog", "state.json": "--state"}


@dataclass(frozen=True)
class ConnectorImage:
    """How to start one connector, taken from its source or destination definition."""

    name: str  # the definition's name, for messages
    runner: Literal["docker", "process"]
    docker_image: str  # "<dockerRepository>:<dockerImageTag>"
    command: tuple[str, ...] = ()  # the local program, for the process runner
    memory_limit: str | None = None  # Airbyte's resourceRequirements, e.g. "512Mi"
    cpu_limit: str | None = None  # e.g. "1" or "0.5"


@dataclass
class RunRequest:
    connector: ConnectorImage
    command: Command
    job_dir: Path  # created by the runner; the files below are written into it
    files: Mapping[str, bytes] = field(default_factory=dict)  # keys from FILE_FLAGS
    stdin: bool = False  # `write` reads messages on stdin
    log_path: Path | None = None  # the connector's stderr is appended here
    labels: Mapping[str, str] = field(default_factory=dict)  # e.g. job id, attempt


class ConnectorError(Exception):
    """A connector could not be started or ended badly; the message says why, for the log."""


class RunningConnector(Protocol):
    """A started connector. `stdout` yields its raw output bytes (one message per line)."""

    stdout: IO[bytes]
    stdin: IO[bytes] | None

    def wait(self, timeout: float | None = None) -> int:
        """Exit code; raises TimeoutError if it has not exited within `timeout` seconds."""
        ...

    def kill(self) -> None:
        """Stop it now (cancel, timeout); safe to call more than once or after exit."""
        ...


class Runner(Protocol):
    def start(self, request: RunRequest) -> RunningConnector: ...


def arguments(request: RunRequest, root: str) -> list[str]:
    """The connector's argv after its entrypoint: `read --config <root>/config.json ...`.

    `root` is where the job directory is seen by the connector (a container path for Docker).
    """
    args: list[str] = [request.command]
    for name, flag in FILE_FLAGS.items():
        if name in request.files:
            args += [flag, f"{root.rstrip('/')}/{name}"]
    return args
