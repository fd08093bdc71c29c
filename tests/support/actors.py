"""Sources and destinations through the config API, for tests about other things: the default
workspace, a source of Sluice's own test connector, a local SQLite destination.

(tests/support/api_jobs.py has job tests' variants, which take a configuration and return ids.)
"""

from __future__ import annotations

import httpx

from tests.conftest import post

# Sluice's own test source: runs as a local program, so tests using it need no Docker.
E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"
SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"


async def default_workspace(client: httpx.AsyncClient) -> str:
    workspaces = (await post(client, "workspaces/list")).json()["workspaces"]
    return str(workspaces[0]["workspaceId"])


async def make_source(
    client: httpx.AsyncClient, workspace_id: str, name: str = "Test source", **config: object
) -> dict[str, object]:
    """An E2E source (`config`, else 100 messages); its sources/create reply."""
    r = await post(
        client,
        "sources/create",
        {
            "workspaceId": workspace_id,
            "sourceDefinitionId": E2E,
            "name": name,
            "connectionConfiguration": config or {"max_messages": 100},
        },
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def make_destination(
    client: httpx.AsyncClient, workspace_id: str, name: str = "Local", **config: object
) -> dict[str, object]:
    """A SQLite destination (`config`, else /local/out.db); its destinations/create reply."""
    r = await post(
        client,
        "destinations/create",
        {
            "workspaceId": workspace_id,
            "destinationDefinitionId": SQLITE,
            "name": name,
            "connectionConfiguration": config or {"destination_path": "/local/out.db"},
        },
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
