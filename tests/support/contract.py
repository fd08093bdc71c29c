"""What both contract tests (schemathesis over each API's document) share: the admin's
credential, and live objects made before the run for generated ids to point at."""

from __future__ import annotations

import base64
from typing import Any

from schemathesis.python.asgi import get_client

E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"

# Every case is sent with the instance admin's default credentials (auth is on by default).
ADMIN_HEADERS = {"Authorization": "Basic " + base64.b64encode(b"airbyte:password").decode()}


def seed(app: Any, job: bool) -> dict[str, Any]:
    """A workspace's source, destination, connection (and with `job`, a sync job of it) and an
    uploaded CSV file, made through the configuration API: their ids by the field names
    requests use."""
    with get_client(app) as client:

        def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
            r = client.post(f"/api/v1/{path}", json=body, headers=ADMIN_HEADERS)
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        workspace_id = call("workspaces/list", {})["workspaces"][0]["workspaceId"]
        source = call(
            "sources/create",
            {
                "workspaceId": workspace_id,
                "sourceDefinitionId": E2E,
                "name": "seed source",
                "connectionConfiguration": {"max_messages": 10},
            },
        )
        destination = call(
            "destinations/create",
            {
                "workspaceId": workspace_id,
                "destinationDefinitionId": DEV_NULL,
                "name": "seed destination",
                "connectionConfiguration": {},
            },
        )
        connection = call(
            "connections/create",
            {"sourceId": source["sourceId"], "destinationId": destination["destinationId"]},
        )
        synced = (
            call("connections/sync", {"connectionId": connection["connectionId"]}) if job else None
        )
        uploaded = client.post(
            "/api/v1/files/upload",
            data={"workspaceId": workspace_id},
            files={"file": ("seed.csv", b"id,name,score\n1,ada,1.5\n2,cyd,2.25\n")},
            headers=ADMIN_HEADERS,
        )
        assert uploaded.status_code == 200, uploaded.text
    ids = {
        "workspaceId": workspace_id,
        "sourceId": source["sourceId"],
        "destinationId": destination["destinationId"],
        "connectionId": connection["connectionId"],
        "sourceDefinitionId": E2E,
        "destinationDefinitionId": DEV_NULL,
        "fileId": uploaded.json()["fileId"],
    }
    if synced is not None:
        ids["jobId"] = synced["job"]["id"]
    return ids
