"""Drive Sluice's public API (/api/public/v1) with the airbyte-api SDK 1.0.1 (Speakeasy, pydantic).

Run inside a virtualenv holding airbyte-api, with SLUICE_URL pointing at a running Sluice:

    SLUICE_URL=http://127.0.0.1:8000 python scripts/clients/airbyte_api_client.py

The same lifecycle runs twice: with client credentials (an application's id and secret; the
SDK posts them form-encoded to its default token URL `/applications/token`, which resolves to
the server's root) and with a Bearer token minted beforehand. Each run: health, a workspace of
its own (created, listed, deleted at the end) that also holds an E2E Testing source made
through the Configuration API, a faker source created by `sourceType`, a DuckDB destination by
`destinationType` (the SDK parses destination replies as a union discriminated on
`destinationType`, and DuckDB is the built-in destination it has a model for), get/list/patch/put
of both, the source's streams, a connection, a sync job polled to `succeeded`, jobs listed
`updatedAt|DESC`, a connection with the SDK's typed mappers (airbyte_api_mappers.py), a job
cancelled, and deletes (204) of the connection, source, destination and workspace.
"""

from __future__ import annotations

import time
import uuid
import warnings
from importlib.metadata import version
from typing import Any

import sluice_api as api

warnings.simplefilter("ignore")

from airbyte_api import AirbyteAPI, errors, models  # noqa: E402
from airbyte_api import api as ops  # noqa: E402
from airbyte_api_mappers import connection_request, mapped_sync  # noqa: E402

TERMINAL = {"succeeded", "failed", "cancelled"}
USERS = 200  # the faker source's users once its configuration is put


def start_sync(sdk: AirbyteAPI, connection_id: str) -> Any:
    request = models.JobCreateRequest(connection_id=connection_id, job_type=models.JobTypeEnum.SYNC)
    return sdk.jobs.create_job(request=request).job_response


