"""Connector processes an attempt starts, remembered so that a crash leaves none behind.

The worker records each local connector process (its pid and start time) in the attempt's
row as it starts; the next start-up of a killed server kills what is left of those process
groups. One-shot runs (spec, check, discover) record theirs in a marker file of their run
directory (`runs/<command>-<id>/`), and the next start-up kills what is left of them and
removes the directories (their config.json holds secrets) with `remove_leftover_runs`.
Containers need none of this: they carry labels and are removed by label.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.runner import Runners
from server.runner.base import ConnectorImage, Runner, RunningConnector, RunRequest

log = logging.getLogger("sluice.connector_processes")

RUN_MARKER = ".sluice-process.json"  # in a one-shot run's directory: its connector's identity


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (index 0 is field 3, the state)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def process_identity(pid: int) -> dict[str, Any]:
    """The pid and its start time (clock ticks since boot): together they name one process,
    so a pid reused by the system after a crash is never mistaken for ours."""
    fields = _proc_stat(pid)
    return {"pid": pid, "start": int(fields[19]) if fields else 0}


def kill_process_groups(processes: list[dict[str, Any]]) -> int:
    """SIGKILL what is left of these connector process groups; the number of processes.

    Connectors run in their own session (process group id = the connector's pid), so their
    helper processes are found through the group even when the connector itself is gone.
    Only processes started no earlier than the recorded connector are touched.
    """
    groups = {int(p["pid"]): int(p.get("start", 0)) for p in processes if p.get("pid")}
    if not groups or not Path("/proc").is_dir():
        return 0
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(int(entry.name))
        if fields is None or len(fields) < 20:
            continue
        group, started = int(fields[2]), int(fields[19])
        if group in groups and started >= groups[group]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


class _Recorded:
    """A runner that reports the pid of every connector it starts."""

    def __init__(self, runner: Runner, on_start: Callable[[int], None]) -> None:
        self._runner = runner
        self._on_start = on_start

    def start(self, request: RunRequest) -> RunningConnector:
        running = self._runner.start(request)
        pid = getattr(running, "pid", None)
        if isinstance(pid, int):
            self._on_start(pid)
        return running


class AttemptRunners(Runners):
    """The server's runners, recording the local processes one attempt starts."""

    def __init__(self, base: Runners, on_start: Callable[[int], None]) -> None:
        super().__init__(base.process)
        self._base = base
        self._on_start = on_start

    def get(self, connector: ConnectorImage) -> Runner:
        return _Recorded(self._base.get(connector), self._on_start)

    def docker(self) -> Runner:
        return self._base.docker()


class _Marked:
    """A runner that writes the identity of the connector it starts into the run's directory
    (written whole or not at all: a marker is never half-read at start-up)."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def start(self, request: RunRequest) -> RunningConnector:
        running = self._runner.start(request)
        pid = getattr(running, "pid", None)
        if isinstance(pid, int):
            marker = request.job_dir / RUN_MARKER
            partial = marker.with_name(marker.name + ".part")
            partial.write_text(json.dumps(process_identity(pid)))
            partial.replace(marker)
        return running


def marked(runner: Runner) -> Runner:
    """`runner`, leaving a marker of each local process it starts (for one-shot runs)."""
    return _Marked(runner)


def remove_leftover_runs(runs_dir: Path) -> int:
    """Kill the connectors of one-shot runs a killed server left behind and remove their
    directories; the number of directories removed. Blocking: call it in a thread, at
    start-up before any run starts."""
    if not runs_dir.is_dir():
        return 0
    removed = 0
    for run in runs_dir.iterdir():
        if not run.is_dir() or run.is_symlink():
            run.unlink(missing_ok=True)
            continue
        try:
            identity = json.loads((run / RUN_MARKER).read_text())
        except (OSError, ValueError):
            identity = None  # a Docker run (its container goes by label), or none started
        if isinstance(identity, dict):
            kill_process_groups([identity])
        shutil.rmtree(run, ignore_errors=True)
        removed += 1
    if removed:
        log.warning("removed %d leftover connector runs in %s", removed, runs_dir)
    return removed
