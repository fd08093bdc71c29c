"""Drive Sluice's public API with apache-airflow-providers-airbyte 6.2.0 on Airflow 3.

Run inside a virtualenv holding the provider (which talks through the airbyte-api SDK 1.x), with
SLUICE_URL pointing at a running Sluice:

    SLUICE_URL=http://127.0.0.1:8000 python scripts/clients/airflow6_client.py

The Airflow connection `airbyte_default` comes from AIRFLOW_CONN_AIRBYTE_DEFAULT in its JSON form
(the URI form loses the scheme and path of the host): host = the public API's root, login and
password = an application's client id and secret, schema = the provider's default token URL
`v1/applications/token` (joined to the host, it lands on /api/public/v1/applications/token).
AIRFLOW_HOME is a temporary directory; no metadata database or scheduler is needed.

The connections are made through the Configuration API, so this also shows one world: what the
provider starts through the public API is read back through the other.

Checks: the hook's connection test (GET health), submit_sync_connection + wait_for_job, the
operator's execute (submit and wait), the asynchronous operator with AirbyteJobSensor pokes, and
cancel_job on a running job.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import uuid
import warnings
from importlib.metadata import version

import sluice_api as api

client_id, client_secret = api.create_application(f"airflow6-{uuid.uuid4().hex[:6]}")
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ["AIRFLOW_CONN_AIRBYTE_DEFAULT"] = json.dumps(
    {
        "conn_type": "airbyte",
        "host": api.public_url(),
        "login": client_id,
        "password": client_secret,
        "schema": "v1/applications/token",
    }
)
warnings.simplefilter("ignore")

from airflow.providers.airbyte.hooks.airbyte import AirbyteHook  # noqa: E402
from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator  # noqa: E402
from airflow.providers.airbyte.sensors.airbyte import AirbyteJobSensor  # noqa: E402


def config_status(job_id: int) -> str:
    return str(api.call("jobs/get", {"id": job_id})["job"]["status"])


def flow(checks: api.Checks, connection_id: str, slow_id: str) -> None:
    step, say = checks.step, checks.check

    ok, message = step("hook test_connection", lambda: AirbyteHook().test_connection())
    say("hook test_connection (GET health)", ok, message)

    hook = AirbyteHook()
    job = step("submit_sync_connection", lambda: hook.submit_sync_connection(connection_id))
    say("submitted job not queued", job.status.value in {"pending", "running"}, job.status)
    step("wait_for_job", lambda: hook.wait_for_job(job.job_id, wait_seconds=1, timeout=120))
    status = config_status(job.job_id)
    say("wait_for_job saw success", status == "succeeded", f"job {job.job_id} {status}")

    operator = AirbyteTriggerSyncOperator(
        task_id="sync", connection_id=connection_id, wait_seconds=1, timeout=120
    )
    job_id = step("operator execute", lambda: operator.execute(context={}))  # type: ignore[arg-type]
    status = config_status(job_id)
    say("operator waited for success", status == "succeeded", f"job {job_id} {status}")

    submit = AirbyteTriggerSyncOperator(
        task_id="submit", connection_id=connection_id, asynchronous=True
    )
    job_id = step("asynchronous operator", lambda: submit.execute(context={}))  # type: ignore[arg-type]
    sensor = AirbyteJobSensor(task_id="wait", airbyte_job_id=job_id)
    done = False
    for _ in range(240):
        done = step("sensor poke", lambda: sensor.poke(context={}))  # type: ignore[arg-type]
        if done:
            break
        time.sleep(0.5)
    say("sensor saw success", done, f"job {job_id}")

    job = step("submit slow sync", lambda: hook.submit_sync_connection(slow_id))
    running = api.wait_for_status(job.job_id, {"running"}, timeout=30)["status"]
    say("slow job running", running == "running", running)
    reply = step("cancel_job", lambda: hook.cancel_job(job.job_id))
    say("cancel_job returns the job", reply is not None and reply.job_id == job.job_id, reply)
    status = api.wait_for_status(job.job_id, {"cancelled"}, timeout=30)["status"]
    say("cancelled job reads cancelled", status == "cancelled", status)
    seen = step("get_job_status", lambda: hook.get_job_status(job.job_id))
    say("hook sees cancelled", getattr(seen, "value", seen) == "cancelled", seen)


def main() -> int:
    checks = api.Checks(
        f"apache-airflow-providers-airbyte {version('apache-airflow-providers-airbyte')} "
        f"(airflow {version('apache-airflow')}, airbyte-api {version('airbyte-api')})"
    )
    name = f"airflow6_{uuid.uuid4().hex[:6]}"
    connection_id = api.make_connection(name, records=25, streams=1)["connectionId"]
    slow_id = api.make_connection(f"{name}_slow", records=100000, interval_ms=50, streams=1)[
        "connectionId"
    ]
    started = time.monotonic()
    with contextlib.suppress(api.Abort):
        flow(checks, connection_id, slow_id)
    print(f"  --  flow {time.monotonic() - started:.1f} s")
    return checks.done()


if __name__ == "__main__":
    raise SystemExit(main())
