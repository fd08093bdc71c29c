"""Connections through the config API: a `users` stream in the API's shape, the `ends` fixture
(a source and a destination to connect; registered for every test module by tests/conftest.py),
connections/create between them, and a whole scheduled connection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import post
from tests.support.actors import default_workspace, make_destination, make_source

Json = dict[str, Any]


def users_stream(**config: Any) -> Json:
    """One stream of a syncCatalog, `users`, full refresh into overwrite unless `config` says."""
    return {
        "stream": {
            "name": "users",
            "jsonSchema": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string"}},
            },
            "supportedSyncModes": ["full_refresh", "incremental"],
            "defaultCursorField": ["updated_at"],
            "sourceDefinedPrimaryKey": [["id"]],
        },
        "config": {"syncMode": "full_refresh", "destinationSyncMode": "overwrite", **config},
    }


@pytest.fixture
async def ends(client: httpx.AsyncClient) -> tuple[str, str, str]:
    """(workspace id, source id, destination id) in the default workspace."""
    workspace_id = await default_workspace(client)
    source = await make_source(client, workspace_id, "Feed")
    destination = await make_destination(client, workspace_id, "Warehouse")
    return workspace_id, str(source["sourceId"]), str(destination["destinationId"])


async def create(
    client: httpx.AsyncClient, ends: tuple[str, str, str], **body: Any
) -> httpx.Response:
    """connections/create from the source to the destination of `ends`, with `body` added."""
    _, source_id, destination_id = ends
    return await post(
        client,
        "connections/create",
        {"sourceId": source_id, "destinationId": destination_id, "status": "active", **body},
    )


async def hourly_connection(client: httpx.AsyncClient, workspace_id: str) -> dict[str, object]:
    """A new source and destination and an active connection of `users` between them, every
    hour; its connections/create reply."""
    source = await make_source(client, workspace_id, "Feed")
    destination = await make_destination(client, workspace_id, "Lake")
    r = await post(
        client,
        "connections/create",
        {
            "sourceId": source["sourceId"],
            "destinationId": destination["destinationId"],
            "status": "active",
            "syncCatalog": {"streams": [users_stream()]},
            "schedule": {"units": 1, "timeUnit": "hours"},
        },
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
