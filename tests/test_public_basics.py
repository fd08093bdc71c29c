"""The public API's edges: health, tokens in every shape clients send, problem JSON for every
error (unknown paths, missing credentials, bad input), pagination links, and workspaces."""

from __future__ import annotations

import re
import sqlite3
import uuid

import httpx
import pytest
from starlette.applications import Starlette

from server import openapi
from tests.support.public import API, assert_problem


async def test_health_needs_no_credential(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/health", auth=None)
    assert response.status_code == 200
    assert response.text == "Successful operation"


async def test_the_document_is_served_as_yaml_and_json(client: httpx.AsyncClient) -> None:
    as_json = await client.get(f"{API}/openapi.json", auth=None)
    assert as_json.status_code == 200 and as_json.json()["openapi"].startswith("3.1")
    as_yaml = await client.get(f"{API}/openapi.yaml", auth=None)
    assert as_yaml.status_code == 200 and b"/workspaces/{workspaceId}" in as_yaml.content


async def test_no_credential_is_a_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/workspaces", auth=None)
    assert_problem(response, 401, "invalid-api-key")
    assert "Bearer" in response.headers["www-authenticate"]


async def test_unknown_paths_and_methods_are_json_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/no_such_thing"), 404, "resource-not-found")
    assert_problem(await client.put(f"{API}/workspaces"), 405, "method-not-allowed")
    # The config API's unknown paths stay in its own error body.
    other = await client.post("/api/v1/no_such_thing", json={})
    assert other.status_code == 404 and "exceptionClassName" in other.json()


@pytest.mark.parametrize(
    ("path", "form"),
    [
        (f"{API}/applications/token", True),
        (f"{API}/applications/token", False),
        ("/v1/applications/token", True),
        ("/applications/token", True),
    ],
)
async def test_tokens_in_every_shape_clients_send(
    client: httpx.AsyncClient, path: str, form: bool
) -> None:
    fields = {"client_id": "airbyte", "client_secret": "password"}
    if form:  # the airbyte-api SDK, Airflow and Terraform
        reply = await client.post(
            path, data={"grant_type": "client_credentials", **fields}, auth=None
        )
    else:  # dagster and PyAirbyte: JSON, no grant type
        reply = await client.post(path, json=fields, auth=None)
    assert reply.status_code == 200, reply.text
    token = reply.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 60
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    listed = await client.get(f"{API}/workspaces", headers=bearer, auth=None)
    assert listed.status_code == 200
    # The same token works on the Configuration API (dagster and PyAirbyte rely on it).
    config = await client.post("/api/v1/workspaces/list", json={}, headers=bearer, auth=None)
    assert config.status_code == 200


async def test_wrong_client_credentials_are_a_401_problem(client: httpx.AsyncClient) -> None:
    reply = await client.post(
        f"{API}/applications/token",
        json={"client_id": "airbyte", "client_secret": "nope"},
        auth=None,
    )
    assert_problem(reply, 401, "invalid-api-key")


async def test_workspace_lifecycle(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{API}/workspaces", json={"name": "Analytics"})
    assert created.status_code == 200, created.text
    workspace = created.json()
    assert workspace["name"] == "Analytics"
    assert workspace["dataResidency"] == "auto" and workspace["notifications"] == {}
    wid = workspace["workspaceId"]
    got = await client.get(f"{API}/workspaces/{wid}")
    assert got.json() == workspace
    patched = await client.patch(f"{API}/workspaces/{wid}", json={"name": "Renamed"})
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"
    # Configuration API and public API see one world.
    config = await client.post("/api/v1/workspaces/get", json={"workspaceId": wid})
    assert config.json()["name"] == "Renamed"
    deleted = await client.delete(f"{API}/workspaces/{wid}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_problem(await client.get(f"{API}/workspaces/{wid}"), 404, "resource-not-found")


async def test_bad_input_is_a_problem_naming_the_field(client: httpx.AsyncClient) -> None:
    body = assert_problem(
        await client.post(f"{API}/workspaces", json={"name": 7}), 422, "unprocessable-entity"
    )
    assert "name" in str(body["detail"])
    assert_problem(await client.get(f"{API}/workspaces/not-a-uuid"), 400, "bad-request")
    assert_problem(await client.get(f"{API}/workspaces?limit=0"), 400, "bad-request")
    assert_problem(await client.get(f"{API}/workspaces?limit=101"), 400, "bad-request")
    # Text stays text where the parameter is not a number or a boolean: `null` is no id.
    named = assert_problem(
        await client.get(f"{API}/workspaces?workspaceIds=null"), 400, "bad-request"
    )
    assert "workspaceIds" in named["detail"]
    # An empty item is no id either (not "no filter").
    for empty in ("", f"{uuid.uuid4()},"):
        assert_problem(await client.get(f"{API}/sources?workspaceIds={empty}"), 400, "bad-request")
    assert (
        "limit"
        in assert_problem(await client.get(f"{API}/workspaces?limit=x"), 400, "bad-request")[
            "detail"
        ]
    )
    lax = await client.get(f"{API}/workspaces?includeDeleted=true&limit=5&offset=0")
    assert lax.status_code == 200
    unsupported = await client.post(
        f"{API}/workspaces",
        json={"name": "x", "notifications": {"failure": {"email": {"enabled": True}}}},
    )
    assert_problem(unsupported, 422, "unprocessable-entity")
    listed = await client.get(f"{API}/workspaces")
    assert [w["name"] for w in listed.json()["data"]] == ["Default Workspace"]


async def test_pages_link_to_their_neighbours_until_the_end(client: httpx.AsyncClient) -> None:
    for n in range(4):
        assert (await client.post(f"{API}/workspaces", json={"name": f"w{n}"})).status_code == 200
    seen: list[str] = []
    url: str = f"{API}/workspaces?limit=2"
    pages = 0
    while url:
        reply = (await client.get(url)).json()
        seen += [w["workspaceId"] for w in reply["data"]]
        assert ("limit=2" in reply["next"]) or reply["next"] == ""
        url = reply["next"]
        pages += 1
        assert pages < 10
    assert len(seen) == len(set(seen)) == 5 and pages == 3
    middle = (await client.get(f"{API}/workspaces?limit=2&offset=2")).json()
    assert "offset=0" in middle["previous"] and "offset=4" in middle["next"]
    first = (await client.get(f"{API}/workspaces?limit=2")).json()
    assert first["previous"] == ""
    only = (await client.get(f"{API}/workspaces", params={"workspaceIds": seen[1:3]})).json()
    assert sorted(w["workspaceId"] for w in only["data"]) == sorted(seen[1:3])
    joined = (await client.get(f"{API}/workspaces?workspaceIds={','.join(seen[1:3])}")).json()
    assert sorted(w["workspaceId"] for w in joined["data"]) == sorted(seen[1:3])
    missing = (
        await client.get(f"{API}/workspaces", params={"workspaceIds": str(uuid.uuid4())})
    ).json()
    assert missing["data"] == []


async def test_health_is_a_503_problem_when_the_database_does_not_answer(
    client: httpx.AsyncClient, app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_read(*args: object) -> object:
        raise sqlite3.OperationalError("disk I/O error")

    # Fault injection: a database that stops answering, for the two health requests only (the
    # worker reads the store too).
    with monkeypatch.context() as patched:
        patched.setattr(app.state.ctx.store, "read", failing_read)
        public = await client.get(f"{API}/health", auth=None)
        config = await client.get("/api/v1/health", auth=None)
    assert_problem(public, 503, "try-again-later")
    assert config.status_code == 200 and config.json()["available"] is False
    assert (await client.get(f"{API}/health", auth=None)).status_code == 200


OPEN = {"getHealthCheck", "getOpenApiYaml", "getOpenApiJson", "createAccessToken"}


@pytest.mark.parametrize("op", openapi.PUBLIC.operations(), ids=lambda op: f"{op.method} {op.path}")
async def test_every_operation_but_the_open_ones_needs_a_credential(
    client: httpx.AsyncClient, op: openapi.Operation
) -> None:
    path = re.sub(r"\{jobId\}", "1", op.path)
    path = re.sub(r"\{\w+\}", "00000000-0000-0000-0000-000000000000", path)
    reply = await client.request(op.method, f"{API}{path}", auth=None)
    if op.operation_id in OPEN:
        assert reply.status_code != 401
    else:
        assert_problem(reply, 401, "invalid-api-key")
