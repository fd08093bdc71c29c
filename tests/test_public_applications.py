"""The public API's applications (`/api/public/v1/applications`): the admin's client
credentials, listed, created, read and deleted, and the tokens they are exchanged for."""

from __future__ import annotations

import httpx

from tests.support.auth import api_key, bearer
from tests.support.public import API, assert_problem

MASK = "**********"


async def token_for(client: httpx.AsyncClient, application: dict[str, str]) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": application["clientId"],
        "client_secret": application["clientSecret"],
    }
    return await client.post(f"{API}/applications/token", data=form, auth=None)


async def test_application_lifecycle(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{API}/applications", json={"name": "airflow"})
    assert created.status_code == 200, created.text
    assert created.headers["content-type"] == "application/json"
    application = created.json()
    assert {"id", "name", "clientId", "clientSecret", "createdAt"} <= set(application)
    assert application["name"] == "airflow" and isinstance(application["createdAt"], int)
    assert application["clientSecret"] != MASK  # shown once, here
    app_id = application["id"]

    token = await token_for(client, application)
    assert token.status_code == 200, token.text
    key = bearer(token.json()["access_token"])
    assert (await client.get(f"{API}/workspaces", headers=key, auth=None)).status_code == 200

    masked = {**application, "clientSecret": MASK}
    listed = await client.get(f"{API}/applications")
    assert listed.status_code == 200 and listed.json() == {"applications": [masked]}
    got = await client.get(f"{API}/applications/{app_id}")
    assert got.status_code == 200 and got.json() == masked
    # One world: the configuration API lists the same application.
    config = await client.post("/api/v1/applications/list", json={})
    assert [a["id"] for a in config.json()["applications"]] == [app_id]

    deleted = await client.delete(f"{API}/applications/{app_id}")
    assert deleted.status_code == 200 and deleted.json() == masked
    assert_problem(await client.get(f"{API}/applications/{app_id}"), 404, "resource-not-found")
    assert_problem(await client.delete(f"{API}/applications/{app_id}"), 404, "resource-not-found")
    assert (await client.get(f"{API}/applications")).json() == {"applications": []}
    # Its token and its credentials stop working at once.
    refused = await client.get(f"{API}/workspaces", headers=key, auth=None)
    assert_problem(refused, 401, "invalid-api-key")
    assert_problem(await token_for(client, application), 401, "invalid-api-key")


async def test_bad_input_is_a_problem(client: httpx.AsyncClient) -> None:
    missing = await client.post(f"{API}/applications", json={})
    assert "name" in assert_problem(missing, 422, "unprocessable-entity")["detail"]
    empty = await client.post(f"{API}/applications", json={"name": ""})
    assert_problem(empty, 422, "unprocessable-entity")
    assert_problem(await client.get(f"{API}/applications/not-a-uuid"), 404, "resource-not-found")
    wrong = await client.get(f"{API}/applications/token")
    assert_problem(wrong, 405, "method-not-allowed")
    assert wrong.headers["allow"] == "POST"
    unknown = "3b2f8f6e-6f0a-4d55-9e55-8d9b1c7c2a10"
    assert_problem(await client.get(f"{API}/applications/{unknown}"), 404, "resource-not-found")


async def test_a_workspace_application_is_scoped_and_needs_the_admin_to_manage(
    client: httpx.AsyncClient,
) -> None:
    workspace = (await client.get(f"{API}/workspaces")).json()["data"][0]["workspaceId"]
    created = await client.post(f"{API}/applications", json={"name": "w", "workspaceId": workspace})
    assert created.status_code == 200 and created.json()["workspaceId"] == workspace
    scoped = bearer(await api_key(client, workspace))
    for method, path, body in (
        ("GET", "/applications", None),
        ("POST", "/applications", {"name": "mine"}),
        ("GET", f"/applications/{created.json()['id']}", None),
        ("DELETE", f"/applications/{created.json()['id']}", None),
    ):
        r = await client.request(method, f"{API}{path}", json=body, headers=scoped, auth=None)
        assert_problem(r, 403, "forbidden")
    assert len((await client.get(f"{API}/applications")).json()["applications"]) == 1
    # The application's own token is scoped too: it cannot manage applications either.
    token = (await token_for(client, created.json())).json()["access_token"]
    listing = await client.get(f"{API}/applications", headers=bearer(token), auth=None)
    assert_problem(listing, 403, "forbidden")
