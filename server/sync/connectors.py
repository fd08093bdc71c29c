"""The attempt's two connectors: started through the runners, reaped, stopped; which exited
how, and which were stopped on purpose (their exit code is no failure of theirs)."""

from __future__ import annotations

import contextlib
import fcntl
import time
from typing import Any, Literal

from server.runner import Runners
from server.runner.base import Command, ConnectorImage, RunningConnector, RunRequest
from server.sync.attempt_log import AttemptLog
from server.sync.plan import AttemptPlan

Role = Literal["source", "destination"]
REAP_WAIT_SECONDS = 0.5  # a connector whose output ended is normally gone by then
POLL_SECONDS = 0.05  # "has it exited?" (the Docker SDK refuses a timeout of 0)
EXIT_WAIT_SECONDS = 30.0  # after a kill
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
PIPE_BYTES = 1 << 20


def describe(image: ConnectorImage) -> str:
    """What runs, for the log (never its configuration)."""
    how = image.docker_image if image.runner == "docker" else " ".join(image.command)
    return f"{image.name} ({image.runner}: {how})"


def _enlarge_pipe(stream: Any) -> None:
    """1 MiB pipes instead of 64 KiB: fewer, larger reads and writes (Linux only)."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        fcntl.fcntl(stream.fileno(), F_SETPIPE_SZ, PIPE_BYTES)


class Connectors:
    def __init__(self, plan: AttemptPlan, runners: Runners, log: AttemptLog) -> None:
        self.plan = plan
        self.runners = runners
        self.log = log
        self.running: dict[Role, RunningConnector] = {}
        self.codes: dict[Role, int] = {}
        self.exited: set[Role] = set()
        self.killed: set[Role] = set()  # stopped on purpose

    def get(self, role: Role) -> RunningConnector | None:
        return self.running.get(role)

    def launch(
        self, role: Role, image: ConnectorImage, command: Command, files: dict[str, bytes]
    ) -> RunningConnector:
        """Start one connector (raises ConnectorError if it cannot start)."""
        plan = self.plan
        request = RunRequest(
            connector=image,
            command=command,
            job_dir=plan.job_dir / role,  # each its own: both take a config.json
            files=files,
            stdin=command == "write",
            log_path=plan.job_dir / f"{role}.stderr.log",
            labels={"job_id": str(plan.job_id), "attempt": str(plan.attempt_number), "role": role},
        )
        connector = self.runners.get(image).start(request)
        self.running[role] = connector
        _enlarge_pipe(connector.stdout)
        if connector.stdin is not None:
            _enlarge_pipe(connector.stdin)
        return connector

    def reap(self, role: Role, since: float, grace: float) -> bool:
        """Collect the exit code of a connector whose output ended at `since`. True if it had
        to be stopped: it had not exited `grace` seconds later."""
        connector = self.running.get(role)
        if connector is None or role in self.exited:
            return False
        wait = min(REAP_WAIT_SECONDS, max(POLL_SECONDS, since + grace - time.monotonic()))
        try:
            self.codes[role] = connector.wait(wait)
        except TimeoutError:
            if time.monotonic() - since < grace:
                return False
            self.stop(role)
            return True
        self.exited.add(role)
        return False

    def stop(self, *roles: Role) -> None:
        """Kill and reap the given connectors that are still running: the source first, so
        that the relay can still drain it into the destination while it dies (a container
        killed while the relay is blocked writing to it can leave that write hanging)."""
        for role in ("source", "destination"):
            if role in roles and role in self.running and role not in self.exited:
                self._stop(role, self.running[role])

    def _stop(self, role: Role, connector: RunningConnector) -> None:
        try:
            try:
                self.codes[role] = connector.wait(POLL_SECONDS)
                return  # it had exited already
            except TimeoutError:
                pass
            except Exception as exc:  # whatever the runner says, it gets killed
                self.log.write("replication", "WARN", f"Waiting for the {role}: {exc!r}")
            self.killed.add(role)
            connector.kill()
            with contextlib.suppress(TimeoutError):
                self.codes[role] = connector.wait(EXIT_WAIT_SECONDS)
        except Exception as exc:  # a runner error must not leave the other one running
            self.log.write("replication", "WARN", f"Stopping the {role} failed: {exc!r}")
        finally:
            self.exited.add(role)

    def close_outputs(self) -> None:
        """Close our ends of their pipes (once no thread uses them)."""
        for connector in self.running.values():
            for pipe in (connector.stdout, connector.stdin):
                if pipe is not None:
                    with contextlib.suppress(OSError, ValueError):
                        pipe.close()
