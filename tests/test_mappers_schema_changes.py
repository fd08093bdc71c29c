"""Mappers after a schema change took a field away: a sync does not fail for a field its
mappers name that the stream's schema lost (Airbyte's platform runs such a sync too); the
mapper still acts on records that carry the field, and the attempt's log says which mapper.
A clash of names after a change (a hashed field's new name now taken) still fails the job,
with nothing of the clear value written.

End to end with Sluice's source-file over a CSV whose columns change, into SQLite, through
the config API; and the compiled mapper on records that still carry the lost field."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.mappers import MapperConfigError, compile_stream
from server.settings import Settings
from tests.conftest import running
from tests.support.api_jobs import fast_settings, ok
from tests.support.mappers import map_records
from tests.support.schema_changes import FIRST, SECOND, log, setup, sync, write

HASH_UPDATED = {"type": "hashing", "mapperConfiguration": {"targetField": "updated_at"}}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    settings.local_path.mkdir(parents=True, exist_ok=True)
    async with running(create_app(settings)) as c:
        yield c


def table(settings: Settings) -> tuple[list[str], list[tuple[Any, ...]]]:
    with sqlite3.connect(settings.local_path / "out.db") as db:
        (name,) = [
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if r[0].endswith("rows")
        ]
        names = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
        return names, db.execute(f'SELECT * FROM "{name}"').fetchall()


async def test_a_propagated_removal_of_a_mapped_field_does_not_fail_the_sync(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    _, connection = await setup(api, settings, "propagate_columns", mappers=[HASH_UPDATED])
    assert "updated_at_hashed" in table(settings)[0]
    write(settings, SECOND)  # updated_at gone, email new
    info = await sync(api, connection)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]["attempt"]
    warned = [line for line in log(info) if "WARN" in line and "mappers[0]" in line]
    assert len(warned) == 1 and "field 'updated_at' not found" in warned[0], log(info)
    names, rows = table(settings)
    assert "email" in names and "updated_at" not in names
    assert len(rows) == 3
    # The mapper stays on the connection, for the user to edit.
    shown = await ok(api, "connections/get", {"connectionId": connection})
    (stream,) = shown["syncCatalog"]["streams"]
    assert [m["type"] for m in stream["config"]["mappers"]] == ["hashing"]


async def test_a_clash_after_a_schema_change_still_fails_the_job(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    hash_title = {"type": "hashing", "mapperConfiguration": {"targetField": "title"}}
    _, connection = await setup(api, settings, "propagate_columns", mappers=[hash_title])
    # A new column takes the hashed field's name: skipping the mapper would write the
    # clear titles, so the sync must not run.
    write(settings, FIRST.replace("updated_at", "title_hashed"))
    info = await sync(api, connection)
    assert info["job"]["status"] == "failed"
    (failure,) = info["attempts"][-1]["attempt"]["failureSummary"]["failures"]
    assert failure["failureType"] == "config_error"
    assert "'title_hashed' already exists" in failure["externalMessage"]
    names, rows = table(settings)  # the first sync's table, untouched
    assert "title" not in names
    assert all("a" not in row and "b" not in row for row in rows)


SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}


def run_records(config: dict[str, Any], records: list[dict[str, Any]]) -> list[Any]:
    mapper = compile_stream(SCHEMA, config, None, None, tolerate_missing=True)
    assert mapper is not None
    return map_records(mapper, records, "s")[0]


def test_a_lost_field_is_still_hashed_where_a_record_carries_it() -> None:
    config = {"mappers": [{"type": "hashing", "mapperConfiguration": {"targetField": "email"}}]}
    with pytest.raises(MapperConfigError):  # saving it: the field is not in the schema
        compile_stream(SCHEMA, config, None, None)
    mapper = compile_stream(SCHEMA, config, None, None, tolerate_missing=True)
    assert mapper is not None
    assert mapper.missing == ("mappers[0]: field 'email' not found in the stream",)
    assert list(mapper.json_schema["properties"]) == ["id", "name"]
    out = run_records(config, [{"id": 1, "name": "a", "email": "a@x"}, {"id": 2, "name": "b"}])
    digest = hashlib.sha256(b"a@x").hexdigest()
    assert out == [{"id": 1, "name": "a", "email_hashed": digest}, {"id": 2, "name": "b"}]


def test_a_row_filter_on_a_lost_field_sees_it_absent() -> None:
    config = {
        "mappers": [{"type": "row-filtering", "mapperConfiguration": {"expression": "amount > 5"}}]
    }
    out = run_records(config, [{"id": 1, "amount": 9}, {"id": 2, "amount": 1}, {"id": 3}])
    assert out == [{"id": 1, "amount": 9}, None, None]


def test_a_lost_field_whose_output_name_the_stream_has_is_refused() -> None:
    # Were `email` to come back in a record, its hash would overwrite the stream's own
    # `email_hashed`, and a rename would overwrite `name`: neither is tolerated.
    schema = {"type": "object", "properties": {"id": {}, "name": {}, "email_hashed": {}}}
    for entry, written in (
        ({"type": "hashing", "mapperConfiguration": {"targetField": "email"}}, "email_hashed"),
        (
            {
                "type": "field-renaming",
                "mapperConfiguration": {"originalFieldName": "nick", "newFieldName": "name"},
            },
            "name",
        ),
    ):
        with pytest.raises(MapperConfigError) as raised:
            compile_stream(schema, {"mappers": [entry]}, None, None, tolerate_missing=True)
        (problem,) = raised.value.problems
        assert problem.type == "FIELD_ALREADY_EXISTS" and f"'{written}'" in problem.message
