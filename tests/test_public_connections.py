"""Public API connections (`/api/public/v1/connections`): create with and without streams, every
schedule type, PATCH, list pages, 404s and 422s as problem JSON, and one world with the config
API (a connection made through either is read through the other with the same modes).

Sources and destinations are made through the config API (tests/support/actors.py): Sluice's
own E2E source (streams with a source-defined cursor `updated_at` and key `id`) and the SQLite
destination (overwrite, append, append_dedup).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest

from server.core import catalogs
from server.core.errors import InvalidInput
from server.core.public_catalog import StreamChoice, chosen_catalog
from server.models.connections import AirbyteCatalog, AirbyteStream, AirbyteStreamAndConfiguration
from server.public.connections import stream_path
from server.public.sync_modes import PAIRS, name_of
from server.settings import Settings
from tests.conftest import post
from tests.support.actors import default_workspace, make_destination, make_source
from tests.support.api_jobs import wait_job
from tests.support.auth import api_key, bearer
from tests.support.public import API, assert_problem

Json = dict[str, Any]
REQUIRED = {
    "connectionId",
    "name",
    "sourceId",
    "destinationId",
    "workspaceId",
    "status",
    "schedule",
    "configurations",
    "createdAt",
    "tags",
}
TWO_STREAMS = {"type": "SINGLE_STREAM", "stream_name": "ds", "stream_duplication": 2}


@pytest.fixture
async def pair(client: httpx.AsyncClient) -> tuple[str, str]:
    """(source id, destination id): a two-stream E2E source (`ds_0`, `ds_1`) and SQLite."""
    workspace_id = await default_workspace(client)
    source = await make_source(
        client, workspace_id, "Feed", max_messages=5, mock_catalog=TWO_STREAMS
    )
    destination = await make_destination(client, workspace_id, "Warehouse")
    return str(source["sourceId"]), str(destination["destinationId"])


async def create(client: httpx.AsyncClient, pair: tuple[str, str], **body: Any) -> httpx.Response:
    source_id, destination_id = pair
    return await client.post(
        f"{API}/connections", json={"sourceId": source_id, "destinationId": destination_id, **body}
    )


async def created(client: httpx.AsyncClient, pair: tuple[str, str], **body: Any) -> Json:
    reply = await create(client, pair, **body)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    connection: Json = reply.json()
    assert set(connection) >= REQUIRED
    return connection


async def config_api(client: httpx.AsyncClient, connection_id: str) -> Json:
    reply = await post(client, "connections/get", {"connectionId": connection_id})
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def modes(config_connection: Json) -> dict[str, tuple[str, str]]:
    return {
        s["stream"]["name"]: (s["config"]["syncMode"], s["config"]["destinationSyncMode"])
        for s in config_connection["syncCatalog"]["streams"]
        if s["config"]["selected"]
    }


async def test_create_without_streams_syncs_every_stream_in_a_default_mode(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    connection = await created(client, pair)
    assert connection["status"] == "active" and connection["tags"] == []
    assert connection["schedule"] == {"scheduleType": "manual"}
    assert isinstance(connection["createdAt"], int) and connection["dataResidency"] == "auto"
    assert connection["namespaceDefinition"] == "destination"
    assert connection["nonBreakingSchemaUpdatesBehavior"] == "ignore"
    streams = connection["configurations"]["streams"]
    assert [s["name"] for s in streams] == ["ds_0", "ds_1"]
    assert {s["syncMode"] for s in streams} == {"full_refresh_overwrite"}
    # One world: the config API reads the same connection, every stream selected.
    same = await config_api(client, connection["connectionId"])
    assert modes(same) == {
        "ds_0": ("full_refresh", "overwrite"),
        "ds_1": ("full_refresh", "overwrite"),
    }
    assert same["namespaceDefinition"] == "destination" and same["name"] == "Feed <> Warehouse"
    got = await client.get(f"{API}/connections/{connection['connectionId']}")
    assert got.status_code == 200 and got.json() == connection


async def test_create_with_streams_takes_only_those_in_their_modes(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    streams = [{"name": "ds_1", "syncMode": "incremental_deduped_history"}]
    connection = await created(
        client, pair, name="Dedup", configurations={"streams": streams}, prefix="raw_"
    )
    [stream] = connection["configurations"]["streams"]
    assert stream["name"] == "ds_1" and stream["syncMode"] == "incremental_deduped_history"
    # The source defines the cursor and the key: the connection takes them.
    assert stream["cursorField"] == ["updated_at"] and stream["primaryKey"] == [["id"]]
    assert connection["name"] == "Dedup" and connection["prefix"] == "raw_"
    same = await config_api(client, connection["connectionId"])
    assert modes(same) == {"ds_1": ("incremental", "append_dedup")}
    assert [s["stream"]["name"] for s in same["syncCatalog"]["streams"]] == ["ds_1"]
    assert same["syncCatalog"]["streams"][0]["config"]["primaryKey"] == [["id"]]
    assert same["prefix"] == "raw_" and same["sourceCatalogId"]
    # A stream listed without a mode gets the default one.
    plain = await created(client, pair, configurations={"streams": [{"name": "ds_0"}]})
    assert plain["configurations"]["streams"][0]["syncMode"] == "full_refresh_overwrite"


async def test_a_partial_field_selection_syncs_only_those_columns(
    client: httpx.AsyncClient, pair: tuple[str, str], settings: Settings
) -> None:
    """A partial `selectedFields` is the config API's field selection: stored with
    `fieldSelectionEnabled`, and the sync writes the selected columns, plus the cursor and
    the key of a deduplicated incremental stream (Airbyte keeps them)."""
    streams = [
        {
            "name": "ds_0",
            "syncMode": "incremental_deduped_history",
            "selectedFields": [{"fieldPath": ["name"]}],
        },
        {"name": "ds_1", "selectedFields": [{"fieldPath": ["id"]}, {"fieldPath": ["amount"]}]},
    ]
    connection = await created(client, pair, configurations={"streams": streams})
    shown = connection["configurations"]["streams"]
    assert [s["selectedFields"] for s in shown] == [s["selectedFields"] for s in streams]
    same = await config_api(client, connection["connectionId"])
    configs = [s["config"] for s in same["syncCatalog"]["streams"]]
    assert [c["fieldSelectionEnabled"] for c in configs] == [True, True]
    assert configs[1]["selectedFields"] == [{"fieldPath": ["id"]}, {"fieldPath": ["amount"]}]

    job = await client.post(
        f"{API}/jobs", json={"connectionId": connection["connectionId"], "jobType": "sync"}
    )
    assert job.status_code == 200, job.text
    info = await wait_job(client, job.json()["jobId"], timeout=120)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]["logs"]["logLines"][-20:]
    with sqlite3.connect(settings.local_path / "out.db") as db:
        columns = {
            table: [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            for table in ("ds_0", "ds_1")
        }
        names = db.execute("SELECT name FROM ds_0").fetchall()
    data = {t: [c for c in cs if not c.startswith("_airbyte")] for t, cs in columns.items()}
    assert data == {"ds_0": ["id", "updated_at", "name"], "ds_1": ["id", "amount"]}
    assert len(names) == 5 and all(isinstance(n, str) and n for (n,) in names)


@pytest.mark.parametrize(
    ("schedule", "shown", "stored"),
    [
        ({"scheduleType": "manual"}, {"scheduleType": "manual"}, {"scheduleType": "manual"}),
        (
            {"scheduleType": "cron", "cronExpression": "0 0 12 * * ?"},
            {"scheduleType": "cron", "cronExpression": "0 0 12 * * ? UTC"},
            {"cron": {"cronExpression": "0 0 12 * * ?", "cronTimeZone": "UTC"}},
        ),
        (
            # Airbyte's reply form (the zone last) is taken back as it is sent.
            {"scheduleType": "cron", "cronExpression": "0 30 6 ? * MON-FRI Europe/Berlin"},
            {"scheduleType": "cron", "cronExpression": "0 30 6 ? * MON-FRI Europe/Berlin"},
            {"cron": {"cronExpression": "0 30 6 ? * MON-FRI", "cronTimeZone": "Europe/Berlin"}},
        ),
        (
            {"scheduleType": "basic", "basicTiming": "Every 24 hours"},
            {"scheduleType": "basic", "basicTiming": "Every 24 hours"},
            {"basicSchedule": {"timeUnit": "hours", "units": 24}},
        ),
        (
            {"scheduleType": "basic", "basicTiming": "every 1 DAY"},
            {"scheduleType": "basic", "basicTiming": "Every 1 days"},
            {"basicSchedule": {"timeUnit": "days", "units": 1}},
        ),
    ],
)
async def test_each_schedule_type(
    client: httpx.AsyncClient, pair: tuple[str, str], schedule: Json, shown: Json, stored: Json
) -> None:
    connection = await created(client, pair, schedule=schedule)
    assert connection["schedule"] == shown
    same = await config_api(client, connection["connectionId"])
    assert same["scheduleType"] == schedule["scheduleType"]
    if "scheduleType" not in stored:
        assert same["scheduleData"] == stored


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ({"scheduleType": "cron"}, "schedule.cronExpression"),
        ({"scheduleType": "cron", "cronExpression": "every day"}, "schedule.cronExpression"),
        (
            {"scheduleType": "cron", "cronExpression": "0 0 12 * * ? Mars/Olympus"},
            "schedule.cronExpression",
        ),
        ({"scheduleType": "basic"}, "schedule.basicTiming"),
        ({"scheduleType": "basic", "basicTiming": "Every 0 hours"}, "schedule.basicTiming"),
        ({"scheduleType": "basic", "basicTiming": "Every 3 fortnights"}, "schedule.basicTiming"),
        ({"scheduleType": "hourly"}, "schedule.scheduleType"),
    ],
)
async def test_bad_schedules_are_422s_naming_the_field(
    client: httpx.AsyncClient, pair: tuple[str, str], schedule: Json, field: str
) -> None:
    body = assert_problem(
        await create(client, pair, schedule=schedule), 422, "unprocessable-entity"
    )
    paths = [e["propertyPath"] for e in body["data"]["validationErrors"]]
    assert paths == [field]
    listed = (await client.get(f"{API}/connections")).json()
    assert listed["data"] == []


@pytest.mark.parametrize(
    ("stream", "field", "words"),
    [
        ({"name": "nope"}, "name", "nope"),
        # SQLite cannot overwrite-and-deduplicate: the mode and the stream are named.
        ({"name": "ds_0", "syncMode": "full_refresh_overwrite_deduped"}, "syncMode", "ds_0"),
        ({"name": "ds_0", "syncMode": "incremental_update"}, "syncMode", "incremental_update"),
        ({"name": "ds_0", "primaryKey": [["name"]]}, "primaryKey", "primary key"),
        (
            {"name": "ds_0", "syncMode": "incremental_append", "cursorField": ["name"]},
            "cursorField",
            "cursor",
        ),
        (
            {"name": "ds_0", "selectedFields": [{"fieldPath": ["nope"]}]},
            "selectedFields",
            "top-level",
        ),
        # server.mappers' rules, as in the config API: an incremental stream keeps its cursor.
        (
            {
                "name": "ds_0",
                "syncMode": "incremental_append",
                "mappers": [
                    {
                        "type": "field-filtering",
                        "mapperConfiguration": {"targetField": "updated_at"},
                    }
                ],
            },
            "mappers[0]",
            "cursor and cannot be removed",
        ),
        ({"name": "ds_0", "syncMode": "full_refresh"}, "syncMode", "full_refresh"),
    ],
)
async def test_bad_streams_are_422s_naming_them(
    client: httpx.AsyncClient, pair: tuple[str, str], stream: Json, field: str, words: str
) -> None:
    reply = await create(client, pair, configurations={"streams": [{"name": "ds_1"}, stream]})
    body = assert_problem(reply, 422, "unprocessable-entity")
    paths = [e["propertyPath"] for e in body["data"]["validationErrors"]]
    assert f"configurations.streams[1].{field}" in paths
    assert words in body["detail"]


async def test_other_refusals(client: httpx.AsyncClient, pair: tuple[str, str]) -> None:
    twice = await create(
        client, pair, configurations={"streams": [{"name": "ds_0"}, {"name": "ds_0"}]}
    )
    assert "twice" in assert_problem(twice, 422, "unprocessable-entity")["detail"]
    tagged = await create(client, pair, tags=[{"tagId": "x", "name": "prod"}])
    assert_problem(tagged, 422, "unprocessable-entity")
    assert_problem(await create(client, pair, status="locked"), 422, "unprocessable-entity")
    assert_problem(await client.post(f"{API}/connections", json={}), 422, "unprocessable-entity")
    # A full-refresh-only stream needs no cursor, but one the source gives none cannot be
    # incremental: the core's connection rule, named in the public request's words.
    schema = {"type": "object", "properties": {"a": {}}}
    bare = AirbyteStream(name="s", json_schema=schema, supported_sync_modes=["incremental"])
    discovered = AirbyteCatalog(streams=[AirbyteStreamAndConfiguration(stream=bare)])
    incremental = StreamChoice(name="s", mode=("incremental", "append"))
    with pytest.raises(InvalidInput) as refused:
        chosen_catalog(discovered, [incremental], ["append"], stream_path, name_of)
    assert refused.value.errors[0].property_path == "configurations.streams[0].cursorField"
    # Without choices such a stream is kept, unselected (no mode it can take is valid).
    kept = chosen_catalog(discovered, None, ["append"], stream_path, name_of)
    assert kept.streams[0].config is not None and kept.streams[0].config.selected is False
    assert catalogs.configured_catalog(kept).streams == []


async def test_ends_missing_or_in_two_workspaces(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    source_id, destination_id = pair
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(await create(client, (missing, destination_id)), 404, "resource-not-found")
    assert_problem(await create(client, (source_id, missing)), 404, "resource-not-found")
    other = (await client.post(f"{API}/workspaces", json={"name": "Other"})).json()
    far = await make_destination(client, other["workspaceId"], "Far")
    split = await create(client, (source_id, str(far["destinationId"])))
    assert_problem(split, 422, "unprocessable-entity")


async def test_patch_changes_only_what_is_sent(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    connection = await created(client, pair, name="Nightly")
    url = f"{API}/connections/{connection['connectionId']}"
    paused = await client.patch(url, json={"status": "inactive"})
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "inactive" and paused.json()["name"] == "Nightly"
    assert paused.json()["configurations"] == connection["configurations"]
    cron = await client.patch(
        url, json={"schedule": {"scheduleType": "cron", "cronExpression": "0 0 3 * * ?"}}
    )
    assert cron.json()["schedule"] == {"scheduleType": "cron", "cronExpression": "0 0 3 * * ? UTC"}
    basic = await client.patch(
        url, json={"schedule": {"scheduleType": "basic", "basicTiming": "Every 6 hours"}}
    )
    assert basic.json()["schedule"] == {"scheduleType": "basic", "basicTiming": "Every 6 hours"}
    streams = {"streams": [{"name": "ds_0", "syncMode": "incremental_append"}]}
    changed = await client.patch(
        url,
        json={
            "configurations": streams,
            "namespaceDefinition": "custom_format",
            "namespaceFormat": "x_${SOURCE_NAMESPACE}",
        },
    )
    assert changed.status_code == 200, changed.text
    reply = changed.json()
    assert [(s["name"], s["syncMode"]) for s in reply["configurations"]["streams"]] == [
        ("ds_0", "incremental_append")
    ]
    assert reply["status"] == "inactive" and reply["schedule"]["scheduleType"] == "basic"
    assert reply["namespaceDefinition"] == "custom_format"
    same = await config_api(client, connection["connectionId"])
    assert modes(same) == {"ds_0": ("incremental", "append")}
    assert same["status"] == "inactive" and same["namespaceDefinition"] == "customformat"
    assert same["scheduleData"] == {"basicSchedule": {"timeUnit": "hours", "units": 6}}
    manual = await client.patch(
        url,
        json={
            "schedule": {"scheduleType": "manual"},
            "nonBreakingSchemaUpdatesBehavior": "disable_connection",
        },
    )
    assert manual.json()["schedule"] == {"scheduleType": "manual"}
    assert manual.json()["nonBreakingSchemaUpdatesBehavior"] == "disable_connection"
    assert (await config_api(client, connection["connectionId"]))[
        "nonBreakingChangesPreference"
    ] == "disable"
    # Refused changes leave the connection as it was.
    bad = await client.patch(url, json={"configurations": {"streams": [{"name": "nope"}]}})
    assert_problem(bad, 422, "unprocessable-entity")
    assert (await client.get(url)).json() == manual.json()


async def test_list_pages_and_filters(client: httpx.AsyncClient, pair: tuple[str, str]) -> None:
    ids = [(await created(client, pair, name=f"c{n}"))["connectionId"] for n in range(3)]
    first = await client.get(f"{API}/connections?limit=2")
    assert first.status_code == 200
    page = first.json()
    assert [c["connectionId"] for c in page["data"]] == ids[:2] and page["previous"] == ""
    assert "limit=2" in page["next"] and "offset=2" in page["next"]
    last = (await client.get(page["next"])).json()
    assert [c["connectionId"] for c in last["data"]] == ids[2:]
    assert last["next"] == "" and "offset=0" in last["previous"]
    workspace_id = page["data"][0]["workspaceId"]
    mine = (await client.get(f"{API}/connections", params={"workspaceIds": workspace_id})).json()
    assert len(mine["data"]) == 3
    other = (await client.post(f"{API}/workspaces", json={"name": "Empty"})).json()["workspaceId"]
    none = (await client.get(f"{API}/connections", params={"workspaceIds": other})).json()
    assert none == {"data": [], "next": "", "previous": ""}
    both = await client.get(
        f"{API}/connections?workspaceIds={other},{workspace_id}&limit=1&offset=1"
    )
    assert [c["connectionId"] for c in both.json()["data"]] == ids[1:2]
    tagged = (await client.get(f"{API}/connections", params={"tagIds": other})).json()
    assert tagged["data"] == []
    assert_problem(await client.get(f"{API}/connections?limit=101"), 400, "bad-request")


async def test_unknown_connections_are_404s_and_delete_is_204(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    missing = f"{API}/connections/00000000-0000-4000-8000-000000000000"
    assert_problem(await client.get(missing), 404, "resource-not-found")
    assert_problem(await client.patch(missing, json={"name": "x"}), 404, "resource-not-found")
    assert_problem(await client.delete(missing), 404, "resource-not-found")
    assert_problem(await client.get(f"{API}/connections/not-a-uuid"), 400, "bad-request")
    connection = await created(client, pair)
    url = f"{API}/connections/{connection['connectionId']}"
    deleted = await client.delete(url)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_problem(await client.get(url), 404, "resource-not-found")
    gone = await post(client, "connections/get", {"connectionId": connection["connectionId"]})
    assert gone.status_code == 404


async def test_a_config_api_connection_reads_here_in_public_names(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    source_id, destination_id = pair
    discovered = (await post(client, "sources/discover_schema", {"sourceId": source_id})).json()
    streams = discovered["catalog"]["streams"]
    chosen = [
        ("incremental", "append_dedup", True),
        ("full_refresh", "append_dedup", True),  # a pair the public enum has no name for
    ]
    for item, (mode, write, selected) in zip(streams, chosen, strict=True):
        item["config"].update(syncMode=mode, destinationSyncMode=write, selected=selected)
    extra = {
        "stream": {**streams[0]["stream"], "name": "off"},
        "config": {**streams[0]["config"], "selected": False},
    }
    made = await post(
        client,
        "connections/create",
        {
            "sourceId": source_id,
            "destinationId": destination_id,
            "status": "locked",
            "syncCatalog": {"streams": [*streams, extra]},
            "scheduleType": "cron",
            "scheduleData": {
                "cron": {"cronExpression": "0 0 1 * * ?", "cronTimeZone": "Asia/Tokyo"}
            },
            "namespaceDefinition": "customformat",
            "namespaceFormat": "n_${SOURCE_NAMESPACE}",
        },
    )
    assert made.status_code == 200, made.text
    connection = (await client.get(f"{API}/connections/{made.json()['connectionId']}")).json()
    assert [(s["name"], s["syncMode"]) for s in connection["configurations"]["streams"]] == [
        ("ds_0", "incremental_deduped_history"),
        ("ds_1", "full_refresh_overwrite_deduped"),
    ]
    assert connection["status"] == "inactive"  # never `locked`
    assert connection["schedule"] == {
        "scheduleType": "cron",
        "cronExpression": "0 0 1 * * ? Asia/Tokyo",
    }
    assert connection["namespaceDefinition"] == "custom_format"
    # Sending the schedule back as it was read keeps it.
    url = f"{API}/connections/{connection['connectionId']}"
    again = await client.patch(url, json={"schedule": connection["schedule"], "status": "active"})
    assert again.json()["schedule"] == connection["schedule"]
    stored = await config_api(client, connection["connectionId"])
    assert stored["scheduleData"]["cron"] == {
        "cronExpression": "0 0 1 * * ?",
        "cronTimeZone": "Asia/Tokyo",
    }
    listed = (await client.get(f"{API}/connections")).json()["data"]
    assert [c["connectionId"] for c in listed] == [connection["connectionId"]]


def test_every_config_pair_has_a_public_name_and_named_pairs_round_trip() -> None:
    for name, pair in PAIRS.items():
        assert name_of(pair) == name
    for read in ("full_refresh", "incremental"):
        for write in (
            "append",
            "overwrite",
            "append_dedup",
            "overwrite_dedup",
            "update",
            "soft_delete",
        ):
            assert name_of((read, write)).startswith(read)  # type: ignore[arg-type]


async def test_a_workspace_credential_sees_only_its_workspace(
    client: httpx.AsyncClient, pair: tuple[str, str]
) -> None:
    ours = await created(client, pair)
    other = (await client.post(f"{API}/workspaces", json={"name": "Team"})).json()["workspaceId"]
    source = await make_source(client, other, "Theirs", max_messages=1)
    destination = await make_destination(client, other, "Their lake")
    key = await api_key(client, other)
    headers = bearer(key)
    body = {"sourceId": source["sourceId"], "destinationId": destination["destinationId"]}
    theirs = await client.post(f"{API}/connections", json=body, headers=headers, auth=None)
    assert theirs.status_code == 200, theirs.text
    listed = await client.get(f"{API}/connections", headers=headers, auth=None)
    assert [c["connectionId"] for c in listed.json()["data"]] == [theirs.json()["connectionId"]]
    url = f"{API}/connections/{ours['connectionId']}"
    assert_problem(await client.get(url, headers=headers, auth=None), 404, "resource-not-found")
    foreign = await client.post(
        f"{API}/connections",
        json={"sourceId": pair[0], "destinationId": pair[1]},
        headers=headers,
        auth=None,
    )
    assert_problem(foreign, 404, "resource-not-found")
    streams = await client.get(
        f"{API}/streams", params={"sourceId": pair[0]}, headers=headers, auth=None
    )
    assert_problem(streams, 404, "resource-not-found")
