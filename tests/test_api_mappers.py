"""A stream's mappers through the config API: stored with ids, checked on create and update (a
422 naming the stream, the mapper and the reason), `hashedFields` and the 2020 shape's field
selection; and `web_backend/mappers/validate`, whose mapper problems are results."""

from __future__ import annotations

import copy
import uuid
from typing import Any, get_args

import httpx
import pytest

from server.mappers import MAPPER_TYPES
from server.models.connections import StreamMapperType
from tests.conftest import post
from tests.support.connections import create

Json = dict[str, Any]


def people(**config: Any) -> Json:
    """A `people` stream: id (the key), updated_at (the cursor), email, name, status."""
    return {
        "stream": {
            "name": "people",
            "jsonSchema": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "email": {"type": "string"},
                    "name": {"type": "string"},
                    "status": {"type": "string"},
                },
            },
            "supportedSyncModes": ["full_refresh", "incremental"],
            "defaultCursorField": ["updated_at"],
            "sourceDefinedPrimaryKey": [["id"]],
        },
        "config": {"syncMode": "full_refresh", "destinationSyncMode": "overwrite", **config},
    }


def mapper(kind: str, **configuration: Any) -> Json:
    return {"type": kind, "mapperConfiguration": configuration}


DROP_NAME = mapper("field-filtering", targetField="name")
HASH_EMAIL = mapper("hashing", targetField="email", method="SHA-256", fieldNameSuffix="_hashed")
ACTIVE = mapper(
    "row-filtering",
    conditions={"type": "EQUAL", "fieldName": "status", "comparisonValue": "active"},
)


def test_the_mapper_types_are_the_engines() -> None:
    assert get_args(StreamMapperType) == MAPPER_TYPES


