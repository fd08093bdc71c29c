"""The HTTP edge: what every request passes before a route sees it (issue 9, items 4 and 9).

A web page can make a browser send "simple" POSTs (`text/plain`, any `Origin`) to Sluice, and
DNS rebinding gives such a page the server's address under the attacker's host name; these
tests drive the in-process app with the requests such a page sends, and with the nested bodies
and out-of-range ids that fuzzing found.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.edge import MAX_JSON_DEPTH, json_depth
from server.settings import Settings
from tests.conftest import post, running
from tests.support.actors import E2E, default_workspace, make_source

FAKER = "dfd88b22-b603-4c3d-aad7-3701784586b1"
ATTACK = {
    "sourceDefinitionId": FAKER,
    "runner": "process",
    "command": ["/bin/sh", "-c", "id > owned.txt", "sh"],
}
KNOWN = "io.airbyte.commons.server.errors.ApplicationErrorKnownException"


def error_body(r: httpx.Response) -> dict[str, object]:
    """The API's error body: JSON with a message and the exception class name."""
    assert r.headers["content-type"] == "application/json", r.text
    body = r.json()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["exceptionClassName"], str) and body["exceptionClassName"]
    return body  # type: ignore[no-any-return]


async def faker_definition(client: httpx.AsyncClient) -> dict[str, object]:
    r = await post(client, "source_definitions/get", {"sourceDefinitionId": FAKER})
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


# --- content type ------------------------------------------------------------------------------


async def test_a_text_plain_post_from_a_web_page_is_415_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await faker_definition(client)
    for headers in (
        {"content-type": "text/plain"},
        {"content-type": "text/plain;charset=UTF-8", "origin": "http://localhost:8000"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "multipart/form-data; boundary=x"},
        {"content-type": "application/jsonx"},
        {},  # no content type at all
    ):
        r = await client.post(
            "/api/v1/source_definitions/update", content=json.dumps(ATTACK), headers=headers
        )
        assert r.status_code == 415, (headers, r.text)
        assert "application/json" in error_body(r)["message"]
    assert await faker_definition(client) == before


