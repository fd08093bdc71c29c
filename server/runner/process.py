"""ProcessRunner: a connector installed as a local program (no Docker needed).

For example the `source-faker` that `pip install airbyte-source-faker` provides, or one of
Sluice's own connectors. The program runs in its own process group (so a connector's worker
processes die with it), in the run's job directory, with stderr appended to the run's log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from typing import IO, BinaryIO

from server.runner.allowed import RunRules
from server.runner.base import ConnectorError, RunRequest, arguments

PIPE_BUFFER = 1 << 20  # 1 MiB reads: measured ~2x the relay throughput of small buffers
KILL_GRACE_SECONDS = 3.0


def write_job_files(request: RunRequest) -> None:
    request.job_dir.mkdir(parents=True, exist_ok=True)
    for name, content in request.files.items():
        path = request.job_dir / name
        path.write_bytes(content)
        path.chmod(0o600)  # configurations hold secrets


class LocalProcess:
    def __init__(self, proc: subprocess.Popen[bytes], log: BinaryIO | None) -> None:
        self._proc = proc
        self._log = log
        assert proc.stdout is not None
        self.stdout: IO[bytes] = proc.stdout
        self.stdin: IO[bytes] | None = proc.stdin

    @property
    def pid(self) -> int:
        return self._proc.pid

    def wait(self, timeout: float | None = None) -> int:
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"connector still running after {timeout} s") from None
        self._close_log()
        return code

    def kill(self) -> None:
        """SIGTERM to the process group, then SIGKILL after a short grace period."""
        if self._proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self._proc.wait(KILL_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._proc.wait()
        if self.stdin is not None:  # nobody writes to a stopped connector
            with contextlib.suppress(OSError, ValueError):
                self.stdin.close()
        self._close_log()

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, sig)

    def _close_log(self) -> None:
        if self._log is not None and not self._log.closed:
            self._log.close()


class ProcessRunner:
    def __init__(
        self,
        search_path: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
        rules: RunRules | None = None,
    ) -> None:
        # Where programs are looked up (the connector directories, then the built-in
        # connectors beside the server, never $PATH) and what may run: one rule, shared with
        # the definition APIs (server.runner.allowed).
        self.rules = rules if rules is not None else RunRules(search_path)
        # Added to the connector's environment, e.g. SLUICE_LOCAL_ROOT: where `/local/...`
        # paths live for a connector that runs outside a container.
        self.environment = dict(environment or {})

    def resolve(self, program: str) -> str | None:
        return self.rules.find_program(program)

    def start(self, request: RunRequest) -> LocalProcess:
        command = list(request.connector.command)
        if not command:
            raise ConnectorError(
                f"Connector '{request.connector.name}' has no local command to run; set the "
                f"definition's `command`, or use the docker runner"
            )
        # Checked again here: a definition stored before the rule existed must not run either.
        refusal = self.rules.command_refusal(command)
        program = self.resolve(command[0]) if refusal is None else None
        if program is None:
            raise ConnectorError(
                f"Connector '{request.connector.name}': {refusal or 'its program is gone'}"
            )
        # The connector runs in its job directory: every path it is given must be absolute.
        request = dataclasses.replace(
            request,
            job_dir=request.job_dir.absolute(),
            log_path=None if request.log_path is None else request.log_path.absolute(),
        )
        write_job_files(request)
        log = None
        if request.log_path is not None:
            request.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = request.log_path.open("ab")
        argv = [program, *command[1:], *arguments(request, str(request.job_dir))]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if request.stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log if log is not None else subprocess.DEVNULL,
                cwd=request.job_dir,
                env={**os.environ, **self.environment} if self.environment else None,
                bufsize=PIPE_BUFFER,
                start_new_session=True,
            )
        except OSError as exc:
            if log is not None:
                log.close()
            raise ConnectorError(f"Could not start '{program}': {exc}") from exc
        return LocalProcess(proc, log)
