"""A job as the commands show it: its totals and per-stream counts read from a `jobs/get` (or
`jobs/list` item) reply, the live display `sluice sync --wait` redraws every second, and the
one-line summary printed when the job ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from server.remote.render import human_bytes, human_count, human_seconds

TERMINAL = ("succeeded", "failed", "cancelled")
Json = dict[str, Any]


@dataclass(frozen=True)
class StreamCounts:
    name: str
    records: int  # read from the source (emitted)
    bytes: int
    committed: int  # records the destination has committed


@dataclass(frozen=True)
class Progress:
    job_id: int
    status: str
    attempts: int  # how many attempts so far
    attempt_status: str | None
    records: int
    bytes: int
    committed: int
    streams: list[StreamCounts] = field(default_factory=list)
    failure: str | None = None

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _attempt(item: Json) -> Json:
    """jobs/get wraps each attempt as {attempt, logs}; jobs/list sends it flat."""
    inner = item.get("attempt")
    return inner if isinstance(inner, dict) else item


def from_job_info(info: Json) -> Progress:
    """The job's totals (over every attempt, as the server aggregates them) and the per-stream
    counts of its latest attempt, which the server updates while it runs."""
    job = info.get("job") or {}
    attempts = [_attempt(a) for a in info.get("attempts") or []]
    last = attempts[-1] if attempts else {}
    totals = job.get("aggregatedStats") or {}
    streams = [
        StreamCounts(
            name=_stream_name(s),
            records=_int((s.get("stats") or {}).get("recordsEmitted")),
            bytes=_int((s.get("stats") or {}).get("bytesEmitted")),
            committed=_int((s.get("stats") or {}).get("recordsCommitted")),
        )
        for s in last.get("streamStats") or []
    ]
    return Progress(
        job_id=_int(job.get("id")),
        status=str(job.get("status") or "pending"),
        attempts=len(attempts),
        attempt_status=last.get("status"),
        records=_int(totals.get("recordsEmitted")),
        bytes=_int(totals.get("bytesEmitted")),
        committed=_int(totals.get("recordsCommitted")),
        streams=streams,
        failure=failure_message(attempts),
    )


def _stream_name(stats: Json) -> str:
    name = str(stats.get("streamName") or "?")
    namespace = stats.get("streamNamespace")
    return f"{namespace}.{name}" if namespace else name


def failure_message(attempts: list[Json]) -> str | None:
    """The latest attempt's first failure reason, as the server reported it."""
    for attempt in reversed(attempts):
        failures = (attempt.get("failureSummary") or {}).get("failures") or []
        for failure in failures:
            text = failure.get("externalMessage") or failure.get("internalMessage")
            if text:
                return str(text)
    return None


def rate(records: int, elapsed: float) -> float:
    return records / elapsed if elapsed > 0 else 0.0


def display(progress: Progress, connection: str, elapsed: float) -> RenderableType:
    """The live frame: one status line and a table of the streams."""
    head = Text.assemble(
        (f"job {progress.job_id}", "bold"),
        f"  {connection}  ",
        (progress.status, _style(progress.status)),
        f"  attempt {max(progress.attempts, 1)}",
    )
    totals = Text(
        f"{human_count(progress.records)} records read, {human_count(progress.committed)} "
        f"committed, {human_bytes(progress.bytes)}  "
        f"{human_count(rate(progress.records, elapsed))} records/s  "
        f"{human_bytes(rate(progress.bytes, elapsed))}/s  elapsed {human_seconds(elapsed)}"
    )
    streams = Table(box=None, padding=(0, 2), header_style="bold")
    streams.add_column("stream")
    for name in ("records", "bytes", "committed"):
        streams.add_column(name, justify="right")
    for s in progress.streams:
        streams.add_row(
            s.name, human_count(s.records), human_bytes(s.bytes), human_count(s.committed)
        )
    return Group(head, totals, streams) if progress.streams else Group(head, totals)


def _style(status: str) -> str:
    return {"succeeded": "green", "failed": "red", "cancelled": "yellow"}.get(status, "cyan")


def summary(progress: Progress, elapsed: float) -> str:
    """One line a person or a script reads at the end."""
    line = (
        f"job {progress.job_id} {progress.status}: {progress.records} records read, "
        f"{progress.committed} committed, {human_bytes(progress.bytes)} in "
        f"{human_seconds(elapsed)} ({human_count(rate(progress.records, elapsed))} records/s), "
        f"{progress.attempts} attempt{'s' if progress.attempts != 1 else ''}"
    )
    if progress.status != "succeeded" and progress.failure:
        line += f": {progress.failure}"
    return line
