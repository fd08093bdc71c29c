"""`sluice secrets new-key` and `sluice secrets rotate`: the key that seals stored secrets
(see `server/store/secret_box.py`), managed on the data directory's database directly, as
`sluice applications` is (whoever can read the data directory holds the key file anyway).

`rotate` without `--new-key` writes a new key into `<data_dir>/secret.key`; with `--new-key`
the new key comes from the environment (`SLUICE_NEW_SECRET_KEY`), never from the command line,
where other users could read it in the process list.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Mapping
from typing import Any

import psycopg

from server.settings import Settings
from server.store import secret_box
from server.store.db import open_db

COMMANDS = ("secrets",)
NEW_KEY_VARIABLE = "SLUICE_NEW_SECRET_KEY"


def add_parsers(commands: Any) -> None:
    data_dir = {"help": "data directory (SLUICE_DATA_DIR, default ./sluice-data)"}
    secrets = commands.add_parser("secrets", help="the key that encrypts stored secrets")
    actions = secrets.add_subparsers(dest="action", required=True)
    actions.add_parser("new-key", help="print a new key (for SLUICE_SECRET_KEY)").add_argument(
        "--data-dir", **data_dir
    )
    rotate = actions.add_parser(
        "rotate", help="encrypt every stored secret with a new key, in one transaction"
    )
    rotate.add_argument(
        "--new-key",
        action="store_true",
        help=f"take the new key from {NEW_KEY_VARIABLE} (else one is generated into the key "
        "file; required when SLUICE_SECRET_KEY is set)",
    )
    rotate.add_argument("--data-dir", **data_dir)


def run(args: argparse.Namespace, settings: Settings, environ: Mapping[str, str]) -> int:
    if args.action == "new-key":
        print(secret_box.new_key())
        return 0
    new = None
    if args.new_key:
        new = environ.get(NEW_KEY_VARIABLE, "")
        if not new:
            print(
                f"sluice: --new-key takes the new key from {NEW_KEY_VARIABLE}, which is empty",
                file=sys.stderr,
            )
            return 2
    try:
        db = open_db(settings.database, settings.secret_key, settings.data_path)
    except secret_box.SecretKeyError as exc:
        print(f"sluice: {exc.message}", file=sys.stderr)
        return 2
    try:
        secret_box.rotate(db, new)
    except secret_box.SecretKeyError as exc:
        print(f"sluice: {exc.message}", file=sys.stderr)
        return 2
    except (sqlite3.OperationalError, psycopg.OperationalError) as exc:  # e.g. a write lock
        print(f"sluice: the secrets were not rotated: {exc}", file=sys.stderr)
        return 1
    finally:
        db.conn.close()
    if settings.secret_key:
        print(f"secrets rotated: set SLUICE_SECRET_KEY to the value of {NEW_KEY_VARIABLE} now")
    else:
        print(f"secrets rotated: the new key is in {settings.data_path / secret_box.KEY_FILE}")
    return 0


def key_problem(settings: Settings) -> str | None:
    """Why the server must not start with these settings' secret key, or None: checked before
    serving, so that a wrong key is one clear line rather than a failed lifespan's traceback."""
    try:
        open_db(settings.database, settings.secret_key, settings.data_path).conn.close()
    except secret_box.SecretKeyError as exc:
        return exc.message
    except psycopg.OperationalError as exc:  # SLUICE_DATABASE_URL: the server is not there
        return f"cannot open the database of SLUICE_DATABASE_URL: {str(exc).strip()}"
    return None
