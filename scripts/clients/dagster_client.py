"""Drive Sluice with dagster-airbyte's legacy `AirbyteResource` (the Configuration API one).

Run inside a virtualenv holding dagster-airbyte (0.29.x still ships `AirbyteResource` and
`load_assets_from_airbyte_instance`), with SLUICE_URL pointing at a running Sluice:

    SLUICE_URL=http://127.0.0.1:8000 python scripts/clients/dagster_client.py

Checks: `sync_and_poll` to success (jobs/get polling with logs, and jobs/list polling without),
asset definitions from `load_assets_from_airbyte_instance` and their materialization, managed
elements (check, apply, check again: nothing left to change; needs dagster-managed-elements),
and the cancel that `sync_and_poll` sends when its poll times out. Names carry a random suffix
because dagster matches sources, destinations and connections by name.
"""

from __future__ import annotations

import time
import uuid
import warnings
from importlib.metadata import version

import sluice_api as api

warnings.simplefilter("ignore")  # dagster marks the legacy resource as superseded

from dagster import AssetKey, Failure, materialize  # noqa: E402
from dagster_airbyte import AirbyteResource, load_assets_from_airbyte_instance  # noqa: E402
from dagster_airbyte.managed import (  # noqa: E402
    AirbyteConnection,
    AirbyteDestination,
    AirbyteManagedElementReconciler,
    AirbyteSource,
    AirbyteSyncMode,
)


def resource(**extra: object) -> AirbyteResource:
    host, port = api.host_and_port()
    return AirbyteResource(
        host=host,
        port=str(port),
        username=api.USERNAME,
        password=api.PASSWORD,
        poll_interval=1,
        request_max_retries=0,
        **extra,  # type: ignore[arg-type]
    )


def managed_connection(name: str) -> AirbyteConnection:
    """A connection declared in code, as `dagster-airbyte apply` reconciles it."""
    source = AirbyteSource(
        name=f"{name} source",
        source_type="E2E Testing",
        source_configuration={
            "type": "CONTINUOUS_FEED",
            "max_messages": 10,
            "mock_catalog": {"type": "SINGLE_STREAM", "stream_name": "managed_stream"},
        },
    )
    destination = AirbyteDestination(
        name=f"{name} destination",
        destination_type="Local SQLite",
        destination_configuration={"destination_path": f"/local/{name}.db"},
    )
    return AirbyteConnection(
        name=name,
        source=source,
        destination=destination,
        stream_config={"managed_stream": AirbyteSyncMode.full_refresh_overwrite()},
        # Read back, a connection without operations is normalize_data=False; None would
        # show as a change on every check (as against Airbyte itself).
        normalize_data=False,
    )


def main() -> int:
    checks = api.Checks(f"dagster-airbyte {version('dagster-airbyte')}")
    name = f"dagster_{uuid.uuid4().hex[:6]}"  # unique, so a reused server holds no namesake
    connection = api.make_connection(name, records=40)
    connection_id = connection["connectionId"]

    # 1. sync_and_poll with forward_logs (polls jobs/get and prints new log lines).
    output = resource().sync_and_poll(connection_id=connection_id)
    job = output.job_details["job"]
    checks.check("sync_and_poll (jobs/get) succeeded", job["status"] == "succeeded", job["status"])
    last = output.job_details["attempts"][-1]
    stats = {s["streamName"]: s["stats"] for s in last["attempt"]["streamStats"]}
    checks.check(
        "stream stats of the last attempt",
        stats.get("data_stream_0", {}).get("recordsEmitted") == 40,
        stats,
    )
    checks.check("connection details read", output.connection_details.get("name") == name)

    # 2. Without logs it polls jobs/list {configTypes, configId, pagination} instead.
    output = resource(forward_logs=False).sync_and_poll(connection_id=connection_id)
    job = output.job_details["job"]
    checks.check("sync_and_poll (jobs/list) succeeded", job["status"] == "succeeded", job["status"])

    # 3. Asset definitions from the instance: workspaces/list, connections/list, operations/list,
    #    destinations/get; then materializing them runs a sync through the resource.
    cacheable = load_assets_from_airbyte_instance(
        resource(), key_prefix=["sluice"], connection_filter=lambda meta: meta.name == name
    )
    assets = cacheable.build_definitions(cacheable.compute_cacheable_data())
    keys = {key for asset in assets for key in asset.keys}
    expected = {AssetKey(["sluice", f"{name}_data_stream_{n}"]) for n in (0, 1)}
    checks.check("asset keys from the instance", keys == expected, sorted(map(str, keys)))
    result = materialize(assets)
    checks.check("materialize the loaded assets", result.success)

    # 4. Managed elements (dagster-airbyte check/apply): sources/list|create, destinations/...,
    #    definitions by name, normalization support, discover's catalogId, connections/create;
    #    a second check finds nothing to change.
    managed_name = f"{name}_managed"
    managed = AirbyteManagedElementReconciler(
        airbyte=resource(), connections=[managed_connection(managed_name)]
    )
    planned = str(managed.check())
    checks.check("managed check plans the connection", managed_name in planned)
    managed.apply()
    again = str(managed.check())
    checks.check("managed apply converges", managed_name not in again, again)
    connections = api.call("connections/list", {"workspaceId": api.workspace_id()})["connections"]
    created = next((c for c in connections if c["name"] == managed_name), None)
    checks.check("managed connection exists", created is not None)
    if created is not None:
        output = resource().sync_and_poll(connection_id=created["connectionId"])
        status = output.job_details["job"]["status"]
        checks.check("managed connection syncs", status == "succeeded", status)

    # 5. A poll timeout makes sync_and_poll cancel the job (jobs/cancel) on its way out.
    slow = api.make_connection(f"{name}_slow", records=100000, interval_ms=50, streams=1)
    before = time.monotonic()
    try:
        resource().sync_and_poll(connection_id=slow["connectionId"], poll_timeout=2)
        checks.check("poll timeout raises", False)
    except Failure as exc:
        checks.check("poll timeout raises", "Timeout" in str(exc), exc)
    jobs = api.call("jobs/list", {"configTypes": ["sync"], "configId": slow["connectionId"]})[
        "jobs"
    ]
    status = jobs[0]["job"]["status"] if jobs else None
    checks.check("the timed-out job was cancelled", status == "cancelled", status)
    checks.check("cancel returned promptly", time.monotonic() - before < 30)
    return checks.done()


if __name__ == "__main__":
    raise SystemExit(main())
