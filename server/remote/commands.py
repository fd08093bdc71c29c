"""`sluice connections`, `sluice sync`, `sluice jobs`, `sluice logs`, `sluice cancel`: a
command line that is a client of a running server's HTTP API (server/remote/client.py says
where the server is and which credentials are sent).

Tables are drawn for a terminal and printed as tab-separated lines (a header, raw numbers, UTC
times) when stdout is not one, so scripts can read them; `sync --wait` redraws a progress
display every second at a terminal and prints only its summary line otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live

from server.remote import client as remote
from server.remote import logs, lookup
from server.remote.progress import TERMINAL, Progress, display, from_job_info, summary
from server.remote.render import Column, interactive, table

COMMANDS = ("connections", "sync", "jobs", "logs", "cancel")
OK, FAILED, USAGE, CANCELLED, UNREACHABLE = 0, 1, 2, 3, 4
INTERRUPTED = 130  # as a shell reports Ctrl-C
POLL_SECONDS = 1.0
EXIT_CODES = """exit codes:
  0  done (sync --wait, logs --follow: the job succeeded)
  1  the job failed (or the server failed the call)
  2  bad usage or input: an unknown name, a request the server refused
  3  the job was cancelled
  4  the server is unreachable, or refused the credentials"""
JOB_TYPES = ["sync", "reset_connection", "refresh", "clear"]
Json = dict[str, Any]


def add_parsers(commands: Any) -> None:
    def add(name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(
            name,
            help=text,
            description=text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return parser

    def workspace(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--workspace", metavar="NAME", help="only this workspace (name or id)")

    p = add("connections", "list the connections, with their last job's status")
    workspace(p)
    remote.add_arguments(p)

    p = add("sync", "start a sync of a connection; --wait shows its progress until it ends")
    p.add_argument("connection", metavar="CONNECTION", help="its name or id")
    p.add_argument("--wait", action="store_true", help="follow the job; exit with its outcome")
    workspace(p)
    remote.add_arguments(p)

    p = add("jobs", "list the latest jobs, of one connection or of all")
    p.add_argument("connection", metavar="CONNECTION", nargs="?", help="its name or id")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    workspace(p)
    remote.add_arguments(p)

    p = add("logs", "print a job's log: its last attempt's, or every attempt's with --all")
    p.add_argument("job", metavar="JOB", type=int, help="the job id")
    p.add_argument("--all", action="store_true", help="every attempt's log, each under a header")
    p.add_argument(
        "--follow", action="store_true", help="keep printing new lines until the job ends"
    )
    remote.add_arguments(p)

    p = add("cancel", "cancel a job (a running one stops within seconds)")
    p.add_argument("job", metavar="JOB", type=int, help="the job id")
    remote.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    try:
        with remote.from_args(args) as client:
            return _COMMANDS[args.command](client, args, out)
    except BrokenPipeError:  # `sluice jobs | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return FAILED
    except lookup.NotFound as exc:
        print(f"sluice: {exc}", file=err)
        return USAGE
    except remote.RemoteError as exc:
        print(f"sluice: {exc.message}", file=err)
        for problem in exc.details.get("validationErrors") or []:
            print(f"  {problem.get('propertyPath')}: {problem.get('message')}", file=err)
        if exc.unreachable or exc.auth:
            return UNREACHABLE
        return USAGE if 400 <= exc.status < 500 else FAILED


def outcome(status: str) -> int:
    return {"succeeded": OK, "cancelled": CANCELLED}.get(status, FAILED)


def _connections(client: remote.Client, args: argparse.Namespace, out: TextIO) -> int:
    found = lookup.connections(client, args.workspace)
    several = len({ws.id for ws, _ in found}) > 1
    columns = [
        Column("name"),
        Column("id", whole=True),
        Column("source -> destination"),
        Column("status"),
        Column("schedule"),
        Column("last job"),
    ]
    rows: list[list[Any]] = []
    for ws, c in found:
        source = (c.get("source") or {}).get("name", "?")
        destination = (c.get("destination") or {}).get("name", "?")
        row = [
            c.get("name"),
            c.get("connectionId"),
            f"{source} -> {destination}",
            c.get("status"),
            schedule(c),
            c.get("latestSyncJobStatus"),
        ]
        rows.append(([ws.name] if several else []) + row)
    table(([Column("workspace")] if several else []) + columns, rows, out)
    return OK


def schedule(connection: Json) -> str:
    kind = connection.get("scheduleType") or "manual"
    data = connection.get("scheduleData") or {}
    if kind == "basic" and data.get("basicSchedule"):
        basic = data["basicSchedule"]
        return f"every {basic.get('units')} {basic.get('timeUnit')}"
    if kind == "cron" and data.get("cron"):
        cron = data["cron"]
        zone = cron.get("cronTimeZone")
        return f"cron {cron.get('cronExpression')}" + (f" ({zone})" if zone else "")
    return str(kind)


def _sync(client: remote.Client, args: argparse.Namespace, out: TextIO) -> int:
    connection = lookup.connection(client, args.connection, args.workspace)
    name = str(connection.get("name") or connection["connectionId"])
    started = time.monotonic()
    info = client.call("connections/sync", {"connectionId": connection["connectionId"]})
    job_id = int(info["job"]["id"])
    if not args.wait:
        print(
            f"job {job_id} started ({name}): `sluice logs {job_id} --follow` follows it", file=out
        )
        return OK
    try:
        progress = _watch(client, info, name, started, out)
    except KeyboardInterrupt:
        print(f"\njob {job_id} goes on; `sluice cancel {job_id}` stops it", file=sys.stderr)
        return INTERRUPTED
    print(summary(progress, time.monotonic() - started), file=out)
    return outcome(progress.status)


def _watch(client: remote.Client, info: Json, name: str, started: float, out: TextIO) -> Progress:
    """Poll jobs/get every second until the job ends; at a terminal, redraw the display."""
    progress = from_job_info(info)
    if not interactive(out):
        print(f"job {progress.job_id} started ({name})", file=out)
        out.flush()
        while not progress.ended:
            time.sleep(POLL_SECONDS)
            progress = from_job_info(client.call("jobs/get", {"id": progress.job_id}))
        return progress
    console = Console(file=out)
    with Live(
        display(progress, name, 0.0), console=console, auto_refresh=False, transient=False
    ) as live:
        while not progress.ended:
            time.sleep(POLL_SECONDS)
            progress = from_job_info(client.call("jobs/get", {"id": progress.job_id}))
            live.update(display(progress, name, time.monotonic() - started), refresh=True)
    return progress


def _jobs(client: remote.Client, args: argparse.Namespace, out: TextIO) -> int:
    body: Json = {
        "configTypes": JOB_TYPES,
        "pagination": {"pageSize": max(args.limit, 1)},
        "orderByField": "createdAt",
        "orderByMethod": "DESC",
    }
    names: dict[str, str] = {}
    if args.connection:
        body["configId"] = lookup.connection(client, args.connection, args.workspace)[
            "connectionId"
        ]
    else:
        names = {
            str(c["connectionId"]): str(c.get("name"))
            for _, c in lookup.connections(client, args.workspace)
        }
    reply = client.call("jobs/list", body)
    now = time.time()
    rows: list[list[Any]] = []
    for item in reply.get("jobs") or []:
        job = item.get("job") or {}
        if not args.connection and args.workspace and job.get("configId") not in names:
            continue  # another workspace's, when --workspace chose one
        start = job.get("startedAt") or None
        end = job.get("updatedAt") if job.get("status") in TERMINAL else now
        stats = job.get("aggregatedStats") or {}
        row = [
            job.get("id"),
            job.get("configType"),
            job.get("status"),
            start,
            float(end - start) if start and end else None,
            stats.get("recordsCommitted"),
            stats.get("bytesCommitted"),
        ]
        rows.append(row if args.connection else [names.get(str(job.get("configId")), "?"), *row])
    columns = [
        Column("id"),
        Column("type"),
        Column("status"),
        Column("started", "time"),
        Column("duration", "seconds"),
        Column("records", "count"),
        Column("bytes", "bytes"),
    ]
    table(columns if args.connection else [Column("connection"), *columns], rows, out)
    return OK


def _logs(client: remote.Client, args: argparse.Namespace, out: TextIO) -> int:
    if args.follow:
        return outcome(logs.follow(client, args.job, args.all, out, POLL_SECONDS))
    logs.show(client.call("jobs/get", {"id": args.job}), args.all, out)
    return OK


def _cancel(client: remote.Client, args: argparse.Namespace, out: TextIO) -> int:
    info = client.call("jobs/cancel", {"id": args.job})
    status = (info.get("job") or {}).get("status")
    if status == "cancelled":
        print(f"job {args.job} cancelled", file=out)
    else:
        print(f"job {args.job} is still {status}: its connectors are being stopped", file=out)
    return OK


_COMMANDS = {
    "connections": _connections,
    "sync": _sync,
    "jobs": _jobs,
    "logs": _logs,
    "cancel": _cancel,
}
