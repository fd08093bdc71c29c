"""The core's rules for connections, called directly on a fresh in-memory database (no HTTP):
ends and workspaces, operations, catalogs in either shape, schedules, updates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from msgspec import UNSET
from sqlite_utils import Database

from server.core import connections, schedules
from server.core.connections import ConnectionFields
from server.core.errors import InvalidInput
from server.models.connections import (
    BasicSchedule,
    ConnectionCreate,
    ConnectionSchedule,
    ConnectionScheduleData,
    ConnectionUpdate,
    CronSchedule,
    SourceSchema,
    SourceSchemaField,
    SourceSchemaStream,
)
from tests.support.store import NOW, add_connection, add_destination, add_source, add_workspace
from tests.support.store import catalog as catalog_of
from tests.support.store_errors import NOT_FOUND

AT = datetime.fromtimestamp(NOW, UTC)


def paths(exc: InvalidInput) -> list[str]:
    return [p.property_path for p in exc.errors]


def test_a_new_connection_takes_its_workspace_and_default_name_from_its_ends(
    db: Database,
) -> None:
    source = add_source(db, name="Users")
    destination = add_destination(db, source.workspace_id, name="Lake")
    fields = ConnectionFields(sync_catalog=catalog_of("users"))
    made = connections.new_connection(db, source.source_id, destination.destination_id, fields, NOW)
    assert made.workspace_id == source.workspace_id
    assert made.name == "Users <> Lake"
    assert made.status == "active" and made.namespace_definition == "source"
    assert made.schedule_type == "manual" and made.schedule is None
    # The 2020 fields are derived from the modern ones.
    assert [s.name for s in made.sync_schema.streams] == ["users"]
    assert made.sync_mode == "full_refresh"


def test_ends_in_two_workspaces_are_refused_at_destination_id(db: Database) -> None:
    source = add_source(db)
    elsewhere = add_destination(db, add_workspace(db).workspace_id)
    with pytest.raises(InvalidInput) as caught:
        connections.new_connection(
            db, source.source_id, elsewhere.destination_id, ConnectionFields(), NOW
        )
    assert paths(caught.value) == ["destinationId"]
    assert caught.value.errors[0].invalid_value == str(elsewhere.destination_id)


def test_a_missing_end_or_operation_is_not_found(db: Database) -> None:
    source = add_source(db)
    destination = add_destination(db, source.workspace_id)
    with pytest.raises(NOT_FOUND):
        connections.new_connection(db, source.source_id, uuid.uuid4(), ConnectionFields(), NOW)
    missing = uuid.uuid4()
    with pytest.raises(NOT_FOUND) as caught:
        connections.new_connection(
            db,
            source.source_id,
            destination.destination_id,
            ConnectionFields(operation_ids=[missing]),
            NOW,
        )
    assert caught.value.id == str(missing)


def test_a_2020_schema_becomes_a_modern_catalog_with_the_discovered_stream() -> None:
    schema = SourceSchema(
        streams=[
            SourceSchemaStream(
                name="users", fields=[SourceSchemaField(name="id", data_type="number")]
            )
        ]
    )
    discovered = catalog_of("users")
    made = connections.resolve_catalog(None, schema, "full_refresh", discovered)
    assert made is not None
    (item,) = made.streams
    # The stream part (the real JSON schema) comes from the discovered catalog.
    assert item.stream.json_schema == discovered.streams[0].stream.json_schema
    assert item.config is not None and item.config.selected is True


def test_the_modern_catalog_wins_over_the_2020_schema() -> None:
    schema = SourceSchema(streams=[SourceSchemaStream(name="other", fields=[])])
    made = connections.resolve_catalog(catalog_of("users"), schema, None)
    assert made is not None and [s.stream.name for s in made.streams] == ["users"]
    assert connections.resolve_catalog(None, None, None) is None


def test_schedules_resolve_from_whichever_fields_were_sent() -> None:
    legacy = ConnectionSchedule(units=2, time_unit="hours")
    assert schedules.resolve_schedule(None, None, None, AT) == ("manual", None)
    kind, data = schedules.resolve_schedule(None, None, legacy, AT)
    assert kind == "basic" and data is not None
    assert data.basic_schedule == BasicSchedule(time_unit="hours", units=2)
    cron = ConnectionScheduleData(
        cron=CronSchedule(cron_expression="0 0 * * * ?", cron_time_zone="UTC")
    )
    # A bare scheduleType change falls back to the stored data.
    assert schedules.resolve_schedule("cron", None, None, AT, cron) == ("cron", cron)
    with pytest.raises(InvalidInput) as caught:
        schedules.resolve_schedule("basic", None, None, AT)
    assert paths(caught.value) == ["scheduleData.basicSchedule"]


def test_a_bad_cron_names_the_refused_part() -> None:
    bad = ConnectionScheduleData(
        cron=CronSchedule(cron_expression="nonsense", cron_time_zone="UTC")
    )
    with pytest.raises(InvalidInput) as caught:
        schedules.resolve_schedule("cron", bad, None, AT)
    assert paths(caught.value) == ["scheduleData.cron.cronExpression"]
    with pytest.raises(InvalidInput) as zone:
        schedules.checked_cron("0 0 * * * ?", "Mars/Olympus", AT)
    assert paths(zone.value) == ["cronTimeZone"]


def test_describing_a_cron_lists_its_next_runs() -> None:
    described = schedules.describe_cron_expression("0 0 12 * * ?", "UTC", AT)
    assert described.description
    assert len(described.next_executions) == schedules.NEXT_EXECUTIONS
    assert all(t > NOW for t in described.next_executions)
    assert described.next_executions == sorted(described.next_executions)


def test_an_update_changes_only_the_fields_given(db: Database) -> None:
    basic = ConnectionScheduleData(basic_schedule=BasicSchedule(time_unit="hours", units=1))
    current = connections.finish(
        add_connection(db, name="Before", schedule_type="basic", schedule_data=basic)
    )
    renamed = connections.apply_update(current, ConnectionFields(name="After"), AT)
    assert renamed.name == "After"
    assert renamed.schedule_type == "basic" and renamed.schedule_data == basic
    assert renamed.schedule == ConnectionSchedule(units=1, time_unit="hours")
    # A 2020 client clears the schedule with an explicit null: manual.
    cleared = connections.apply_update(current, ConnectionFields(schedule=None), AT)
    assert cleared.schedule_type == "manual" and cleared.schedule is None


def test_fields_of_a_request_keep_left_out_apart_from_cleared() -> None:
    source_id, destination_id = uuid.uuid4(), uuid.uuid4()
    create = connections.fields_of(
        ConnectionCreate(source_id=source_id, destination_id=destination_id, name="n")
    )
    assert create.name == "n" and create.breaking_change is None
    update = connections.fields_of(ConnectionUpdate(connection_id=uuid.uuid4(), schedule=None))
    assert update.schedule is None and update.schedule_type is UNSET
    assert update.schedule_data is UNSET
