"""Drive Sluice with prefect-airbyte (0.3.x): its `AirbyteClient` and its flows.

Run inside a virtualenv holding prefect-airbyte, with SLUICE_URL pointing at a running Sluice:

    SLUICE_URL=http://127.0.0.1:8000 python scripts/clients/prefect_client.py

Prefect runs the flows against a temporary local Prefect API it starts itself (PREFECT_HOME is
pointed at a temporary directory), so nothing outside the run is touched.

Checks: the client's health check (`GET /health/`), `connections/get/`, `connections/sync/` and
`jobs/get/` polling to success (all with trailing slashes and Basic auth); the
`run_connection_sync` flow with an `AirbyteConnection` block (reads `recordsSynced`); the older
`trigger_sync` task; an inactive and an unknown connection raising prefect-airbyte's errors.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import warnings
from importlib.metadata import version

import sluice_api as api

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
warnings.simplefilter("ignore")

from prefect import flow  # noqa: E402
from prefect_airbyte import exceptions as errors  # noqa: E402
from prefect_airbyte.client import AirbyteClient  # noqa: E402
from prefect_airbyte.connections import AirbyteConnection, trigger_sync  # noqa: E402
from prefect_airbyte.flows import run_connection_sync  # noqa: E402
from prefect_airbyte.server import AirbyteServer  # noqa: E402

log = logging.getLogger("prefect-airbyte-check")


def server_block() -> AirbyteServer:
    host, port = api.host_and_port()
    return AirbyteServer(
        server_host=host, server_port=port, username=api.USERNAME, password=api.PASSWORD
    )


async def client_calls(checks: api.Checks, connection_id: str) -> None:
    """The client's own methods, as the flows use them."""
    base = server_block().base_url
    async with AirbyteClient(log, airbyte_base_url=base, auth=(api.USERNAME, api.PASSWORD)) as c:
        checks.check("health check", await c.check_health_status(c._client))
        status = await c.get_connection_status(connection_id)
        checks.check("connections/get/ status", status == "active", status)
        job_id, created_at = await c.trigger_manual_sync_connection(connection_id)
        checks.check("connections/sync/ job id", isinstance(job_id, int), job_id)
        checks.check("connections/sync/ createdAt", isinstance(created_at, int), created_at)
        info = await c.get_job_info(job_id)
        for _ in range(300):
            if info["job"]["status"] in ("succeeded", "failed", "cancelled"):
                break
            await asyncio.sleep(0.2)
            info = await c.get_job_info(job_id)
        checks.check("jobs/get/ polled to success", info["job"]["status"] == "succeeded")
        synced = info["attempts"][-1]["attempt"].get("recordsSynced")
        checks.check("attempts[-1].attempt.recordsSynced", synced == 30, synced)
        try:
            await c.get_connection_status("00000000-0000-0000-0000-000000000001")
            checks.check("unknown connection raises ConnectionNotFoundException", False)
        except errors.ConnectionNotFoundException:
            checks.check("unknown connection raises ConnectionNotFoundException", True)


@flow
async def sync_with_task(connection_id: str) -> dict[str, object]:
    host, port = api.host_and_port()
    return await trigger_sync(  # type: ignore[no-any-return]
        airbyte_server_host=host,
        airbyte_server_port=port,
        connection_id=connection_id,
        poll_interval_s=1,
        timeout=30,
    )


def main() -> int:
    checks = api.Checks(
        f"prefect-airbyte {version('prefect-airbyte')} (prefect {version('prefect')})"
    )
    connection = api.make_connection("prefect", records=30, streams=1)
    connection_id = connection["connectionId"]

    asyncio.run(client_calls(checks, connection_id))

    block = AirbyteConnection(
        airbyte_server=server_block(), connection_id=connection_id, poll_interval_s=1
    )
    result = asyncio.run(run_connection_sync(airbyte_connection=block))
    checks.check("run_connection_sync flow succeeded", result.job_status == "succeeded", result)
    checks.check("flow result records_synced", result.records_synced == 30, result.records_synced)

    outcome = asyncio.run(sync_with_task(connection_id))
    checks.check("trigger_sync task succeeded", outcome.get("job_status") == "succeeded", outcome)

    api.call("connections/update", {"connectionId": connection_id, "status": "inactive"})
    try:
        asyncio.run(run_connection_sync(airbyte_connection=block))
        checks.check("inactive connection raises", False)
    except errors.AirbyteConnectionInactiveException:
        checks.check("inactive connection raises", True)
    return checks.done()


if __name__ == "__main__":
    raise SystemExit(main())
