from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from server.settings import Settings
from server.store.db import open_db
from tests.conftest import post
from tests.support.actors import make_destination
from tests.support.connections import create, users_stream
from tests.support.postgres import store_is_postgres

Json = dict[str, Any]


def error_paths(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    return [e["propertyPath"] for e in r.json()["validationErrors"]]


async def test_modern_shape_round_trip(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    workspace_id, source_id, destination_id = ends
    r = await create(
        client,
        ends,
        name="Users",
        syncCatalog={
            "streams": [users_stream(syncMode="incremental", destinationSyncMode="append_dedup")]
        },
        scheduleType="basic",
        scheduleData={"basicSchedule": {"timeUnit": "hours", "units": 6}},
        namespaceDefinition="customformat",
        namespaceFormat="${SOURCE_NAMESPACE}_raw",
        prefix="raw_",
        geography="auto",
        nonBreakingChangesPreference="ignore",
    )
    assert r.status_code == 200, r.text
    c = r.json()
    uuid.UUID(c["connectionId"])
    assert (c["name"], c["workspaceId"], c["status"]) == ("Users", workspace_id, "active")
    assert (c["sourceId"], c["destinationId"]) == (source_id, destination_id)
    config = c["syncCatalog"]["streams"][0]["config"]
    # Hints from the source fill what the user left out.
    assert config["cursorField"] == ["updated_at"] and config["primaryKey"] == [["id"]]
    assert config["selected"] is True
    # Both schedule spellings, and the 2020 catalog beside the modern one.
    assert c["scheduleType"] == "basic"
    assert c["scheduleData"] == {"basicSchedule": {"timeUnit": "hours", "units": 6}}
    assert c["schedule"] == {"units": 6, "timeUnit": "hours"}
    early = c["syncSchema"]["streams"][0]
    assert early["name"] == "users" and early["syncMode"] == "incremental"
    assert {f["name"]: (f["dataType"], f["selected"]) for f in early["fields"]} == {
        "id": ("number", True),
        "updated_at": ("string", True),
    }
    assert (c["namespaceDefinition"], c["namespaceFormat"], c["prefix"]) == (
        "customformat",
        "${SOURCE_NAMESPACE}_raw",
        "raw_",
    )
    assert c["operationIds"] == [] and c["breakingChange"] is False
    assert isinstance(c["created_at"], int)

    r = await post(client, "connections/get", {"connectionId": c["connectionId"]})
    assert r.json() == c
    r = await post(client, "connections/list", {"workspaceId": workspace_id})
    assert r.json() == {"connections": [c]}


async def test_early_shape_is_converted(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    sync_schema = {
        "streams": [
            {
                "name": "users",
                "cleanedName": "users",
                "fields": [
                    {"name": "id", "cleanedName": "id", "dataType": "number", "selected": True},
                    {
                        "name": "email",
                        "cleanedName": "email",
                        "dataType": "string",
                        "selected": False,
                    },
                ],
                "supportedSyncModes": ["full_refresh", "incremental"],
                "sourceDefinedCursor": False,
                "defaultCursorField": ["id"],
            },
            {
                "name": "purchases",
                "fields": [{"name": "id", "dataType": "number", "selected": False}],
            },
        ]
    }
    r = await create(
        client,
        ends,
        syncSchema=sync_schema,
        syncMode="incremental",
        schedule={"units": 5, "timeUnit": "minutes"},
    )
    assert r.status_code == 200, r.text
    c = r.json()
    users, purchases = c["syncCatalog"]["streams"]
    assert users["stream"]["jsonSchema"]["properties"] == {
        "id": {"type": "number"},
        "email": {"type": "string"},
    }
    assert users["config"]["syncMode"] == "incremental"
    assert users["config"]["destinationSyncMode"] == "append"
    assert users["config"]["cursorField"] == ["id"]
    assert users["config"]["selected"] is True
    # Only `id` of users was picked: field selection in the modern form.
    assert users["config"]["fieldSelectionEnabled"] is True
    assert users["config"]["selectedFields"] == [{"fieldPath": ["id"]}]
    assert purchases["config"]["selected"] is False
    assert (c["scheduleType"], c["scheduleData"]) == (
        "basic",
        {"basicSchedule": {"timeUnit": "minutes", "units": 5}},
    )
    assert c["schedule"] == {"units": 5, "timeUnit": "minutes"}
    # The 2020 view given back keeps the per-field selection.
    early_users = c["syncSchema"]["streams"][0]
    assert {f["name"]: f["selected"] for f in early_users["fields"]} == {"id": True, "email": False}
    assert early_users["syncMode"] == "incremental"
    assert c["syncMode"] == "incremental"


async def test_default_name_is_airbytes(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    r = await create(client, ends)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Feed <> Warehouse"
    # Sent as null, not left out: 2020 clients read `conn["schedule"]` unguarded.
    assert r.json()["scheduleType"] == "manual" and r.json()["schedule"] is None
    assert r.json()["syncCatalog"] == {"streams": []}


async def test_cron_schedules(client: httpx.AsyncClient, ends: tuple[str, str, str]) -> None:
    for expression in ["0 0 12 * * ?", "0 0/15 * * * ? *", "*/5 * * * *"]:
        r = await create(
            client,
            ends,
            scheduleType="cron",
            scheduleData={"cron": {"cronExpression": expression, "cronTimeZone": "Europe/Paris"}},
        )
        assert r.status_code == 200, (expression, r.text)
        assert r.json()["scheduleData"]["cron"]["cronExpression"] == expression
        assert r.json()["schedule"] is None
    bad_expression = {"cron": {"cronExpression": "every day", "cronTimeZone": "UTC"}}
    r = await create(client, ends, scheduleType="cron", scheduleData=bad_expression)
    assert error_paths(r) == ["scheduleData.cron.cronExpression"]
    assert r.json()["validationErrors"][0]["invalidValue"] == "every day"
    bad_zone = {"cron": {"cronExpression": "0 0 12 * * ?", "cronTimeZone": "Mars/Olympus"}}
    r = await create(client, ends, scheduleType="cron", scheduleData=bad_zone)
    assert error_paths(r) == ["scheduleData.cron.cronTimeZone"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"schedule": {"units": 5, "timeUnit": "fortnights"}}, "schedule.timeUnit"),
        ({"schedule": {"units": 0, "timeUnit": "hours"}}, "schedule.units"),
        ({"scheduleType": "basic"}, "scheduleData.basicSchedule"),
        ({"scheduleType": "cron", "scheduleData": {}}, "scheduleData.cron"),
        ({"scheduleType": "hourly"}, "scheduleType"),
        (
            {"scheduleData": {"basicSchedule": {"units": -1, "timeUnit": "days"}}},
            "scheduleData.basicSchedule.units",
        ),
        ({"status": "paused"}, "status"),
        ({"namespaceDefinition": "elsewhere"}, "namespaceDefinition"),
    ],
)
async def test_bad_schedule_and_enum_values(
    client: httpx.AsyncClient, ends: tuple[str, str, str], body: Json, path: str
) -> None:
    r = await create(client, ends, **body)
    assert error_paths(r) == [path]
    r = await post(client, "connections/list", {"workspaceId": ends[0]})
    assert r.json() == {"connections": []}


@pytest.mark.parametrize(
    ("stream", "path"),
    [
        (
            users_stream(syncMode="incremental", destinationSyncMode="append", cursorField=[]),
            None,
        ),  # the default cursor fills in
        (
            {
                **users_stream(syncMode="incremental", destinationSyncMode="append"),
                "stream": {"name": "users", "supportedSyncModes": ["full_refresh", "incremental"]},
            },
            "syncCatalog.streams[0].config.cursorField",
        ),
        (
            {
                **users_stream(destinationSyncMode="append_dedup"),
                "stream": {"name": "users", "supportedSyncModes": ["full_refresh"]},
            },
            "syncCatalog.streams[0].config.primaryKey",
        ),
        (
            {
                **users_stream(
                    syncMode="incremental", destinationSyncMode="append", cursorField=["id"]
                ),
                "stream": {"name": "users", "supportedSyncModes": ["full_refresh"]},
            },
            "syncCatalog.streams[0].config.syncMode",
        ),
        (
            {
                **users_stream(syncMode="incremental", destinationSyncMode="append"),
                "stream": {
                    "name": "users",
                    "supportedSyncModes": ["incremental"],
                    "sourceDefinedCursor": True,
                },
            },
            None,
        ),  # the source keeps its own cursor
        (
            {
                **users_stream(
                    syncMode="incremental", destinationSyncMode="append_dedup", selected=False
                ),
                "stream": {"name": "users", "supportedSyncModes": ["full_refresh"]},
            },
            None,
        ),  # streams that are not selected are not checked
    ],
)
async def test_stream_selection_rules(
    client: httpx.AsyncClient, ends: tuple[str, str, str], stream: Json, path: str | None
) -> None:
    r = await create(client, ends, syncCatalog={"streams": [stream]})
    if path is None:
        assert r.status_code == 200, r.text
    else:
        assert error_paths(r) == [path]


async def test_each_bad_stream_is_named(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    bad = {"name": "orders", "supportedSyncModes": ["full_refresh"]}
    streams = [
        users_stream(),
        {"stream": bad, "config": {"syncMode": "incremental", "destinationSyncMode": "append"}},
        users_stream(),
    ]
    r = await create(client, ends, syncCatalog={"streams": streams})
    assert error_paths(r) == [
        "syncCatalog.streams[1].config.syncMode",
        "syncCatalog.streams[1].config.cursorField",
        "syncCatalog.streams[2].stream.name",
    ]


async def test_early_shape_errors_point_into_sync_schema(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    schema = {
        "streams": [
            {"name": "users", "fields": [{"name": "id", "dataType": "number", "selected": True}]}
        ]
    }
    r = await create(client, ends, syncSchema=schema, syncMode="incremental")
    assert error_paths(r) == ["syncSchema.streams[0].cursorField"]
    bad_type = {"streams": [{"name": "users", "fields": [{"name": "id", "dataType": "decimal"}]}]}
    r = await create(client, ends, syncSchema=bad_type)
    assert error_paths(r) == ["syncSchema.streams[0].fields[0].dataType"]


async def test_a_stream_without_config_gets_a_default_one(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    stream = {"stream": {"name": "users", "json_schema": {"type": "object", "properties": {}}}}
    r = await create(client, ends, syncCatalog={"streams": [stream]})
    assert r.status_code == 200, r.text
    item = r.json()["syncCatalog"]["streams"][0]
    # Airbyte's `json_schema` spelling is accepted and sent back as `jsonSchema`.
    assert item["stream"] == {"name": "users", "jsonSchema": {"type": "object", "properties": {}}}
    assert item["config"] == {
        "syncMode": "full_refresh",
        "destinationSyncMode": "overwrite",
        "selected": True,
    }


async def test_references(client: httpx.AsyncClient, ends: tuple[str, str, str]) -> None:
    workspace_id, source_id, destination_id = ends
    missing = str(uuid.uuid4())
    r = await post(
        client,
        "connections/create",
        {"sourceId": missing, "destinationId": destination_id, "status": "active"},
    )
    assert r.status_code == 404 and r.json()["id"] == missing and "source" in r.json()["message"]
    # A source id given as the destination is not a destination.
    r = await post(
        client,
        "connections/create",
        {"sourceId": source_id, "destinationId": source_id, "status": "active"},
    )
    assert r.status_code == 404 and r.json()["id"] == source_id
    assert "destination" in r.json()["message"]
    other = (await post(client, "workspaces/create", {"name": "Other"})).json()["workspaceId"]
    elsewhere = (await make_destination(client, other))["destinationId"]
    r = await post(
        client,
        "connections/create",
        {"sourceId": source_id, "destinationId": elsewhere, "status": "active"},
    )
    assert error_paths(r) == ["destinationId"]
    r = await create(client, ends, operationIds=[missing])
    assert r.status_code == 404 and r.json()["id"] == missing
    assert (await post(client, "connections/list", {"workspaceId": workspace_id})).json() == {
        "connections": []
    }
    r = await post(client, "connections/list", {"workspaceId": missing})
    assert r.status_code == 404


async def test_update_changes_only_what_is_sent(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    c = (
        await create(client, ends, name="n", prefix="p_", schedule={"units": 1, "timeUnit": "days"})
    ).json()
    cid = c["connectionId"]
    r = await post(client, "connections/update", {"connectionId": cid, "status": "inactive"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert (u["status"], u["name"], u["prefix"], u["schedule"]) == (
        "inactive",
        "n",
        "p_",
        c["schedule"],
    )
    assert u["connectionId"] == cid and u["created_at"] == c["created_at"]

    # A 2020 client sends `schedule: null` for "manual".
    r = await post(client, "connections/update", {"connectionId": cid, "schedule": None})
    assert r.json()["scheduleType"] == "manual"
    assert r.json()["schedule"] is None and "scheduleData" not in r.json()

    r = await post(
        client,
        "connections/update",
        {
            "connectionId": cid,
            "scheduleType": "cron",
            "scheduleData": {"cron": {"cronExpression": "0 0 * * * ?", "cronTimeZone": "UTC"}},
        },
    )
    assert r.json()["scheduleType"] == "cron"
    r = await post(client, "connections/update", {"connectionId": cid, "scheduleType": "manual"})
    assert r.json()["scheduleType"] == "manual" and "scheduleData" not in r.json()

    catalog = {"streams": [users_stream(syncMode="incremental", destinationSyncMode="append")]}
    r = await post(client, "connections/update", {"connectionId": cid, "syncCatalog": catalog})
    assert r.json()["syncCatalog"]["streams"][0]["config"]["cursorField"] == ["updated_at"]
    assert r.json()["syncSchema"]["streams"][0]["syncMode"] == "incremental"

    r = await post(
        client,
        "connections/update",
        {"connectionId": cid, "schedule": {"units": 0, "timeUnit": "days"}},
    )
    assert error_paths(r) == ["schedule.units"]
    r = await post(client, "connections/get", {"connectionId": cid})
    assert r.json()["scheduleType"] == "manual" and r.json()["status"] == "inactive"

    missing = str(uuid.uuid4())
    r = await post(client, "connections/update", {"connectionId": missing, "status": "active"})
    assert r.status_code == 404 and r.json()["id"] == missing


async def test_delete(client: httpx.AsyncClient, ends: tuple[str, str, str]) -> None:
    cid = (await create(client, ends)).json()["connectionId"]
    r = await post(client, "connections/delete", {"connectionId": cid})
    assert r.status_code == 204 and r.content == b""
    r = await post(client, "connections/get", {"connectionId": cid})
    assert r.status_code == 404 and r.json()["id"] == cid
    r = await post(client, "connections/delete", {"connectionId": cid})
    assert r.status_code == 404


@pytest.mark.parametrize("end", ["source", "destination"])
async def test_deleting_an_end_deletes_its_connections(
    client: httpx.AsyncClient, ends: tuple[str, str, str], end: str
) -> None:
    workspace_id, source_id, destination_id = ends
    cid = (await create(client, ends)).json()["connectionId"]
    if end == "source":
        r = await post(client, "sources/delete", {"sourceId": source_id})
    else:
        r = await post(client, "destinations/delete", {"destinationId": destination_id})
    assert r.status_code == 204
    assert (await post(client, "connections/get", {"connectionId": cid})).status_code == 404
    assert (await post(client, "connections/list", {"workspaceId": workspace_id})).json() == {
        "connections": []
    }


async def test_list_pages(client: httpx.AsyncClient, ends: tuple[str, str, str]) -> None:
    ids = [(await create(client, ends, name=f"c{i}")).json()["connectionId"] for i in range(5)]
    body = {"workspaceId": ends[0], "pageSize": 2, "rowOffset": 2}
    r = await post(client, "connections/list", body)
    assert [c["connectionId"] for c in r.json()["connections"]] == ids[2:4]


def test_every_reference_to_a_deletable_object_cascades(db: Database) -> None:
    """Deleting a workspace, source, destination or connection must never be blocked by rows
    that point at it (jobs, state, schedules...): each such reference cascades."""
    if store_is_postgres():
        rows = db.execute(
            "SELECT t.relname, p.relname, CASE c.confdeltype WHEN 'c' THEN 'CASCADE' "
            "ELSE c.confdeltype::text END FROM pg_constraint c JOIN pg_class t "
            "ON t.oid = c.conrelid JOIN pg_class p ON p.oid = c.confrelid WHERE c.contype = 'f'"
        ).fetchall()
        references = [tuple(row) for row in rows]
    else:
        tables = [
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        references = [
            (table, fk[2], fk[6])
            for table in tables
            for fk in db.execute(f"PRAGMA foreign_key_list({table})").fetchall()
        ]
    assert ("connections", "sources", "CASCADE") in references
    parents = {"workspaces", "sources", "destinations", "connections"}
    assert [r for r in references if r[1] in parents and r[2] != "CASCADE"] == []


async def test_a_bare_manual_schedule_type_clears_a_basic_schedule(
    client: httpx.AsyncClient, ends: tuple[str, str, str], settings: Settings
) -> None:
    """As Airbyte's populateSyncFromScheduleTypeAndData does for MANUAL: the schedule data and
    the 2020 `schedule` go, in the reply and in what the scheduler reads."""
    basic = {"basicSchedule": {"timeUnit": "hours", "units": 6}}
    c = (await create(client, ends, scheduleType="basic", scheduleData=basic)).json()
    cid = c["connectionId"]
    r = await post(client, "connections/update", {"connectionId": cid, "scheduleType": "manual"})
    assert r.status_code == 200, r.text
    for reply in (r.json(), (await post(client, "connections/get", {"connectionId": cid})).json()):
        assert reply["scheduleType"] == "manual" and reply["schedule"] is None
        assert "scheduleData" not in reply
    db = open_db(settings.database, key_dir=settings.data_path)  # SQLite file or PostgreSQL
    row = db.execute(
        "SELECT schedule_type, schedule_data, schedule FROM connection_schedules "
        "WHERE connection_id = ?",
        [cid],
    ).fetchone()
    db.conn.close()
    assert tuple(row) == ("manual", None, None)
