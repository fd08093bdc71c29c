"""The `sluice` command.

On this machine's data directory (or SLUICE_DATABASE_URL's PostgreSQL): `sluice serve [--host H]
[--port P] [--data-dir D] [--no-worker]`, `sluice worker [--data-dir D] [--worker-id W]`,
`sluice settings`, `sluice applications create|list|delete`, `sluice api-keys
create|list|revoke`, `sluice secrets new-key|rotate`. As a client of a running server (its URL
and credentials from flags, SLUICE_URL / SLUICE_USERNAME / SLUICE_PASSWORD / SLUICE_TOKEN, or
a client.toml): `sluice connections`, `sync`, `jobs`, `logs`, `cancel`, and pipelines as code,
`sluice apply`, `diff`, `export`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import msgspec

from server import roles, secret_commands, serving
from server.app import create_app
from server.auth import commands as auth_commands
from server.auth.exposure import exposure_problem
from server.edge import host_rules
from server.remote import commands as remote_commands
from server.remote.pipelines import cli as pipeline_commands
from server.settings import Settings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sluice", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API server")
    serve.add_argument("--host", help="bind address (SLUICE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (SLUICE_PORT, default 8000)")
    serve.add_argument("--data-dir", help="data directory (SLUICE_DATA_DIR, default ./sluice-data)")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="the API only: jobs and schedules run in `sluice worker` processes on the same "
        "PostgreSQL (SLUICE_RUN_WORKER=false)",
    )
    worker = commands.add_parser(
        "worker", help="run sync jobs and the scheduler, without HTTP (on a shared PostgreSQL)"
    )
    worker.add_argument("--data-dir", help="data directory (SLUICE_DATA_DIR)")
    worker.add_argument("--worker-id", help="this worker's name (SLUICE_WORKER_ID)")
    commands.add_parser("settings", help="print every setting with its default and help")
    auth_commands.add_parsers(commands)
    secret_commands.add_parsers(commands)
    remote_commands.add_parsers(commands)
    pipeline_commands.add_parsers(commands)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command in remote_commands.COMMANDS:  # clients of a server: no settings
        return remote_commands.run(args)
    if args.command in pipeline_commands.COMMANDS:  # pipelines as code: clients too
        return pipeline_commands.run(args)
    if args.command == "settings":
        for name, default, text in Settings.describe():
            print(f"{name:32} {default:24} {text}")
        return 0
    try:
        settings = Settings.from_env(
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            data_dir=args.data_dir,
            run_worker=False if getattr(args, "no_worker", False) else None,
            worker_id=getattr(args, "worker_id", None),
        )
        host_rules(settings)  # a malformed SLUICE_ALLOWED_HOSTS fails here, not per request
    except (msgspec.ValidationError, ValueError) as exc:
        print(f"sluice: invalid setting: {exc}", file=sys.stderr)
        return 2
    if args.command in auth_commands.COMMANDS:
        return auth_commands.run(args, settings)
    if args.command in secret_commands.COMMANDS:
        return secret_commands.run(args, settings, os.environ)
    problem = exposure_problem(settings) or secret_commands.key_problem(settings)
    if problem is not None:
        print(f"sluice: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "worker":
        return roles.run_worker(settings)
    # uvicorn with the header and body read timeouts it lacks (server/serving.py).
    return 0 if serving.serve(create_app(settings), settings) else 3
