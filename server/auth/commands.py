"""`sluice applications ...` and `sluice api-keys ...`: credentials managed on the data
directory's database directly.

Directly, not over HTTP: whoever can read the data directory already holds everything the
server guards (and can set its password), so no credential is needed to make the first ones, a
server need not be running, and there is no password to pass on the command line. SQLite's
locking makes this safe beside a running server.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from server.auth import credentials
from server.core.errors import DomainError
from server.errors import ApiError
from server.settings import Settings
from server.store.db import Store, open_db

COMMANDS = ("applications", "api-keys")
DAY = 86_400


def add_parsers(commands: Any) -> None:
    data_dir = {"help": "data directory (SLUICE_DATA_DIR, default ./sluice-data)"}
    apps = commands.add_parser("applications", help="create, list or delete applications")
    apps_do = apps.add_subparsers(dest="action", required=True)
    create = apps_do.add_parser("create", help="create one; prints its client id and secret")
    create.add_argument("name")
    create.add_argument("--workspace", help="scope its tokens to this workspace id")
    create.add_argument("--data-dir", **data_dir)
    apps_do.add_parser("list", help="list them (secrets are never shown again)").add_argument(
        "--data-dir", **data_dir
    )
    delete = apps_do.add_parser("delete", help="delete one; its tokens stop working")
    delete.add_argument("id")
    delete.add_argument("--data-dir", **data_dir)

    keys = commands.add_parser("api-keys", help="create, list or revoke API keys")
    keys_do = keys.add_subparsers(dest="action", required=True)
    create = keys_do.add_parser("create", help="create one; prints the key (shown once)")
    create.add_argument("name")
    create.add_argument("--expires-in", type=float, metavar="DAYS", help="expire after DAYS")
    create.add_argument("--workspace", help="scope it to this workspace id")
    create.add_argument("--data-dir", **data_dir)
    keys_do.add_parser("list", help="list them (without their values)").add_argument(
        "--data-dir", **data_dir
    )
    revoke = keys_do.add_parser("revoke", help="revoke one; it stops working at once")
    revoke.add_argument("id")
    revoke.add_argument("--data-dir", **data_dir)


def run(args: argparse.Namespace, settings: Settings) -> int:
    store = Store(open_db(settings.database, key_dir=settings.data_path))
    now = int(time.time())
    try:
        if args.command == "applications":
            _applications(args, store, now)
        else:
            _api_keys(args, store, now)
    except (ApiError, DomainError) as exc:  # the store's NotFound is the core's
        print(f"sluice: {exc.message}")
        return 1
    finally:
        store.close()
    return 0


def _applications(args: argparse.Namespace, store: Store, now: int) -> None:
    if args.action == "create":
        app = store.write_sync(credentials.create_application, args.name, args.workspace, now)
        print(f"application {app.id} ({app.name})")
        print(f"client id:     {app.client_id}")
        print(f"client secret: {app.client_secret}   (shown once: keep it now)")
    elif args.action == "list":
        for app in store.read_sync(credentials.list_applications):
            scope = f"workspace {app.workspace_id}" if app.workspace_id else "all workspaces"
            print(f"{app.id}  {app.client_id}  {app.name}  ({scope})")
    else:
        from server.store.applications import delete_application

        store.write_sync(delete_application, args.id)
        print(f"deleted application {args.id}")


def _api_keys(args: argparse.Namespace, store: Store, now: int) -> None:
    if args.action == "create":
        expires = now + int(args.expires_in * DAY) if args.expires_in is not None else None
        key = store.write_sync(credentials.create_api_key, args.name, args.workspace, expires, now)
        print(f"API key {key.api_key_id} ({key.name})")
        print(f"key: {key.key}   (shown once: keep it now)")
    elif args.action == "list":
        for row in store.read_sync(credentials.list_api_keys):
            state = "revoked" if row.revoked_at else "active"
            scope = f"workspace {row.workspace_id}" if row.workspace_id else "all workspaces"
            print(f"{row.api_key_id}  {row.prefix}...  {row.name}  {state}  ({scope})")
    else:
        revoked = store.write_sync(credentials.revoke_api_key, args.id, now)
        print(f"revoked API key {revoked.api_key_id}")
