"""`sluice logs JOB [--all] [--follow]`: an attempt's log lines as `jobs/get` returns them (the
last lines of each attempt, as many as the server's SLUICE_JOB_LOG_LINES), and following them
by polling until the job ends."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from server.remote.lookup import Caller
from server.remote.progress import TERMINAL

Json = dict[str, Any]


def attempt_logs(info: Json) -> list[tuple[int, str, list[str]]]:
    """(attempt id, its status, its log lines) for each attempt of a jobs/get reply."""
    found = []
    for item in info.get("attempts") or []:
        attempt = item.get("attempt") or {}
        lines = (item.get("logs") or {}).get("logLines") or []
        found.append(
            (int(attempt.get("id", 0)), str(attempt.get("status")), [str(x) for x in lines])
        )
    return found


def new_lines(before: list[str], now: list[str]) -> list[str]:
    """The lines of `now` not already in `before`. The server sends a window of the last lines,
    so once the log outgrows it the window slides: the new lines follow the longest tail of
    `before` that starts `now`."""
    if now[: len(before)] == before:
        return now[len(before) :]
    for k in range(min(len(before), len(now)), 0, -1):
        if before[-k:] == now[:k]:
            return now[k:]
    return now


def header(attempt_id: int, status: str) -> str:
    # Attempt ids count from 0 on the wire; people count from 1, as the server's log does.
    return f"--- attempt {attempt_id + 1} ({status}) ---"


def show(info: Json, every_attempt: bool, out: TextIO) -> None:
    logs = attempt_logs(info)
    chosen = logs if every_attempt else logs[-1:]
    for attempt_id, status, lines in chosen:
        if every_attempt:
            print(header(attempt_id, status), file=out)
        for line in lines:
            print(line, file=out)


def follow(
    client: Caller,
    job_id: int,
    every_attempt: bool,
    out: TextIO | None = None,
    poll_seconds: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Print the job's lines as they come until it ends; its final status."""
    out = out or sys.stdout
    seen: dict[int, list[str]] = {}
    first: int | None = None  # the first attempt followed: the last one at the start
    while True:
        info = client.call("jobs/get", {"id": job_id})
        logs = attempt_logs(info)
        if first is None:
            first = 0 if every_attempt or not logs else logs[-1][0]
        for attempt_id, status, lines in logs:
            if attempt_id < first:
                continue
            if attempt_id not in seen and (every_attempt or attempt_id > first):
                print(header(attempt_id, status), file=out)
            for line in new_lines(seen.get(attempt_id, []), lines):
                print(line, file=out)
            seen[attempt_id] = lines
        out.flush()
        status = str((info.get("job") or {}).get("status"))
        if status in TERMINAL:
            return status
        sleep(poll_seconds)
