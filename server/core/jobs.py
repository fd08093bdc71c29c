"""The rules about jobs, for every face: which connection may start a job and with which
streams, which job may be cancelled, (what a listing shows: core.job_history; state: core.state).

Functions take the store's `Database` and run inside the caller's one write transaction
(`await ctx.store.write(start_job, ...)`), so a rule and the write it guards cannot race.
They raise the core's typed errors (`server.core.errors`).
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from server.core.errors import Conflict, InvalidInput
from server.jobs.attempts import SYNC, TERMINAL, FailureSummary, JobType, cancelled_failure
from server.store import jobs as store
from server.store import leases


def _catalog(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return list((connection.get("syncCatalog") or {}).get("streams") or [])


def _show(stream: dict[str, Any]) -> str:
    namespace = stream.get("namespace")
    return f"'{namespace}.{stream['name']}'" if namespace else f"'{stream['name']}'"


def selected_streams(connection: dict[str, Any]) -> list[dict[str, Any]]:
    """The streams a sync of this connection moves: those selected in its syncCatalog.

    A stream whose configuration says nothing about `selected` counts as selected, as early
    clients never sent the field.
    """
    streams = []
    for entry in _catalog(connection):
        stream, config = entry.get("stream") or {}, entry.get("config") or {}
        if config.get("selected", True) and stream.get("name"):
            descriptor = {"name": stream["name"]}
            if stream.get("namespace"):
                descriptor["namespace"] = stream["namespace"]
            streams.append(descriptor)
    return streams


def known_streams(
    connection_id: str, connection: dict[str, Any], streams: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The streams, checked against the connection's catalog (InvalidInput at `streams[i]`
    for one it does not have), with the namespace filled in where the request left it out."""
    catalog = [
        (str((e.get("stream") or {}).get("name")), (e.get("stream") or {}).get("namespace") or None)
        for e in _catalog(connection)
    ]
    checked = []
    for index, stream in enumerate(streams):
        namespace = stream.get("namespace") or None
        found = [c for c in catalog if c[0] == stream["name"] and namespace in (None, c[1])]
        if not found:
            raise InvalidInput(
                f"Connection {connection_id} has no stream {_show(stream)} in its catalog",
                property_path=f"streams[{index}]",
                invalid_value=stream,
            )
        checked.append({"name": found[0][0], **({"namespace": found[0][1]} if found[0][1] else {})})
    return checked


def start_job(
    db: Database,
    connection_id: str,
    now: int,
    config_type: JobType = SYNC,
    streams: list[dict[str, Any]] | None = None,
) -> int:
    """Queue a job for the connection, with its first attempt; return the job id.

    Refused (Conflict, "A sync is already running") while another job of the connection is
    pending, running or incomplete, and (InvalidInput at `connectionId`) for a deprecated
    connection, which can never sync again.
    """
    status, connection = store.connection_facts(db, connection_id)
    if status == "deprecated":
        raise InvalidInput(
            f"Connection {connection_id} is deprecated (deleted) and cannot be synced or reset",
            property_path="connectionId",
            invalid_value=connection_id,
        )
    running = store.active_job(db, connection_id)
    if running is not None:
        raise Conflict(
            f"A sync is already running for connection {connection_id}: job {running.id} "
            f"is {running.status}. Wait for it to end or cancel it (jobs/cancel)."
        )
    if streams is not None:
        streams = known_streams(connection_id, connection, streams)
    enabled = selected_streams(connection)
    return store.insert_job(db, connection_id, now, config_type, streams, enabled)


def create_sync_job(db: Database, connection_id: str, now: int) -> int:
    """Queue a sync of the connection (API and scheduler); Conflict if one is active."""
    return start_job(db, connection_id, now, SYNC)


def cancel_job(db: Database, job_id: int, now: int) -> store.Job:
    """Cancel a job that is not running an attempt now (pending or incomplete) at once.

    A running job is returned unchanged: the worker stops its attempt and ends it. A job that
    already ended cannot be cancelled (Conflict).
    """
    store.lock_job(db, job_id)  # a worker elsewhere may be claiming it right now
    job = store.get_job(db, job_id)
    if job.status in TERMINAL:
        raise Conflict(
            f"Job {job_id} has already ended ({job.status}); only pending, running or "
            "incomplete jobs can be cancelled"
        )
    if job.status == "running":
        # For the worker running it, wherever it is: it reads the flag as it renews its lease.
        leases.request_cancel(db, job_id)
        return job
    store.cancel_waiting_job(
        db, job_id, FailureSummary(failures=[cancelled_failure()], partial_success=False), now
    )
    return store.get_job(db, job_id)
