"""Schedules through the HTTP API: describe_cron_expression, and bad cron on connections."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import post

E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"


async def describe(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await post(client, "web_backend/describe_cron_expression", body)


async def test_describe_quartz_expression(client: httpx.AsyncClient) -> None:
    before = time.time()
    r = await describe(client, {"cronExpression": "0 0 12 * * ?", "cronTimeZone": "UTC"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cronExpression"] == "0 0 12 * * ?"
    assert body["description"] == "At 12:00 PM"
    runs = body["nextExecutions"]
    assert len(runs) == 3 and runs == sorted(runs) and runs[0] > before
    assert [runs[1] - runs[0], runs[2] - runs[1]] == [86400, 86400]
    assert all(datetime.fromtimestamp(t, UTC).hour == 12 for t in runs)


async def test_describe_in_a_time_zone_and_unix_form(client: httpx.AsyncClient) -> None:
    r = await describe(client, {"cronExpression": "30 9 * * 1-5", "cronTimeZone": "Asia/Tokyo"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["description"] == "At 09:30 AM, Monday through Friday (Asia/Tokyo)"
    for t in body["nextExecutions"]:
        local = datetime.fromtimestamp(t, ZoneInfo("Asia/Tokyo"))
        assert (local.hour, local.minute) == (9, 30) and local.weekday() < 5


async def test_describe_seconds_and_default_zone(client: httpx.AsyncClient) -> None:
    r = await describe(client, {"cronExpression": "*/2 * * * * ?"})
    assert r.status_code == 200, r.text
    runs = r.json()["nextExecutions"]
    assert [runs[1] - runs[0], runs[2] - runs[1]] == [2, 2]
    assert all(t % 2 == 0 for t in runs)
    # Trailing slash, as some clients send.
    r = await client.post(
        "/api/v1/web_backend/describe_cron_expression/", json={"cronExpression": "0 0 * * *"}
    )
    assert r.status_code == 200 and r.json()["description"] == "At 12:00 AM"


@pytest.mark.parametrize(
    ("body", "path", "says"),
    [
        ({"cronExpression": "0 0 25 * * ?"}, "cronExpression", "hours value 25"),
        ({"cronExpression": "every day"}, "cronExpression", "has 2"),
        ({"cronExpression": "0 0 12 * * ?", "cronTimeZone": "Moon/Base"}, "cronTimeZone", "zone"),
        ({"cronTimeZone": "UTC"}, "cronExpression", "cronExpression"),
        ({"cronExpression": "0 0 0 ? * * 2020"}, "cronExpression", "never fires again"),
        ({"cronExpression": "0 0 12 * * ?", "cronTimeZone": "localtime"}, "cronTimeZone", "zone"),
        ({"cronExpression": "0 0 12 * * ?", "cronTimeZone": "right/UTC"}, "cronTimeZone", "zone"),
        # As connections/create and update refuse it (one rule for both).
        ({"cronExpression": "0 0 12 * * ?", "cronTimeZone": ""}, "cronTimeZone", "cronTimeZone"),
    ],
)
async def test_describe_rejects_bad_input_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], path: str, says: str
) -> None:
    r = await describe(client, body)
    assert r.status_code == 422, r.text
    error = r.json()
    assert [e["propertyPath"] for e in error["validationErrors"]] == [path]
    assert says in error["message"]
    if path in body:
        assert error["validationErrors"][0]["invalidValue"] == body[path]


async def _ends(client: httpx.AsyncClient) -> tuple[str, str]:
    workspace_id = (await post(client, "workspaces/list")).json()["workspaces"][0]["workspaceId"]
    source = await post(
        client,
        "sources/create",
        {
            "workspaceId": workspace_id,
            "sourceDefinitionId": E2E,
            "name": "Feed",
            "connectionConfiguration": {"max_messages": 10},
        },
    )
    destination = await post(
        client,
        "destinations/create",
        {
            "workspaceId": workspace_id,
            "destinationDefinitionId": SQLITE,
            "name": "Lake",
            "connectionConfiguration": {"destination_path": "/local/out.db"},
        },
    )
    return source.json()["sourceId"], destination.json()["destinationId"]


def _cron(expression: str, zone: str = "UTC") -> dict[str, Any]:
    return {
        "scheduleType": "cron",
        "scheduleData": {"cron": {"cronExpression": expression, "cronTimeZone": zone}},
    }


@pytest.mark.parametrize(
    ("schedule", "path", "says"),
    [
        (_cron("0 0 12 15 * MON"), "scheduleData.cron.cronExpression", "not both"),
        (_cron("61 * * * *"), "scheduleData.cron.cronExpression", "minutes value 61"),
        (_cron("0 0 12 30 2 ?"), "scheduleData.cron.cronExpression", "no date ever matches"),
        (_cron("0 0 12 * * ?", "Europe/Atlantis"), "scheduleData.cron.cronTimeZone", "zone"),
        (_cron("0 0 0 ? * * 2020"), "scheduleData.cron.cronExpression", "never fires again"),
        (_cron("0 0 12 * * ?", "localtime"), "scheduleData.cron.cronTimeZone", "zone"),
        (_cron("0 0 12 * * ?", "posixrules"), "scheduleData.cron.cronTimeZone", "zone"),
        (_cron("0 0 12 * * ?", "right/UTC"), "scheduleData.cron.cronTimeZone", "zone"),
        (_cron("0 0 12 * * ?", ""), "scheduleData.cron.cronTimeZone", "cronTimeZone"),
    ],
)
async def test_connections_reject_bad_cron(
    client: httpx.AsyncClient, schedule: dict[str, Any], path: str, says: str
) -> None:
    source_id, destination_id = await _ends(client)
    ends = {"sourceId": source_id, "destinationId": destination_id, "status": "inactive"}
    r = await post(client, "connections/create", {**ends, **schedule})
    assert r.status_code == 422, r.text
    assert [e["propertyPath"] for e in r.json()["validationErrors"]] == [path]
    assert says in r.json()["message"]

    # The same on update; the stored schedule stays as it was.
    good = _cron("0 0 6 * * ?", "Europe/Berlin")
    created = await post(client, "connections/create", {**ends, **good})
    assert created.status_code == 200, created.text
    cid = created.json()["connectionId"]
    r = await post(client, "connections/update", {"connectionId": cid, **schedule})
    assert r.status_code == 422, r.text
    assert [e["propertyPath"] for e in r.json()["validationErrors"]] == [path]
    stored = (await post(client, "connections/get", {"connectionId": cid})).json()
    assert stored["scheduleData"] == good["scheduleData"]


async def test_connections_accept_quartz_unix_and_any_zone(client: httpx.AsyncClient) -> None:
    source_id, destination_id = await _ends(client)
    # Paused: the app's scheduler is on, and these are not meant to sync.
    ends = {"sourceId": source_id, "destinationId": destination_id, "status": "inactive"}
    for expression, zone in [
        ("0 15 10 ? * 6L", "America/New_York"),
        ("0 0 12 ? * MON-FRI 2030", "Asia/Kolkata"),
        ("*/15 * * * *", "UTC"),
        ("*/2 * * * * ?", "Pacific/Chatham"),
    ]:
        r = await post(client, "connections/create", {**ends, **_cron(expression, zone)})
        assert r.status_code == 200, r.text
        assert r.json()["scheduleData"]["cron"] == {
            "cronExpression": expression,
            "cronTimeZone": zone,
        }