async def test_mappers_are_stored_with_ids_and_read_back(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    given_id = str(uuid.uuid4())
    mappers = [DROP_NAME, {**HASH_EMAIL, "id": given_id}, ACTIVE]
    r = await create(client, ends, syncCatalog={"streams": [people(mappers=mappers)]})
    assert r.status_code == 200, r.text
    c = r.json()
    stored = c["syncCatalog"]["streams"][0]["config"]["mappers"]
    assert [m["type"] for m in stored] == ["field-filtering", "hashing", "row-filtering"]
    assert stored[1]["id"] == given_id
    assert all(uuid.UUID(m["id"]) for m in stored)  # the server gives each an id
    assert [m["mapperConfiguration"] for m in stored] == [m["mapperConfiguration"] for m in mappers]
    got = await post(client, "connections/get", {"connectionId": c["connectionId"]})
    assert got.json() == c

    # An update that sends them back (ids and all) keeps them as they are.
    r = await post(
        client,
        "connections/update",
        {"connectionId": c["connectionId"], "syncCatalog": c["syncCatalog"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["syncCatalog"] == c["syncCatalog"]


def _where(i: int) -> str:
    return f"syncCatalog.streams[0].config.mappers[{i}]"


@pytest.mark.parametrize(
    ("config", "path", "words"),
    [
        (
            {"mappers": [DROP_NAME, mapper("field-filtering", targetField="nope")]},
            _where(1),
            ["mapper 1 (field-filtering)", "'nope'", "not found"],
        ),
        (
            {"mappers": [mapper("field-renaming", originalFieldName="name", newFieldName="email")]},
            _where(0),
            ["mapper 0 (field-renaming)", "'email'", "already exists"],
        ),
        (
            {
                "syncMode": "incremental",
                "destinationSyncMode": "append",
                "mappers": [HASH_EMAIL, mapper("field-filtering", targetField="updated_at")],
            },
            _where(1),
            ["mapper 1 (field-filtering)", "cursor"],
        ),
        (
            {
                "syncMode": "incremental",
                "destinationSyncMode": "append_dedup",
                "mappers": [mapper("field-filtering", targetField="id")],
            },
            _where(0),
            ["mapper 0 (field-filtering)", "primary key"],
        ),
        (
            {
                "mappers": [
                    mapper("hashing", targetField="email", method="MD4", fieldNameSuffix="_h")
                ]
            },
            _where(0),
            ["mapper 0 (hashing)", "MD4"],
        ),
        (
            {"mappers": [mapper("row-filtering", expression="status = 'active' AND")]},
            _where(0),
            ["mapper 0 (row-filtering)", "condition"],
        ),
        (
            {"hashedFields": [{"fieldPath": ["nope"]}]},
            "syncCatalog.streams[0].config.hashedFields[0]",
            ["hashedFields[0] (hashing)", "'nope'"],
        ),
        (
            {"fieldSelectionEnabled": True, "selectedFields": [{"fieldPath": ["nope"]}]},
            "syncCatalog.streams[0].config.selectedFields[0]",
            ["selectedFields[0]", "'nope'"],
        ),
    ],
)
async def test_a_bad_mapper_is_a_422_naming_stream_mapper_and_reason(
    client: httpx.AsyncClient,
    ends: tuple[str, str, str],
    config: Json,
    path: str,
    words: list[str],
) -> None:
    r = await create(client, ends, syncCatalog={"streams": [people(**config)]})
    assert r.status_code == 422, r.text
    body = r.json()
    problems = {e["propertyPath"]: e["message"] for e in body["validationErrors"]}
    assert path in problems, problems
    for word in ["Stream 'people'", *words]:
        assert word in problems[path], problems[path]
    listed = await post(client, "connections/list", {"workspaceId": ends[0]})
    assert listed.json()["connections"] == []


async def test_an_update_is_checked_too_and_changes_nothing_when_refused(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    c = (await create(client, ends, syncCatalog={"streams": [people(mappers=[DROP_NAME])]})).json()
    bad = copy.deepcopy(c["syncCatalog"])
    bad["streams"][0]["config"]["mappers"].append(
        mapper("field-renaming", originalFieldName="name", newFieldName="full_name")
    )
    r = await post(
        client, "connections/update", {"connectionId": c["connectionId"], "syncCatalog": bad}
    )
    assert r.status_code == 422, r.text
    (problem,) = r.json()["validationErrors"]
    assert problem["propertyPath"] == _where(1)
    assert "'name'" in problem["message"] and "mapper 1 (field-renaming)" in problem["message"]
    assert (await post(client, "connections/get", {"connectionId": c["connectionId"]})).json() == c


async def test_an_unknown_mapper_type_is_a_422_at_its_path(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    r = await create(
        client, ends, syncCatalog={"streams": [people(mappers=[mapper("uppercase", x=1)])]}
    )
    assert r.status_code == 422, r.text
    assert r.json()["validationErrors"][0]["propertyPath"].startswith(_where(0))


async def test_the_2020_shapes_field_selection_round_trips(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    fields = [
        {"name": "id", "cleanedName": "id", "dataType": "number", "selected": True},
        {"name": "email", "cleanedName": "email", "dataType": "string", "selected": False},
        {"name": "name", "cleanedName": "name", "dataType": "string", "selected": True},
    ]
    schema = {"streams": [{"name": "people", "cleanedName": "people", "fields": fields}]}
    r = await create(client, ends, syncSchema=schema, syncMode="full_refresh")
    assert r.status_code == 200, r.text
    c = r.json()
    config = c["syncCatalog"]["streams"][0]["config"]
    assert config["fieldSelectionEnabled"] is True
    assert config["selectedFields"] == [{"fieldPath": ["id"]}, {"fieldPath": ["name"]}]
    shown = c["syncSchema"]["streams"][0]["fields"]
    assert [(f["name"], f["selected"]) for f in shown] == [
        ("id", True),
        ("email", False),
        ("name", True),
    ]
    # The 2020 view sent back as it came is the same connection; `email` picked again, the
    # selection is gone in the modern form too.
    r = await post(
        client,
        "connections/update",
        {
            "connectionId": c["connectionId"],
            "syncSchema": c["syncSchema"],
            "syncMode": "full_refresh",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["syncCatalog"] == c["syncCatalog"]
    everything = copy.deepcopy(c["syncSchema"])
    everything["streams"][0]["fields"][1]["selected"] = True
    r = await post(
        client,
        "connections/update",
        {"connectionId": c["connectionId"], "syncSchema": everything, "syncMode": "full_refresh"},
    )
    assert r.status_code == 200, r.text
    config = r.json()["syncCatalog"]["streams"][0]["config"]
    assert "selectedFields" not in config and not config.get("fieldSelectionEnabled")
    # A selection the modern form sends shows in the 2020 view.
    modern = people(fieldSelectionEnabled=True, selectedFields=[{"fieldPath": ["email"]}])
    r = await post(
        client,
        "connections/update",
        {"connectionId": c["connectionId"], "syncCatalog": {"streams": [modern]}},
    )
    assert r.status_code == 200, r.text
    picked = {f["name"]: f["selected"] for f in r.json()["syncSchema"]["streams"][0]["fields"]}
    assert picked == {
        "id": False,
        "updated_at": False,
        "email": True,
        "name": False,
        "status": False,
    }


# ---- web_backend/mappers/validate -----------------------------------------------------------


async def _connection(client: httpx.AsyncClient, ends: tuple[str, str, str], **config: Any) -> str:
    r = await create(client, ends, syncCatalog={"streams": [people(**config)]})
    assert r.status_code == 200, r.text
    return str(r.json()["connectionId"])


def _names(fields: list[Json]) -> list[str]:
    return [f["name"] for f in fields]


async def test_validate_answers_fields_and_each_mappers_result(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    connection_id = await _connection(
        client, ends, syncMode="incremental", destinationSyncMode="append_dedup"
    )
    draft = [
        {**DROP_NAME, "id": str(uuid.uuid4())},
        HASH_EMAIL,
        mapper("field-renaming", originalFieldName="status", newFieldName="email_hashed"),
        ACTIVE,
    ]
    body = {"connectionId": connection_id, "streamDescriptor": {"name": "people"}, "mappers": draft}
    r = await post(client, "web_backend/mappers/validate", body)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert _names(answer["initialFields"]) == ["id", "updated_at", "email", "name", "status"]
    by_name = {f["name"]: f for f in answer["initialFields"]}
    assert by_name["id"] == {
        "name": "id",
        "type": "INTEGER",
        "isSelectedPrimaryKey": True,
        "isSelectedCursor": False,
    }
    assert by_name["updated_at"]["isSelectedCursor"] is True
    results = answer["mappers"]
    assert [m["type"] for m in results] == [
        "field-filtering",
        "hashing",
        "field-renaming",
        "row-filtering",
    ]
    assert results[0]["id"] == draft[0]["id"] and "id" not in results[1]
    assert _names(results[0]["outputFields"]) == ["id", "updated_at", "email", "status"]
    assert _names(results[1]["inputFields"]) == _names(results[0]["outputFields"])
    assert "email_hashed" in _names(results[1]["outputFields"])
    # The rename onto an existing field is this mapper's result, not an error reply.
    assert results[2]["validationError"]["type"] == "FIELD_ALREADY_EXISTS"
    assert results[2]["outputFields"] == results[2]["inputFields"]
    assert "validationError" not in results[3]
    assert answer["outputFields"] == results[3]["outputFields"]
    # Nothing was saved.
    got = await post(client, "connections/get", {"connectionId": connection_id})
    assert "mappers" not in got.json()["syncCatalog"]["streams"][0]["config"]


async def test_validate_with_an_unknown_connection_or_stream(
    client: httpx.AsyncClient, ends: tuple[str, str, str]
) -> None:
    unknown = str(uuid.uuid4())
    body = {"connectionId": unknown, "streamDescriptor": {"name": "people"}, "mappers": []}
    r = await post(client, "web_backend/mappers/validate", body)
    assert r.status_code == 404, r.text
    assert r.json()["id"] == unknown
    connection_id = await _connection(client, ends)
    body = {"connectionId": connection_id, "streamDescriptor": {"name": "nope"}, "mappers": []}
    r = await post(client, "web_backend/mappers/validate", body)
    assert r.status_code == 422, r.text
    assert r.json()["validationErrors"][0]["propertyPath"] == "streamDescriptor.name"
    body["streamDescriptor"] = {"name": "people", "namespace": "elsewhere"}
    assert (await post(client, "web_backend/mappers/validate", body)).status_code == 422
    body["streamDescriptor"] = {"name": "people"}
    r = await post(client, "web_backend/mappers/validate", body)
    assert r.status_code == 200, r.text
    assert r.json()["mappers"] == [] and r.json()["outputFields"] == r.json()["initialFields"]