async def test_a_chunked_non_json_body_is_415(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield json.dumps(ATTACK).encode()

    before = await faker_definition(client)
    r = await client.post(
        "/api/v1/source_definitions/update",
        content=chunks(),
        headers={"content-type": "text/plain"},
    )
    assert r.status_code == 415
    error_body(r)
    assert await faker_definition(client) == before


async def test_json_bodies_with_a_utf8_charset_and_empty_bodies_pass(
    client: httpx.AsyncClient,
) -> None:
    for content_type in (
        "application/json",
        "application/json; charset=utf-8",
        'Application/JSON;charset="UTF-8"',
    ):
        r = await client.post(
            "/api/v1/workspaces/list", content=b"{}", headers={"content-type": content_type}
        )
        assert r.status_code == 200, (content_type, r.text)
    r = await client.post(
        "/api/v1/workspaces/list",
        content=b"{}",
        headers={"content-type": "application/json; charset=latin-1"},
    )
    assert r.status_code == 415
    # An absent or empty body is `{}` and needs no content type (whatever one is sent).
    r = await client.post("/api/v1/workspaces/list")
    assert r.status_code == 200 and r.json()["workspaces"]
    r = await client.post("/api/v1/workspaces/list", content=b"", headers={"content-type": "x/y"})
    assert r.status_code == 200


async def test_health_answers_with_no_body_and_no_content_type(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {"available": True, "db": True}


# --- Host and Origin ---------------------------------------------------------------------------


async def test_a_foreign_host_header_is_refused_as_dns_rebinding(
    client: httpx.AsyncClient,
) -> None:
    before = await faker_definition(client)
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", "", "[::1"):
        r = await client.post(
            "/api/v1/source_definitions/update", json=ATTACK, headers={"host": host}
        )
        assert r.status_code == 400, (host, r.text)
        assert "SLUICE_ALLOWED_HOSTS" in error_body(r)["message"]
        r = await client.get("/api/v1/health", headers={"host": host})
        assert r.status_code == 400, host
    assert await faker_definition(client) == before


async def test_the_default_hosts_pass_with_or_without_a_port(client: httpx.AsyncClient) -> None:
    for host in (
        "localhost",
        "LOCALHOST:8000",
        "127.0.0.1",
        "127.0.0.1:8000",
        "[::1]",
        "[::1]:8000",
    ):
        r = await client.post("/api/v1/workspaces/list", json={}, headers={"host": host})
        assert r.status_code == 200, (host, r.text)


async def test_allowed_hosts_setting_replaces_the_default(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        scheduler_tick_seconds=0,
        allowed_hosts="sluice.internal, 10.0.0.5:8000",
    )
    async with running(create_app(settings)) as c:
        ok = [("sluice.internal", 200), ("sluice.internal:9", 200), ("10.0.0.5:8000", 200)]
        bad = [("10.0.0.5:8001", 400), ("10.0.0.5", 400), ("localhost", 400)]
        for host, status in ok + bad:
            r = await c.get("/api/v1/health", headers={"host": host})
            assert r.status_code == status, host
    open_settings = Settings(
        data_dir=str(tmp_path / "data2"), scheduler_tick_seconds=0, allowed_hosts="*"
    )
    async with running(create_app(open_settings)) as c:
        r = await c.get("/api/v1/health", headers={"host": "anything.example"})
        assert r.status_code == 200
        # With every host allowed, an Origin must still be the request's own host.
        r = await post_from(c, "http://evil.example", {"host": "sluice.example"})
        assert r.status_code == 403
        r = await post_from(c, "https://sluice.example", {"host": "sluice.example"})
        assert r.status_code == 200


async def post_from(
    client: httpx.AsyncClient, origin: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        "/api/v1/workspaces/list", json={}, headers={"origin": origin, **(headers or {})}
    )


async def test_a_state_changing_request_from_a_foreign_origin_is_403(
    client: httpx.AsyncClient,
) -> None:
    before = await faker_definition(client)
    r = await client.post(
        "/api/v1/source_definitions/update",
        json=ATTACK,
        headers={"origin": "http://evil.example"},
    )
    assert r.status_code == 403
    assert "evil.example" in error_body(r)["message"]
    assert await faker_definition(client) == before
    for origin in ("null", "http://evil.example", "file://", "ftp://localhost", "localhost"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            r = await client.request(method, "/api/v1/health", headers={"origin": origin})
            assert r.status_code == 403, (method, origin)
    for origin in ("http://localhost:8000", "https://127.0.0.1", "http://[::1]:3000"):
        assert (await post_from(client, origin)).status_code == 200, origin
    # Reading is not state-changing: a GET carries no Origin check (the Host check still holds).
    r = await client.get("/api/v1/health", headers={"origin": "http://evil.example"})
    assert r.status_code == 200


async def test_an_origin_named_for_cors_may_change_things(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        scheduler_tick_seconds=0,
        cors_origins="https://ui.example",
    )
    async with running(create_app(settings)) as c:
        r = await post_from(c, "https://ui.example")
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == "https://ui.example"
        assert (await post_from(c, "https://other.example")).status_code == 403


async def test_the_test_client_host_is_an_allowed_one(client: httpx.AsyncClient) -> None:
    """The fixtures talk to the app as `localhost`, a default allowed host, so the check is the
    real one in every other test too."""
    r = await client.get("/api/v1/health")
    assert r.request.headers["host"] == "localhost"
    assert r.status_code == 200


# --- nested JSON ---------------------------------------------------------------------------------


def nested(depth: int, leaf: object = 1) -> object:
    value: object = leaf
    for i in range(depth):
        value = {"a": value} if i % 2 else [value]
    return value


def deep_text(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_json_depth_counts_brackets_outside_strings() -> None:
    assert json_depth(b"{}") == 1
    assert json_depth(b"1") == 0
    assert json_depth(b'{"a": [1, {"b": []}], "c": {}}') == 4
    assert json_depth(b'{"a": "[[[[{{{{\\"[[[["}') == 1
    # An escaped backslash before a closing quote, then brackets in and out of strings.
    assert json_depth(rb'["\\\"]", "\\", [[["\\\\"]]]]') == 4
    assert json_depth(json.dumps([nested(5), nested(50), [nested(3)]]).encode()) == 51
    assert json_depth(json.dumps(nested(MAX_JSON_DEPTH)).encode()) == MAX_JSON_DEPTH
    assert json_depth(json.dumps(nested(500)).encode()) > MAX_JSON_DEPTH
    assert json_depth(deep_text(100_000).encode()) > MAX_JSON_DEPTH


@pytest.mark.parametrize(
    "raw",
    [
        b'["' + b'\\"' * 2_000_000,  # an unterminated string of escaped quotes
        b"[" + b"[]," * 1_000_000 + b"[]]",  # many shallow siblings
        (b"[" * 100 + b"]" * 100 + b",") * 20_000,  # many nests just under the limit
    ],
)
def test_json_depth_is_linear_on_hostile_bodies(raw: bytes) -> None:
    """A backtracking string pattern took 7 s for 40 kB of escaped quotes; this is C-speed."""
    started = time.perf_counter()
    json_depth(raw)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 950, 1000, 100_000])
async def test_deeply_nested_json_is_400_not_a_recursion_error(
    client: httpx.AsyncClient, depth: int
) -> None:
    workspace_id = await default_workspace(client)
    config = '{"max_messages": 1, "x": ' + deep_text(depth - 2) + "}"
    body = (
        f'{{"workspaceId": "{workspace_id}", "sourceDefinitionId": "{E2E}", "name": "deep", '
        f'"connectionConfiguration": {config}}}'
    )
    r = await client.post(
        "/api/v1/sources/create", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400, r.text[:300]
    assert str(MAX_JSON_DEPTH) in error_body(r)["message"]
    source = await make_source(client, workspace_id)
    state = {
        "connectionId": "00000000-0000-0000-0000-000000000001",
        "connectionState": {"stateType": "legacy", "state": {"cursor": 1}},
    }
    text = json.dumps(state).replace('{"cursor": 1}', deep_text(depth - 2))
    r = await client.post(
        "/api/v1/state/create_or_update",
        content=text,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400, r.text[:300]
    assert (await post(client, "sources/get", {"sourceId": source["sourceId"]})).status_code == 200


async def test_nesting_up_to_the_limit_is_served(client: httpx.AsyncClient) -> None:
    workspace_id = await default_workspace(client)
    # The body's own levels (the object, connectionConfiguration) count toward the limit.
    config = {"max_messages": 1, "x": nested(MAX_JSON_DEPTH - 2)}
    body = {
        "workspaceId": workspace_id,
        "sourceDefinitionId": E2E,
        "name": "deep but allowed",
        "connectionConfiguration": config,
    }
    r = await post(client, "sources/create", body)
    assert r.status_code == 200, r.text[:300]
    r = await post(client, "sources/get", {"sourceId": r.json()["sourceId"]})
    assert r.json()["connectionConfiguration"]["x"] == config["x"]


# --- integer ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("job_id", [2**63, 2**64, 10**30, -(2**63) - 1])
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("jobs/get", "id"),
        ("jobs/get_light", "id"),
        ("jobs/get_without_logs", "id"),
        ("jobs/cancel", "id"),
        ("jobs/list", "includingJobId"),
    ],
)
async def test_an_id_outside_sqlite_integers_is_422_not_an_overflow(
    client: httpx.AsyncClient, path: str, field: str, job_id: int
) -> None:
    r = await post(client, path, {field: job_id})
    assert r.status_code == 422, r.text
    error = r.json()["validationErrors"][0]
    assert (error["propertyPath"], error["invalidValue"]) == (field, str(job_id))


@pytest.mark.parametrize("job_id", [2**63 - 1, -(2**63), 0])
async def test_an_unknown_id_inside_the_range_is_404(
    client: httpx.AsyncClient, job_id: int
) -> None:
    for path in ("jobs/get", "jobs/get_light", "jobs/get_without_logs", "jobs/cancel"):
        r = await post(client, path, {"id": job_id})
        assert r.status_code == 404, (path, r.text)
    r = await post(client, "jobs/list", {"includingJobId": job_id})
    assert r.status_code == 200 and r.json()["jobs"] == []


async def test_huge_integers_inside_free_form_values_are_kept(client: httpx.AsyncClient) -> None:
    """Free-form JSON (configurations, states) is stored as JSON text, so an integer beyond
    64 bits there is data, not an overflow: it comes back as sent."""
    workspace_id = await default_workspace(client)
    huge = 2**70
    source = await make_source(client, workspace_id, max_messages=1, seed=huge)
    assert source["connectionConfiguration"]["seed"] == huge  # type: ignore[index]
    r = await post(client, "sources/get", {"sourceId": source["sourceId"]})
    assert r.status_code == 200 and r.json()["connectionConfiguration"]["seed"] == huge


async def test_a_request_without_credentials_is_refused_before_its_body_is_read(
    app: object,
) -> None:
    """The credential check needs only headers: a caller without one gets its 401 at once,
    and the server never waits for (nor buffers) the body it announced."""
    sent: list[dict[str, object]] = []
    asked_for_body = False

    async def receive() -> dict[str, object]:
        nonlocal asked_for_body
        asked_for_body = True
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/workspaces/list",
        "raw_path": b"/api/v1/workspaces/list",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/json"),
            (b"content-length", str(16 << 20).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    assert isinstance(app, Starlette)
    async with app.router.lifespan_context(app):
        with anyio.fail_after(5):
            await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 401
    assert not asked_for_body
