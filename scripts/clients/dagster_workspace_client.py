"""Drive Sluice's public API with dagster-airbyte 0.29.27's `AirbyteWorkspace`.

Run inside a virtualenv holding dagster-airbyte, with SLUICE_URL pointing at a running Sluice:

    SLUICE_URL=http://127.0.0.1:8000 python scripts/clients/dagster_workspace_client.py

`AirbyteWorkspace` reads the public API (`rest_api_base_url`: workspaces, connections,
destinations, jobs) and also the Configuration API (`configuration_api_base_url`:
connections/get) with the same credential. It runs twice: with client credentials (an
application's; dagster posts them as JSON without a grant type to .../applications/token) and
with Basic (the admin's username and password). Each run: `load_airbyte_asset_specs` for a
connection made through the Configuration API, then `build_airbyte_assets_definitions`
materialized (sync_and_poll: jobs listed, a job created, polled to success).
"""

from __future__ import annotations

import time
import uuid
import warnings
from importlib.metadata import version
from typing import Any

import sluice_api as api

warnings.simplefilter("ignore")  # dagster marks the workspace API as beta

from dagster import materialize  # noqa: E402
from dagster_airbyte import (  # noqa: E402
    AirbyteWorkspace,
    build_airbyte_assets_definitions,
    load_airbyte_asset_specs,
)


def flow(checks: api.Checks, mode: str, auth: dict[str, Any]) -> None:
    step, say = checks.step, checks.check
    name = f"dagster_ws_{mode}_{uuid.uuid4().hex[:6]}"
    streams = 2
    api.make_connection(name, records=30, streams=streams)
    workspace = AirbyteWorkspace(
        workspace_id=api.workspace_id(),
        rest_api_base_url=api.public_url(),
        configuration_api_base_url=f"{api.base_url()}/api/v1",
        poll_interval=1,
        request_max_retries=0,
        **auth,
    )

    def ours(connection: Any) -> bool:
        # The server is shared with the other drivers: only this run's connection.
        return bool(connection.name == name)

    specs = step(
        f"{mode}: load_airbyte_asset_specs",
        lambda: load_airbyte_asset_specs(workspace, connection_selector_fn=ours),
    )
    keys = sorted(spec.key.to_user_string() for spec in specs)
    say(f"{mode}: one asset per stream", len(keys) == streams, keys)

    assets = step(
        f"{mode}: build_airbyte_assets_definitions",
        lambda: build_airbyte_assets_definitions(workspace=workspace, connection_selector_fn=ours),
    )
    result = step(
        f"{mode}: materialize", lambda: materialize(assets, resources={"airbyte": workspace})
    )
    materialized = sorted(
        event.asset_key.to_user_string()
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None
    )
    say(f"{mode}: materialize succeeded", result.success)
    say(f"{mode}: every asset materialized", materialized == keys, materialized)


def main() -> int:
    checks = api.Checks(f"dagster-airbyte {version('dagster-airbyte')} AirbyteWorkspace")
    client_id, client_secret = api.create_application(f"dagster-{uuid.uuid4().hex[:6]}")
    for mode, auth in (
        ("client_credentials", {"client_id": client_id, "client_secret": client_secret}),
        ("basic", {"username": api.USERNAME, "password": api.PASSWORD}),
    ):
        started = time.monotonic()
        try:
            flow(checks, mode, auth)
        except api.Abort:
            pass
        except Exception as exc:  # a failure outside a step (e.g. the set-up calls)
            checks.check(f"{mode}: setup", False, f"{type(exc).__name__}: {exc}")
        print(f"  --  {mode} flow {time.monotonic() - started:.1f} s")
    return checks.done()


if __name__ == "__main__":
    raise SystemExit(main())
