"""Every error body, pinned: clients (Terraform's provider, Dagster, Prefect) parse them."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.conftest import post, running
from tests.support.actors import E2E, default_workspace, make_destination, make_source

NOT_FOUND = "io.airbyte.commons.server.errors.IdNotFoundKnownException"
INVALID = "io.airbyte.commons.server.errors.BadObjectSchemaKnownException"
KNOWN = "io.airbyte.commons.server.errors.ApplicationErrorKnownException"
TABLES = [
    "workspaces",
    "source_definitions",
    "destination_definitions",
    "sources",
    "destinations",
    "connections",
    "operations",
]


def counts(settings: Settings) -> dict[str, int]:
    with sqlite3.connect(settings.db_path) as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


async def test_unknown_id_is_404_with_id_message_and_class(client: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    for path, key in [
        ("sources/get", "sourceId"),
        ("destinations/get", "destinationId"),
        ("connections/get", "connectionId"),
        ("source_definitions/get", "sourceDefinitionId"),
        ("destination_definitions/get", "destinationDefinitionId"),
        ("web_backend/connections/get", "connectionId"),
    ]:
        r = await post(client, path, {key: missing})
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/json"
        assert r.json() == {
            "id": missing,
            "message": r.json()["message"],
            "exceptionClassName": NOT_FOUND,
        }
        assert missing in r.json()["message"]


async def test_an_id_of_the_wrong_kind_is_not_found(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    source_id = (await make_source(client, workspace_id))["sourceId"]
    destination_id = (await make_destination(client, workspace_id))["destinationId"]
    r = await post(client, "destinations/get", {"destinationId": source_id})
    assert r.status_code == 404 and r.json()["id"] == source_id
    assert r.json()["message"] == f"Could not find destination with id: {source_id}"
    r = await post(client, "sources/get", {"sourceId": destination_id})
    assert r.status_code == 404 and r.json()["message"].startswith("Could not find source ")
    r = await post(client, "connections/get", {"connectionId": source_id})
    assert r.status_code == 404 and "connection" in r.json()["message"]
    r = await post(client, "sources/list", {"workspaceId": source_id})
    assert r.status_code == 404 and "workspace" in r.json()["message"]
    body = {"sourceId": source_id, "destinationId": source_id, "status": "active"}
    r = await post(client, "connections/create", body)
    assert r.status_code == 404 and r.json()["message"].startswith("Could not find destination")


async def test_wrong_type_is_422_naming_property_and_value(client: httpx.AsyncClient) -> None:
    r = await post(client, "connections/list", {"workspaceId": 42})
    assert r.status_code == 422
    assert r.json() == {
        "message": r.json()["message"],
        "validationErrors": [
            {"propertyPath": "workspaceId", "invalidValue": "42", "message": r.json()["message"]}
        ],
        "exceptionClassName": INVALID,
    }
    r = await post(client, "sources/get", {"sourceId": "not-a-uuid"})
    assert r.status_code == 422
    error = r.json()["validationErrors"][0]
    assert (error["propertyPath"], error["invalidValue"]) == ("sourceId", "not-a-uuid")
    r = await post(
        client,
        "connections/create",
        {
            "sourceId": str(uuid.uuid4()),
            "destinationId": str(uuid.uuid4()),
            "syncCatalog": {"streams": [{"stream": {"name": "s"}, "config": {"syncMode": 3}}]},
        },
    )
    assert r.status_code == 422
    assert r.json()["validationErrors"][0]["propertyPath"] == (
        "syncCatalog.streams[0].config.syncMode"
    )


async def test_missing_required_field_is_422_naming_it(client: httpx.AsyncClient) -> None:
    r = await post(client, "sources/create", {"name": "x"})
    assert r.status_code == 422
    error = r.json()["validationErrors"][0]
    assert error["propertyPath"] == "sourceDefinitionId"
    assert "missing required field" in error["message"]
    r = await post(client, "connections/create", {"sourceId": str(uuid.uuid4())})
    assert r.json()["validationErrors"][0]["propertyPath"] == "destinationId"
    # Nested: a stream without a name.
    r = await post(
        client,
        "connections/create",
        {
            "sourceId": str(uuid.uuid4()),
            "destinationId": str(uuid.uuid4()),
            "syncCatalog": {"streams": [{"stream": {}}]},
        },
    )
    assert r.json()["validationErrors"][0]["propertyPath"] == "syncCatalog.streams[0].stream.name"
    # An empty body is `{}`: still missing the id.
    r = await client.post("/api/v1/sources/get", content=b"")
    assert r.status_code == 422
    assert r.json()["validationErrors"][0]["propertyPath"] == "sourceId"


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/sources/get",
        content=b'{"sourceId": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert set(r.json()) == {"message", "exceptionClassName"}
    assert r.json()["message"].startswith("Malformed JSON")
    r = await client.post(
        "/api/v1/sources/get", content=b"[1, 2]", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/sources/get")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json() == {"message": r.json()["message"], "exceptionClassName": KNOWN}
    assert "GET" in r.json()["message"]
    r = await client.post("/api/v1/health")
    assert r.status_code == 405
    assert r.json()["exceptionClassName"] == KNOWN


async def test_unknown_endpoint_is_404(client: httpx.AsyncClient) -> None:
    r = await post(client, "sources/teleport", {})
    assert r.status_code == 404
    assert r.json() == {
        "message": "No such endpoint: POST /api/v1/sources/teleport",
        "id": "/api/v1/sources/teleport",
        "exceptionClassName": NOT_FOUND,
    }
    # Starlette's own 404, outside the API's paths and for other methods, too.
    for method, path in [("GET", "/nowhere"), ("DELETE", "/api/v2/x")]:
        r = await client.request(method, path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/json"
        assert r.json()["exceptionClassName"] == NOT_FOUND


async def test_edge_refusals_have_the_error_body(client: httpx.AsyncClient) -> None:
    """The middleware's refusals (before any route) are shaped as every other error."""
    refusals = [
        (415, {"content-type": "text/plain"}, b'{"a": 1}'),
        (400, {"content-type": "application/json", "host": "evil.example"}, b"{}"),
        (403, {"content-type": "application/json", "origin": "http://evil.example"}, b"{}"),
        (400, {"content-type": "application/json"}, b"[" * 200 + b"]" * 200),
    ]
    for status, headers, content in refusals:
        r = await client.post("/api/v1/workspaces/list", content=content, headers=headers)
        assert r.status_code == status, (headers, r.text)
        assert r.headers["content-type"] == "application/json"
        assert r.json() == {"message": r.json()["message"], "exceptionClassName": KNOWN}