def wait_for_job(sdk: AirbyteAPI, job_id: int, statuses: set[str], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = sdk.jobs.get_job(request=ops.GetJobRequest(job_id=job_id)).job_response
        if job.status.value in statuses or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


def lifecycle(checks: api.Checks, mode: str, sdk: AirbyteAPI) -> None:
    name = f"sdk_{mode}_{uuid.uuid4().hex[:6]}"
    step = checks.step
    say = checks.check

    health = step(f"{mode}: health", sdk.health.get_health_check)
    say(f"{mode}: health 200", health.status_code == 200, health.status_code)

    # Its own workspace, so the lists hold what this run made whatever else the server
    # holds; a Local SQLite destination, for one, has no model in the SDK's destination union.
    workspace = step(
        f"{mode}: create workspace",
        lambda: sdk.workspaces.create_workspace(
            request=models.WorkspaceCreateRequest(name=f"{name} workspace")
        ),
    ).workspace_response.workspace_id
    listed = step(
        f"{mode}: list workspaces",
        lambda: sdk.workspaces.list_workspaces(request=ops.ListWorkspacesRequest(limit=100)),
    ).workspaces_response
    say(
        f"{mode}: list workspaces holds it",
        workspace in [w.workspace_id for w in listed.data],
        f"{len(listed.data)} workspaces",
    )
    # One world: a source made through the Configuration API is listed beside the SDK's.
    e2e = api.call(
        "sources/create",
        {
            "workspaceId": workspace,
            "sourceDefinitionId": api.E2E_TESTING,
            "name": f"{name} e2e",
            "connectionConfiguration": {"type": "CONTINUOUS_FEED", "max_messages": 10},
        },
    )["sourceId"]

    started = time.monotonic()
    source = step(
        f"{mode}: create source (sourceType faker)",
        lambda: sdk.sources.create_source(
            request=models.SourceCreateRequest(
                name=f"{name} source",
                workspace_id=workspace,
                configuration=models.SourceFaker(count=300, seed=42),
            )
        ),
    ).source_response
    say(
        f"{mode}: source is faker",
        source.source_type == "faker" and source.definition_id == api.FAKER,
        f"{source.source_type} {source.definition_id} ({time.monotonic() - started:.1f} s)",
    )
    source_id = source.source_id

    destination = step(
        f"{mode}: create destination (destinationType duckdb)",
        lambda: sdk.destinations.create_destination(
            request=models.DestinationCreateRequest(
                name=f"{name} destination",
                workspace_id=workspace,
                configuration=models.DestinationDuckdb(destination_path=f"/local/{name}.duckdb"),
            )
        ),
    ).destination_response
    say(f"{mode}: destination is duckdb", destination.destination_type == "duckdb")
    destination_id = destination.destination_id

    got = step(
        f"{mode}: get source",
        lambda: sdk.sources.get_source(request=ops.GetSourceRequest(source_id=source_id)),
    ).source_response
    say(f"{mode}: get source name", got.name == f"{name} source", got.name)
    got_destination = step(
        f"{mode}: get destination",
        lambda: sdk.destinations.get_destination(
            request=ops.GetDestinationRequest(destination_id=destination_id)
        ),
    ).destination_response
    say(
        f"{mode}: get destination path",
        getattr(got_destination.configuration, "destination_path", None) == f"/local/{name}.duckdb",
        got_destination.configuration,
    )
    sources = step(
        f"{mode}: list sources",
        lambda: sdk.sources.list_sources(
            request=ops.ListSourcesRequest(workspace_ids=[workspace], limit=100)
        ),
    ).sources_response
    say(
        f"{mode}: list sources holds both",
        {source_id, e2e} <= {s.source_id for s in sources.data},
        [(s.name, s.source_type) for s in sources.data],
    )
    destinations = step(
        f"{mode}: list destinations",
        lambda: sdk.destinations.list_destinations(
            request=ops.ListDestinationsRequest(workspace_ids=[workspace], limit=100)
        ),
    ).destinations_response
    say(
        f"{mode}: list destinations holds it",
        destination_id in [d.destination_id for d in destinations.data],
    )

    patched = step(
        f"{mode}: patch source (name)",
        lambda: sdk.sources.patch_source(
            request=ops.PatchSourceRequest(
                source_id=source_id,
                source_patch_request=models.SourcePatchRequest(name=f"{name} faker"),
            )
        ),
    ).source_response
    say(f"{mode}: patched source name", patched.name == f"{name} faker", patched.name)
    put = step(
        f"{mode}: put source",
        lambda: sdk.sources.put_source(
            request=ops.PutSourceRequest(
                source_id=source_id,
                source_put_request=models.SourcePutRequest(
                    name=f"{name} source", configuration=models.SourceFaker(count=USERS, seed=7)
                ),
            )
        ),
    ).source_response
    say(
        f"{mode}: put source config",
        getattr(put.configuration, "count", None) == 200 and put.name == f"{name} source",
        put.configuration,
    )
    step(
        f"{mode}: patch destination (name)",
        lambda: sdk.destinations.patch_destination(
            request=ops.PatchDestinationRequest(
                destination_id=destination_id,
                destination_patch_request=models.DestinationPatchRequest(name=f"{name} duck"),
            )
        ),
    )
    put_destination = step(
        f"{mode}: put destination",
        lambda: sdk.destinations.put_destination(
            request=ops.PutDestinationRequest(
                destination_id=destination_id,
                destination_put_request=models.DestinationPutRequest(
                    name=f"{name} destination",
                    configuration=models.DestinationDuckdb(
                        destination_path=f"/local/{name}.duckdb", schema_="main"
                    ),
                ),
            )
        ),
    ).destination_response
    say(f"{mode}: put destination name", put_destination.name == f"{name} destination")

    streams = step(
        f"{mode}: stream properties",
        lambda: sdk.streams.get_stream_properties(
            request=ops.GetStreamPropertiesRequest(source_id=source_id)
        ),
    ).stream_properties_response
    names = sorted(s.stream_name for s in streams or [])
    say(f"{mode}: faker streams", names == ["products", "purchases", "users"], names)

    connection = step(
        f"{mode}: create connection",
        lambda: sdk.connections.create_connection(
            request=connection_request(
                (source_id, destination_id),
                name,
                [
                    models.StreamConfiguration(
                        name=stream, sync_mode=models.ConnectionSyncModeEnum.FULL_REFRESH_OVERWRITE
                    )
                    for stream in ("users", "products")
                ],
            )
        ),
    ).connection_response
    connection_id = connection.connection_id
    say(
        f"{mode}: connection streams",
        sorted(s.name for s in connection.configurations.streams or []) == ["products", "users"],
        connection.configurations,
    )
    step(
        f"{mode}: get connection",
        lambda: sdk.connections.get_connection(
            request=ops.GetConnectionRequest(connection_id=connection_id)
        ),
    )
    connections = step(
        f"{mode}: list connections",
        lambda: sdk.connections.list_connections(
            request=ops.ListConnectionsRequest(workspace_ids=[workspace], limit=100)
        ),
    ).connections_response
    say(
        f"{mode}: list connections holds it",
        connection_id in [c.connection_id for c in connections.data],
    )
    renamed = step(
        f"{mode}: patch connection (name)",
        lambda: sdk.connections.patch_connection(
            request=ops.PatchConnectionRequest(
                connection_id=connection_id,
                connection_patch_request=models.ConnectionPatchRequest(name=f"{name} conn"),
            )
        ),
    ).connection_response
    say(f"{mode}: patched connection name", renamed.name == f"{name} conn", renamed.name)

    job = step(f"{mode}: create sync job", lambda: start_sync(sdk, connection_id))
    job_id = job.job_id
    say(f"{mode}: new job not queued", job.status.value in {"pending", "running"}, job.status)
    done = step(f"{mode}: poll job", lambda: wait_for_job(sdk, job_id, TERMINAL))
    say(
        f"{mode}: job succeeded",
        done.status.value == "succeeded",
        f"job {job_id} {done.status.value} rows={done.rows_synced} duration={done.duration}",
    )
    jobs = step(
        f"{mode}: list jobs updatedAt|DESC",
        lambda: sdk.jobs.list_jobs(
            request=ops.ListJobsRequest(connection_id=connection_id, order_by="updatedAt|DESC")
        ),
    ).jobs_response
    say(
        f"{mode}: the job listed",
        [j.job_id for j in jobs.data] == [job_id],
        [j.job_id for j in jobs.data],
    )

    mapped_sync(
        checks,
        mode,
        sdk,
        (source_id, destination_id),
        name,
        USERS,
        (lambda c: start_sync(sdk, c), lambda job: wait_for_job(sdk, job, TERMINAL)),
    )

    # A big source keeps the next job running long enough to cancel it.
    step(
        f"{mode}: patch source (configuration)",
        lambda: sdk.sources.patch_source(
            request=ops.PatchSourceRequest(
                source_id=source_id,
                source_patch_request=models.SourcePatchRequest(
                    configuration=models.SourceFaker(count=1_000_000, seed=7)
                ),
            )
        ),
    )
    slow = step(f"{mode}: create job to cancel", lambda: start_sync(sdk, connection_id))
    cancelled = step(
        f"{mode}: cancel job",
        lambda: sdk.jobs.cancel_job(request=ops.CancelJobRequest(job_id=slow.job_id)),
    )
    say(f"{mode}: cancel 200", cancelled.status_code == 200, cancelled.status_code)
    final = step(
        f"{mode}: poll cancelled job", lambda: wait_for_job(sdk, slow.job_id, TERMINAL, 60)
    )
    say(f"{mode}: job cancelled", final.status.value == "cancelled", final.status.value)
    jobs = step(
        f"{mode}: list jobs updatedAt|DESC again",
        lambda: sdk.jobs.list_jobs(
            request=ops.ListJobsRequest(connection_id=connection_id, order_by="updatedAt|DESC")
        ),
    ).jobs_response
    say(
        f"{mode}: the cancelled job first, then the synced one",
        [j.job_id for j in jobs.data] == [slow.job_id, job_id],
        [(j.job_id, j.status.value) for j in jobs.data],
    )

    for what, delete in (
        (
            "connection",
            lambda: sdk.connections.delete_connection(
                request=ops.DeleteConnectionRequest(connection_id=connection_id)
            ),
        ),
        (
            "source",
            lambda: sdk.sources.delete_source(request=ops.DeleteSourceRequest(source_id=source_id)),
        ),
        (
            "destination",
            lambda: sdk.destinations.delete_destination(
                request=ops.DeleteDestinationRequest(destination_id=destination_id)
            ),
        ),
        (
            "workspace",
            lambda: sdk.workspaces.delete_workspace(
                request=ops.DeleteWorkspaceRequest(workspace_id=workspace)
            ),
        ),
    ):
        reply = step(f"{mode}: delete {what}", delete)
        say(f"{mode}: delete {what} 204", reply.status_code == 204, reply.status_code)
    try:
        sdk.sources.get_source(request=ops.GetSourceRequest(source_id=source_id))
        say(f"{mode}: deleted source is 404", False, "still found")
    except errors.SDKError as exc:
        say(f"{mode}: deleted source is 404", exc.status_code == 404, exc.status_code)


def main() -> int:
    checks = api.Checks(f"airbyte-api {version('airbyte-api')}")
    api.use_faker_process()
    client_id, client_secret = api.create_application(f"sdk-{uuid.uuid4().hex[:6]}")
    credentials = models.Security(
        client_credentials=models.SchemeClientCredentials(
            client_id=client_id, client_secret=client_secret, token_url="/applications/token"
        )
    )
    for mode, security in (
        ("client_credentials", lambda: credentials),
        ("bearer", lambda: models.Security(bearer_auth=api.mint_token(client_id, client_secret))),
    ):
        started = time.monotonic()
        try:
            # Creating a source runs its connector's spec (seconds for a cold faker), beyond
            # httpx's 5 s default.
            sdk = AirbyteAPI(server_url=api.public_url(), security=security(), timeout_ms=60_000)
            lifecycle(checks, mode, sdk)
        except api.Abort:
            pass
        except Exception as exc:  # a failure outside a step (e.g. minting the token)
            checks.check(f"{mode}: setup", False, f"{type(exc).__name__}: {exc}")
        print(f"  --  {mode} flow {time.monotonic() - started:.1f} s")
    return checks.done()


if __name__ == "__main__":
    raise SystemExit(main())
