"""Every call needs a credential: each operation in the document, each credential kind."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import jwt
import pytest

from server import openapi
from server.auth.middleware import OPEN_PATHS
from server.auth.tokens import signing_key
from tests.support.auth import (
    ADMIN,
    Clock,
    api_key,
    app_token,
    bearer,
    call,
    serve,
    settings_for,
)

OPERATIONS = openapi.operations()
BASE = openapi.base_path()
HEALTH = {"/api/v1/health", "/api/public/v1/health"}


def url(op: openapi.Operation) -> str:
    return BASE + op.path


async def send(
    client: httpx.AsyncClient, op: openapi.Operation, headers: dict[str, str]
) -> httpx.Response:
    if op.method == "GET":
        return await client.get(url(op), headers=headers)
    return await client.request(op.method, url(op), json={}, headers=headers)


def wrong_credentials(settings_key: bytes) -> dict[str, dict[str, str]]:
    forged = jwt.encode(
        {"iss": "sluice", "sub": "admin", "iat": 0, "exp": 2**40},
        "another key, 32 bytes or longer!",
    )
    expired = jwt.encode(
        {"iss": "sluice", "sub": "admin", "iat": 0, "exp": 1}, settings_key, algorithm="HS256"
    )
    wrong = base64.b64encode(b"airbyte:wrong").decode()
    return {
        "none": {},
        "wrong password": {"Authorization": f"Basic {wrong}"},
        "garbled basic": {"Authorization": "Basic !!!"},
        "bearer junk": bearer("junk"),
        "forged token": bearer(forged),
        "expired token": bearer(expired),
        "unknown key": bearer("sk_sluice_" + "x" * 43),
        "other scheme": {"Authorization": "Digest abc"},
    }


async def test_every_operation_refuses_missing_and_wrong_credentials(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with serve(settings) as (_, client):
        failures = []
        for name, headers in wrong_credentials(signing_key(settings)).items():
            for op in OPERATIONS:
                if url(op) in OPEN_PATHS or url(op) in HEALTH:
                    continue
                r = await send(client, op, headers)
                body = r.json()
                if (
                    r.status_code != 401
                    or "Basic" not in r.headers.get("www-authenticate", "")
                    or set(body) != {"message", "exceptionClassName"}
                ):
                    failures.append(f"{name}: {op.operation_id} {r.status_code} {r.text[:80]}")
            # Unknown paths too: nothing is learnt about what exists without a credential.
            r = await client.post("/api/v1/no/such/thing", headers=headers)
            if r.status_code != 401:
                failures.append(f"{name}: unknown path {r.status_code}")
        assert failures == []


async def test_every_operation_accepts_each_credential_kind(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as (_, client):
        kinds = {
            "basic": ADMIN,
            "application token": bearer(await app_token(client)),
            "api key": bearer(await api_key(client)),
            "admin token": bearer(
                (
                    await call(
                        client,
                        "applications/token",
                        {"client_id": "airbyte", "client_secret": "password"},
                        headers={},
                    )
                )["access_token"]
            ),
        }
        failures = []
        for kind, headers in kinds.items():
            for op in OPERATIONS:
                r = await send(client, op, headers)
                if r.status_code in (401, 403) or r.status_code >= 500:
                    failures.append(f"{kind}: {op.operation_id} {r.status_code} {r.text[:80]}")
        assert failures == []


async def test_health_and_the_document_are_open(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as (_, client):
        r = await client.get("/api/v1/health")
        assert r.status_code == 200 and r.json() == {"available": True, "db": True}
        assert "x-ratelimit-limit" not in r.headers  # health is exempt
        for path in ("/api/v1/openapi.yaml", "/api/v1/openapi.json"):
            assert (await client.get(path)).status_code == 200


async def test_auth_none_lets_every_call_through(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, auth="none")) as (_, client):
        r = await client.post("/api/v1/workspaces/list", json={})
        assert r.status_code == 200 and len(r.json()["workspaces"]) == 1


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        # airbyte-api SDK, Airflow 4+, Terraform: form-encoded with grant_type.
        (
            "/api/public/v1/applications/token",
            {"data": {"grant_type": "client_credentials", "client_id": "C", "client_secret": "S"}},
        ),
        # dagster, PyAirbyte: JSON without a grant type.
        ("/api/public/v1/applications/token", {"json": {"client_id": "C", "client_secret": "S"}}),
        # Airbyte's schema spelling.
        (
            "/api/public/v1/applications/token",
            {"json": {"client_id": "C", "client_secret": "S", "grant-type": "client_credentials"}},
        ),
        ("/api/v1/applications/token", {"json": {"client_id": "C", "client_secret": "S"}}),
        # Where SDKs resolve their default token URLs (`/applications/token`, Terraform's).
        ("/applications/token", {"data": {"client_id": "C", "client_secret": "S"}}),
        ("/v1/applications/token", {"data": {"client_id": "C", "client_secret": "S"}}),
    ],
)
async def test_token_bodies_real_clients_send(
    tmp_path: Path, path: str, kwargs: dict[str, dict[str, str]]
) -> None:
    async with serve(settings_for(tmp_path)) as (_, client):
        app = await call(client, "applications/create", {"name": "etl"})
        assert len(app["clientSecret"]) >= 32
        body = next(iter(kwargs.values()))
        body.update(client_id=app["clientId"], client_secret=app["clientSecret"])
        r = await client.post(path, **kwargs)  # type: ignore[arg-type]
        assert r.status_code == 200, r.text
        reply = r.json()
        assert reply["token_type"] == "Bearer" and reply["expires_in"] == 900
        # The token works on the Configuration API, as dagster and PyAirbyte use it.
        listed = await call(client, "workspaces/list", headers=bearer(reply["access_token"]))
        assert len(listed["workspaces"]) == 1


async def test_wrong_client_credentials_and_grant_types(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as (_, client):
        app = await call(client, "applications/create", {"name": "etl"})
        for body in (
            {"client_id": app["clientId"], "client_secret": "wrong"},
            {"client_id": "unknown", "client_secret": app["clientSecret"]},
            {"client_id": "airbyte", "client_secret": "wrong"},
        ):
            r = await client.post("/api/public/v1/applications/token", json=body)
            assert r.status_code == 401, r.text
            # The public API's errors are problem JSON.
            assert r.json()["detail"] == "Invalid client id or secret."
            assert "Basic" in r.headers["www-authenticate"]
        r = await client.post(
            "/api/public/v1/applications/token",
            data={"grant_type": "password", "client_id": "a", "client_secret": "b"},
        )
        problems = r.json()["data"]["validationErrors"]
        assert r.status_code == 422 and problems[0]["propertyPath"] == "grant_type"
        r = await client.post("/api/v1/applications/token", json={"client_id": "a"})
        assert r.status_code == 422
        assert r.json()["validationErrors"][0]["propertyPath"] == "client_secret"


async def test_applications_list_and_delete(tmp_path: Path) -> None:
    clock = Clock()
    async with serve(settings_for(tmp_path), clock) as (_, client):
        app = await call(client, "applications/create", {"name": "etl"})
        assert app["createdAt"] == int(clock.now)
        token = await call(
            client,
            "applications/token",
            {"client_id": app["clientId"], "client_secret": app["clientSecret"]},
            headers={},
        )
        listed = (await call(client, "applications/list"))["applications"]
        assert [a["id"] for a in listed] == [app["id"]]
        assert listed[0]["clientSecret"] == "**********"  # shown once, stored hashed
        r = await client.post(
            "/api/v1/applications/delete", json={"applicationId": app["id"]}, headers=ADMIN
        )
        assert r.status_code == 204
        # Its token stops working at once, not when it expires.
        r = await client.post(
            "/api/v1/workspaces/list", json={}, headers=bearer(token["access_token"])
        )
        assert r.status_code == 401
        r = await client.post(
            "/api/v1/applications/delete", json={"applicationId": app["id"]}, headers=ADMIN
        )
        assert r.status_code == 404


async def test_tokens_expire(tmp_path: Path) -> None:
    clock = Clock()
    async with serve(settings_for(tmp_path, token_expires_seconds=120), clock) as (_, client):
        headers = bearer(await app_token(client))
        clock.now += 119
        assert (await client.post("/api/v1/workspaces/list", headers=headers)).status_code == 200
        clock.now += 1
        assert (await client.post("/api/v1/workspaces/list", headers=headers)).status_code == 401


async def test_admin_token_ends_with_a_new_password(tmp_path: Path) -> None:
    body = {"client_id": "airbyte", "client_secret": "first"}
    async with serve(settings_for(tmp_path, password="first")) as (_, client):
        token = (await call(client, "applications/token", body, headers={}))["access_token"]
        r = await client.post("/api/v1/workspaces/list", headers=bearer(token))
        assert r.status_code == 200
    async with serve(settings_for(tmp_path, password="second")) as (_, client):
        r = await client.post("/api/v1/workspaces/list", headers=bearer(token))
        assert r.status_code == 401


async def test_the_token_key_is_private_and_kept(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with serve(settings) as (_, client):
        token = await app_token(client)
    key_file = settings.data_path / "token.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    async with serve(settings) as (_, client):  # a restart keeps the key: tokens still work
        assert (await client.post("/api/v1/workspaces/list", headers=bearer(token))).is_success


async def test_api_keys_shown_once_listed_without_value(tmp_path: Path) -> None:
    clock = Clock()
    async with serve(settings_for(tmp_path), clock) as (_, client):
        created = await call(client, "api_keys/create", {"name": "ci"})
        key = created["key"]
        assert key.startswith("sk_sluice_") and len(key) > 40
        listed = (await call(client, "api_keys/list"))["apiKeys"]
        assert len(listed) == 1 and "key" not in listed[0]
        assert listed[0]["prefix"] == key[:18] and "lastUsedAt" not in listed[0]
        clock.now += 5
        assert (await client.post("/api/v1/workspaces/list", headers=bearer(key))).is_success
        listed = (await call(client, "api_keys/list"))["apiKeys"]
        assert listed[0]["lastUsedAt"] == int(clock.now)
        # The database holds a digest, never the key.
        assert key.encode() not in (tmp_path / "data" / "sluice.db").read_bytes()
        assert key.encode() not in (tmp_path / "data" / "sluice.db-wal").read_bytes()


async def test_revoked_and_expired_keys_are_refused_at_once(tmp_path: Path) -> None:
    clock = Clock()
    async with serve(settings_for(tmp_path), clock) as (_, client):
        key = await api_key(client)
        created = (await call(client, "api_keys/list"))["apiKeys"][0]
        assert (await client.post("/api/v1/workspaces/list", headers=bearer(key))).is_success
        revoked = await call(client, "api_keys/revoke", {"apiKeyId": created["apiKeyId"]})
        assert revoked["revokedAt"] == int(clock.now)
        assert (
            await client.post("/api/v1/workspaces/list", headers=bearer(key))
        ).status_code == 401

        expiring = await api_key(client, expiresAt=int(clock.now) + 60)
        assert (await client.post("/api/v1/workspaces/list", headers=bearer(expiring))).is_success
        clock.now += 60
        r = await client.post("/api/v1/workspaces/list", headers=bearer(expiring))
        assert r.status_code == 401

        r = await client.post(
            "/api/v1/api_keys/create",
            json={"name": "late", "expiresAt": int(clock.now) - 1},
            headers=ADMIN,
        )
        assert r.status_code == 422 and r.json()["validationErrors"][0]["propertyPath"] == (
            "expiresAt"
        )
        r = await client.post(
            "/api/v1/api_keys/revoke",
            json={"apiKeyId": "00000000-0000-0000-0000-000000000000"},
            headers=ADMIN,
        )
        assert r.status_code == 404
