"""Drive Sluice with apache-airflow-providers-airbyte 3.9.0 (the last Configuration API one).

Run inside a virtualenv holding the provider (and so Airflow), with SLUICE_URL pointing at a
running Sluice:

    SLUICE_URL=http://127.0.0.1:8000 python scripts/clients/airflow_client.py

The Airflow connection `airbyte_default` comes from AIRFLOW_CONN_AIRBYTE_DEFAULT (login and
password become Basic auth); AIRFLOW_HOME is a temporary directory. No scheduler or metadata
database is needed: the operator, sensor and trigger are called as their tasks would call them.

Checks: the hook's connection test (GET health); AirbyteTriggerSyncOperator waiting for the job
(connections/sync, jobs/get polling); the asynchronous operator plus AirbyteJobSensor pokes; the
deferrable path's AirbyteSyncTrigger (aiohttp, explicit Basic header); the hook's timeout, which
cancels the job (jobs/cancel), and the operator's on_kill.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import warnings
from importlib.metadata import version

import sluice_api as api

host, port = api.host_and_port()
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ["AIRFLOW_CONN_AIRBYTE_DEFAULT"] = json.dumps(
    {
        "conn_type": "airbyte",
        "host": host,
        "port": port,
        "login": api.USERNAME,
        "password": api.PASSWORD,
    }
)
warnings.simplefilter("ignore")

from airflow.exceptions import AirflowException  # noqa: E402
from airflow.providers.airbyte.hooks.airbyte import AirbyteHook  # noqa: E402
from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator  # noqa: E402
from airflow.providers.airbyte.sensors.airbyte import AirbyteJobSensor  # noqa: E402
from airflow.providers.airbyte.triggers.airbyte import AirbyteSyncTrigger  # noqa: E402


async def first_event(trigger: AirbyteSyncTrigger) -> dict[str, object]:
    async for event in trigger.run():
        return dict(event.payload)
    return {}


def main() -> int:
    checks = api.Checks(
        f"apache-airflow-providers-airbyte {version('apache-airflow-providers-airbyte')} "
        f"(airflow {version('apache-airflow')})"
    )
    connection_id = api.make_connection("airflow", records=25, streams=1)["connectionId"]

    ok, message = AirbyteHook().test_connection()
    checks.check("hook test_connection (GET health)", ok, message)

    # The default operator: submit, then wait_for_job polls jobs/get every wait_seconds.
    operator = AirbyteTriggerSyncOperator(
        task_id="sync", connection_id=connection_id, wait_seconds=1, timeout=120
    )
    job_id = operator.execute(context={})  # type: ignore[arg-type]
    status = api.call("jobs/get", {"id": job_id})["job"]["status"]
    checks.check("operator waited for success", status == "succeeded", f"job {job_id} {status}")

    # asynchronous=True returns the job id at once; the sensor pokes until it ends.
    submit = AirbyteTriggerSyncOperator(
        task_id="submit", connection_id=connection_id, asynchronous=True
    )
    job_id = submit.execute(context={})  # type: ignore[arg-type]
    sensor = AirbyteJobSensor(task_id="wait", airbyte_job_id=job_id)
    done = False
    for _ in range(120):
        done = sensor.poke(context={})  # type: ignore[arg-type]
        if done:
            break
        time.sleep(0.5)
    checks.check("sensor saw success", done, f"job {job_id}")

    # The deferrable path hands the job to a trigger that polls with aiohttp.
    job_id = AirbyteHook().submit_sync_connection(connection_id).json()["job"]["id"]
    trigger = AirbyteSyncTrigger(
        job_id=job_id,
        conn_id="airbyte_default",
        api_type="config",
        end_time=time.time() + 120,
        poll_interval=1,
    )
    event = asyncio.run(first_event(trigger))
    checks.check("trigger event success", event.get("status") == "success", event)

    # A wait that times out cancels the job before raising.
    slow = api.make_connection("airflow_slow", records=100000, interval_ms=50, streams=1)
    hook = AirbyteHook()
    job_id = hook.submit_sync_connection(slow["connectionId"]).json()["job"]["id"]
    try:
        hook.wait_for_job(job_id, wait_seconds=0.5, timeout=2)
        checks.check("timeout raises", False)
    except AirflowException as exc:
        checks.check("timeout raises", "Timeout" in str(exc), exc)
    status = api.wait_for_status(job_id, {"cancelled"}, timeout=30)["status"]
    checks.check("timed-out job cancelled", status == "cancelled", status)

    # on_kill (task killed in the UI) cancels the operator's job too.
    kill = AirbyteTriggerSyncOperator(
        task_id="kill", connection_id=slow["connectionId"], asynchronous=True
    )
    job_id = kill.execute(context={})  # type: ignore[arg-type]
    api.wait_for_status(job_id, {"running"}, timeout=30)
    kill.on_kill()
    status = api.wait_for_status(job_id, {"cancelled"}, timeout=30)["status"]
    checks.check("on_kill cancelled the job", status == "cancelled", status)
    return checks.done()


if __name__ == "__main__":
    raise SystemExit(main())