async def test_trailing_slash_and_extra_fields_are_accepted(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/source_definitions/list/", json={"unknown": [1, 2]})
    assert r.status_code == 200 and r.json()["sourceDefinitions"]


async def test_oversized_body_is_413_and_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), max_body_bytes=2048)
    async with running(create_app(settings)) as c:
        workspace_id = await default_workspace(c)
        body = {
            "workspaceId": workspace_id,
            "sourceDefinitionId": E2E,
            "name": "big",
            "connectionConfiguration": {"padding": "x" * 4096},
        }
        before = counts(settings)
        r = await post(c, "sources/create", body)
        assert r.status_code == 413
        assert set(r.json()) == {"message", "exceptionClassName"}
        assert "2048" in r.json()["message"]
        # Without a Content-Length (chunked), the limit still holds.

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(4):
                yield b" " * 1024

        r = await c.post("/api/v1/sources/create", content=chunks())
        assert r.status_code == 413
        assert counts(settings) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # The definition is checked after the workspace; neither write happens.
        (
            "sources/create",
            {"sourceDefinitionId": str(uuid.uuid4()), "name": "x", "connectionConfiguration": {}},
        ),
        ("connections/create", {"status": "active", "schedule": {"units": 0, "timeUnit": "days"}}),
        (
            "connections/create",
            {
                "status": "active",
                "syncCatalog": {
                    "streams": [
                        {
                            "stream": {"name": "a", "supportedSyncModes": ["full_refresh"]},
                            "config": {"syncMode": "incremental", "destinationSyncMode": "append"},
                        }
                    ]
                },
            },
        ),
        ("connections/create", {"status": "active", "operationIds": [str(uuid.uuid4())]}),
        (
            "source_definitions/create_custom",
            {
                "workspaceId": str(uuid.uuid4()),
                "sourceDefinition": {
                    "name": "x",
                    "dockerRepository": "a/b",
                    "dockerImageTag": "1",
                    "documentationUrl": "https://example.com",
                },
            },
        ),
    ],
)
async def test_a_failed_create_writes_nothing(
    settings: Settings, path: str, body: dict[str, object]
) -> None:
    async with running(create_app(settings)) as c:
        workspace_id = await default_workspace(c)
        source_id = (await make_source(c, workspace_id))["sourceId"]
        destination_id = (await make_destination(c, workspace_id))["destinationId"]
        before = counts(settings)
        full = {
            "workspaceId": workspace_id,
            "sourceId": source_id,
            "destinationId": destination_id,
            **body,
        }
        r = await post(c, path, full)
        assert r.status_code in (404, 422), r.text
        assert counts(settings) == before


async def test_a_failed_recreate_keeps_the_old_source(settings: Settings) -> None:
    async with running(create_app(settings)) as c:
        workspace_id = await default_workspace(c)
        source = await make_source(c, workspace_id)
        before = counts(settings)
        r = await post(
            c,
            "web_backend/sources/recreate",
            {
                "sourceId": source["sourceId"],
                "workspaceId": workspace_id,
                "sourceDefinitionId": str(uuid.uuid4()),
                "name": "y",
                "connectionConfiguration": {},
            },
        )
        assert r.status_code == 404
        assert counts(settings) == before
        assert (await post(c, "sources/get", {"sourceId": source["sourceId"]})).json() == source
