"""Drive Sluice's public API with PyAirbyte 0.71.3's `CloudWorkspace` (airbyte-api 0.53.0).

Run inside a virtualenv holding `airbyte` (PyAirbyte), with SLUICE_URL pointing at a running
Sluice:

    SLUICE_URL=http://127.0.0.1:8000 python scripts/clients/pyairbyte_client.py

`CloudWorkspace(workspace_id, client_id, client_secret, api_root=<sluice>/api/public/v1)`, as for
a self-managed Airbyte: the SDK mints a token at api_root + /applications/token (form-encoded).
Then again with `bearer_token`. Each run: `connect` (GET the workspace), `list_connections`
(paginated, 100 a page) holding a connection made through the Configuration API, and
`get_connection(...).run_sync(wait=True)` (POST /jobs, GET /jobs/{id} every 2 s) to success.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from importlib.metadata import version
from typing import Any

import sluice_api as api

os.environ.setdefault("DO_NOT_TRACK", "1")  # PyAirbyte's telemetry would call out
warnings.simplefilter("ignore")

from airbyte.cloud import CloudWorkspace  # noqa: E402

RECORDS = 40


def flow(checks: api.Checks, mode: str, auth: dict[str, Any]) -> None:
    step, say = checks.step, checks.check
    name = f"pyairbyte_{mode}_{uuid.uuid4().hex[:6]}"
    connection_id = api.make_connection(name, records=RECORDS, streams=1)["connectionId"]
    workspace = CloudWorkspace(workspace_id=api.workspace_id(), api_root=api.public_url(), **auth)

    step(f"{mode}: connect", workspace.connect)
    say(f"{mode}: connect", True)
    listed = step(f"{mode}: list_connections", workspace.list_connections)
    ids = [c.connection_id for c in listed]
    say(f"{mode}: list_connections holds it", connection_id in ids, f"{len(ids)} connections")

    connection = workspace.get_connection(connection_id)
    result = step(f"{mode}: run_sync(wait=True)", lambda: connection.run_sync(wait=True))
    status = step(f"{mode}: job status", result.get_job_status)
    say(f"{mode}: sync succeeded", str(getattr(status, "value", status)) == "succeeded", status)
    say(f"{mode}: records synced", result.records_synced == RECORDS, result.records_synced)
    start = step(f"{mode}: start_time", lambda: result.start_time)
    say(f"{mode}: start_time parsed", start is not None, start)


def main() -> int:
    checks = api.Checks(
        f"PyAirbyte {version('airbyte')} CloudWorkspace (airbyte-api {version('airbyte-api')})"
    )
    client_id, client_secret = api.create_application(f"pyairbyte-{uuid.uuid4().hex[:6]}")
    for mode, auth in (
        ("client_credentials", lambda: {"client_id": client_id, "client_secret": client_secret}),
        ("bearer", lambda: {"bearer_token": api.mint_token(client_id, client_secret)}),
    ):
        started = time.monotonic()
        try:
            flow(checks, mode, auth())
        except api.Abort:
            pass
        except Exception as exc:  # a failure outside a step (e.g. minting the token)
            checks.check(f"{mode}: setup", False, f"{type(exc).__name__}: {exc}")
        print(f"  --  {mode} flow {time.monotonic() - started:.1f} s")
    return checks.done()


if __name__ == "__main__":
    raise SystemExit(main())
