"""Workspace-scoped credentials see and change only their workspace, for every operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from server import openapi
from server.auth.scope import ADMIN_ONLY
from tests.support.auth import (
    ADMIN,
    DEV_NULL,
    E2E,
    api_key,
    app_token,
    bearer,
    call,
    serve,
    settings_for,
)
from tests.support.receiver import receiver

BASE = openapi.base_path()
E2E_CONFIG = {"max_messages": 10}
CSV = b"id,name\n1,ada\n2,cyd\n"


async def upload(
    client: httpx.AsyncClient, workspace_id: str, headers: dict[str, str], name: str = "p.csv"
) -> httpx.Response:
    return await client.post(
        BASE + "/v1/files/upload",
        data={"workspaceId": workspace_id},
        files={"file": (name, CSV)},
        headers=headers,
    )


async def workspace_with_objects(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    ws = await call(client, "workspaces/create", {"name": name})
    wid = ws["workspaceId"]
    source = await call(
        client,
        "sources/create",
        {
            "workspaceId": wid,
            "sourceDefinitionId": E2E,
            "name": f"{name} source",
            "connectionConfiguration": E2E_CONFIG,
        },
    )
    destination = await call(
        client,
        "destinations/create",
        {
            "workspaceId": wid,
            "destinationDefinitionId": DEV_NULL,
            "name": f"{name} destination",
            "connectionConfiguration": {},
        },
    )
    connection = await call(
        client,
        "connections/create",
        {"sourceId": source["sourceId"], "destinationId": destination["destinationId"]},
    )
    job = await call(client, "connections/sync", {"connectionId": connection["connectionId"]})
    file = await upload(client, wid, ADMIN)
    assert file.status_code == 200, file.text
    return {
        "workspaceId": wid,
        "slug": ws["slug"],
        "sourceId": source["sourceId"],
        "destinationId": destination["destinationId"],
        "connectionId": connection["connectionId"],
        "jobId": job["job"]["id"],
        "fileId": file.json()["fileId"],
    }


def bodies(b: dict[str, Any]) -> dict[str, dict[str, Any] | list[dict[str, Any]]]:
    """A body (or several) per request schema that names workspace B's objects (valid in every
    other way)."""
    file = {"fileId": b["fileId"]}
    source = {"sourceId": b["sourceId"]}
    destination = {"destinationId": b["destinationId"]}
    connection = {"connectionId": b["connectionId"]}
    workspace = {"workspaceId": b["workspaceId"]}
    return {
        "WorkspaceIdRequestBody": workspace,
        "WorkspaceUpdate": {**workspace, "name": "renamed"},
        "SlugRequestBody": {"slug": b["slug"]},
        "SourceIdRequestBody": source,
        "SourceCreate": {
            **workspace,
            "sourceDefinitionId": E2E,
            "name": "new",
            "connectionConfiguration": E2E_CONFIG,
        },
        "SourceListRequestBody": workspace,
        "SourceUpdate": {**source, "name": "renamed", "connectionConfiguration": E2E_CONFIG},
        "SourceRecreate": {
            **source,
            **workspace,
            "sourceDefinitionId": E2E,
            "name": "again",
            "connectionConfiguration": E2E_CONFIG,
        },
        "DestinationIdRequestBody": destination,
        "DestinationCreate": {
            **workspace,
            "destinationDefinitionId": DEV_NULL,
            "name": "new",
            "connectionConfiguration": {},
        },
        "DestinationListRequestBody": workspace,
        "DestinationUpdate": {**destination, "name": "renamed", "connectionConfiguration": {}},
        "DestinationRecreate": {
            **destination,
            **workspace,
            "destinationDefinitionId": DEV_NULL,
            "name": "again",
            "connectionConfiguration": {},
        },
        "ConnectionIdRequestBody": connection,
        "ConnectionCreate": {"sourceId": b["sourceId"], "destinationId": b["destinationId"]},
        "ConnectionListRequestBody": workspace,
        "ConnectionUpdate": {**connection, "name": "renamed"},
        "OperationListRequestBody": connection,
        "WebBackendConnectionRequestBody": connection,
        "WebBackendConnectionListRequestBody": workspace,
        "SourceDefinitionIdWithWorkspaceId": {"sourceDefinitionId": E2E, **workspace},
        "DestinationDefinitionIdWithWorkspaceId": {
            "destinationDefinitionId": DEV_NULL,
            **workspace,
        },
        "SourceDiscoverSchemaRequestBody": source,
        "SourceCoreConfig": {
            "sourceDefinitionId": E2E,
            "connectionConfiguration": E2E_CONFIG,
            **source,
        },
        "DestinationCoreConfig": {
            "destinationDefinitionId": DEV_NULL,
            "connectionConfiguration": {},
            **destination,
        },
        "ConnectionStreamRequestBody": {**connection, "streams": [{"streamName": "data_stream"}]},
        "JobIdRequestBody": {"id": b["jobId"]},
        "JobListRequestBody": {"configId": b["connectionId"], "configTypes": ["sync"]},
        "ConnectionStateCreateOrUpdate": {
            **connection,
            "connectionState": {**connection, "stateType": "legacy", "state": {"cursor": 1}},
        },
        "FileIdRequestBody": file,
        "FileListRequestBody": workspace,
        "FilePreviewRequestBody": {**file, "sampleSize": 5},
        "FileImportRequestBody": {**file, **destination, "tableName": "people"},
        "NotificationListRequestBody": [workspace, connection],
        "WebBackendValidateMappersRequestBody": {
            **connection,
            "streamDescriptor": {"name": "data_stream"},
            "mappers": [
                {
                    "type": "hashing",
                    "mapperConfiguration": {
                        "targetField": "name",
                        "method": "SHA-256",
                        "fieldNameSuffix": "_hashed",
                    },
                }
            ],
        },
    }


def request_schema(op: openapi.Operation) -> str | None:
    spec = openapi.document()["paths"][op.path][op.method.lower()]
    content = (spec.get("requestBody") or {}).get("content", {}).get("application/json")
    return content["schema"]["$ref"].rsplit("/", 1)[-1] if content else None


def multipart(op: openapi.Operation) -> bool:
    spec = openapi.document()["paths"][op.path][op.method.lower()]
    return "multipart/form-data" in (spec.get("requestBody") or {}).get("content", {})


async def check_upload(
    client: httpx.AsyncClient, a: dict[str, Any], b: dict[str, Any], scoped_a: dict[str, str]
) -> list[str]:
    """files/upload (multipart, so not in the table): A's credential uploading into B is 403 and
    keeps nothing; into its own workspace, 200."""
    failures = []
    r = await upload(client, b["workspaceId"], scoped_a, name="from-a.csv")
    if r.status_code != 403:
        failures.append(f"uploadFile into B: {r.status_code} {r.text[:100]}")
    listed = await call(client, "files/list", {"workspaceId": b["workspaceId"]})
    if [f["name"] for f in listed["files"]] != ["p.csv"]:
        failures.append(f"uploadFile into B kept a file: {listed['files']}")
    r = await upload(client, a["workspaceId"], scoped_a, name="mine.csv")
    if r.status_code != 200 or r.json()["workspaceId"] != a["workspaceId"]:
        failures.append(f"uploadFile into A: {r.status_code} {r.text[:100]}")
    return failures


# Operations that name no workspace's object: shared definitions (read), cron descriptions, the
# document, health and the token endpoints. A scoped credential may call them.
SHARED = {
    "getHealthCheck",
    "getOpenApiSpec",
    "getOpenApiSpecYaml",
    "getOpenApiSpecJson",
    "getSourceDefinition",
    "listSourceDefinitions",
    "getDestinationDefinition",
    "listDestinationDefinitions",
    "webBackendDescribeCronExpression",
    "applicationTokenRequest",
    "publicGetAccessToken",
    "listWorkspaces",  # filtered: see below
    "listJobsFor",  # filtered when it names no connection: see below
}


def shared_calls(webhook: str) -> dict[str, dict[str, Any] | None]:
    """Shared operations that are called here, as workspace A's credential, with their bodies
    (None: no body): each must answer 200.

    The notification tries are shared, not admin-only: a try posts a test message to the URL in
    its body and reads or writes nothing of any workspace (no settings, no outbox row), and a
    scoped credential may already have its own workspace's notifications sent to any URL the
    server allows (`SLUICE_NOTIFICATION_ALLOWED_HOSTS` applies to tries too), which is what the
    web app's "test" button checks before saving.
    """
    return {
        "listFileFormats": None,
        "tryNotificationConfig": {
            "notificationType": "slack",
            "sendOnSuccess": True,
            "sendOnFailure": False,
            "slackConfiguration": {"webhook": webhook + "/try"},
        },
        "tryNotificationWebhookConfig": {
            "slackConfiguration": {"webhook": webhook + "/try_webhook"},
            "notificationTrigger": "sync_failure",
        },
    }


async def test_every_operation_keeps_a_scoped_credential_in_its_workspace(
    tmp_path: Path,
) -> None:
    with receiver() as hook:
        async with serve(settings_for(tmp_path)) as (_, client):
            await walk_every_operation(client, shared_calls(hook.url))
        # Each try reached its receiver: the scoped credential got past the checks.
        assert sorted(got.path for got in hook.got) == ["/try", "/try_webhook"]


async def walk_every_operation(
    client: httpx.AsyncClient, shared: dict[str, dict[str, Any] | None]
) -> None:
    a = await workspace_with_objects(client, "alpha")
    b = await workspace_with_objects(client, "beta")
    scoped_a = bearer(await api_key(client, a["workspaceId"]))
    scoped_b = bearer(await app_token(client, b["workspaceId"]))
    table = bodies(b)
    untested: list[str] = []
    failures: list[str] = []
    for op in openapi.operations():
        name = op.handler_name
        schema = request_schema(op)
        if name in ADMIN_ONLY:
            r = await client.request(op.method, BASE + op.path, json={}, headers=scoped_a)
            if r.status_code != 403:
                failures.append(f"{op.operation_id}: admin only, got {r.status_code}")
            continue
        if op.operation_id in shared:
            r = await client.post(BASE + op.path, json=shared[op.operation_id], headers=scoped_a)
            if r.status_code != 200:
                failures.append(f"{op.operation_id} (shared): {r.status_code} {r.text[:100]}")
            continue
        if multipart(op):
            if op.operation_id != "uploadFile":
                untested.append(f"{op.operation_id} (multipart)")
            continue
        if schema is None or op.operation_id in SHARED:
            if op.operation_id not in SHARED:
                untested.append(op.operation_id)
            continue
        if schema not in table:
            untested.append(f"{op.operation_id} ({schema})")
            continue
        cases = table[schema]
        for body in cases if isinstance(cases, list) else [cases]:
            r = await client.post(BASE + op.path, json=body, headers=scoped_a)
            creating = name.startswith(("create_", "web_backend_create", "web_backend_recreate"))
            # Creating in B is 403; a body that also names B's objects may get 404 first.
            names_objects = any(k in body for k in ("sourceId", "destinationId", "connectionId"))
            wanted = {404} if not creating else {403, 404} if names_objects else {403}
            if r.status_code not in wanted:
                failures.append(f"{op.operation_id}: {r.status_code} {r.text[:100]}")
            # The same body from B's own credential gets past the check (deletes and recreates
            # left out: they would remove what the walk still needs).
            if not name.startswith(("delete_", "web_backend_recreate_")):
                r = await client.post(BASE + op.path, json=body, headers=scoped_b)
                if r.status_code in (401, 403, 404) or r.status_code >= 500:
                    failures.append(f"{op.operation_id} as B: {r.status_code} {r.text[:100]}")
    failures += await check_upload(client, a, b, scoped_a)
    assert untested == [], "add a body naming B's objects for these operations"
    assert failures == [], "\n".join(failures)
    # Nothing of B's was changed or removed by A's calls.
    got = await call(client, "connections/get", {"connectionId": b["connectionId"]})
    assert got["connectionId"] == b["connectionId"]
    file = await call(client, "files/get", {"fileId": b["fileId"]})
    assert file["workspaceId"] == b["workspaceId"]


async def test_scoped_lists_are_filtered(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as (_, client):
        a = await workspace_with_objects(client, "alpha")
        await workspace_with_objects(client, "beta")
        for headers in (
            bearer(await api_key(client, a["workspaceId"])),
            bearer(await app_token(client, a["workspaceId"])),
        ):
            listed = await call(client, "workspaces/list", headers=headers)
            assert [w["workspaceId"] for w in listed["workspaces"]] == [a["workspaceId"]]
            jobs = await call(client, "jobs/list", {"configTypes": ["sync"]}, headers=headers)
            assert [j["job"]["configId"] for j in jobs["jobs"]] == [a["connectionId"]]
        everything = await call(client, "jobs/list", {"configTypes": ["sync"]}, headers=ADMIN)
        assert len(everything["jobs"]) == 2


async def test_scoped_credentials_work_in_their_workspace(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as (_, client):
        a = await workspace_with_objects(client, "alpha")
        headers = bearer(await api_key(client, a["workspaceId"]))
        sources = await call(client, "sources/list", {"workspaceId": a["workspaceId"]}, headers)
        assert [s["sourceId"] for s in sources["sources"]] == [a["sourceId"]]
        created = await call(
            client,
            "sources/create",
            {
                "workspaceId": a["workspaceId"],
                "sourceDefinitionId": E2E,
                "name": "mine",
                "connectionConfiguration": E2E_CONFIG,
            },
            headers,
        )
        assert created["workspaceId"] == a["workspaceId"]
        r = await client.post("/api/v1/applications/create", json={"name": "x"}, headers=headers)
        assert r.status_code == 403


async def test_a_scope_must_name_a_workspace_that_exists(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as (_, client):
        unknown = "00000000-0000-0000-0000-0000000000aa"
        for path in ("api_keys/create", "applications/create"):
            r = await client.post(
                f"/api/v1/{path}", json={"name": "x", "workspaceId": unknown}, headers=ADMIN
            )
            assert r.status_code == 404 and r.json()["id"] == unknown
