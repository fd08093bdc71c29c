"""store/schedules.py on a fresh in-memory database: the facts a scheduler tick reads."""

from __future__ import annotations

import msgspec
from sqlite_utils import Database

from server.models.connections import BasicSchedule, ConnectionScheduleData
from server.store import connections, schedules
from tests.support.store import NOW, add_connection


def basic(db: Database, hours: int = 1) -> str:
    connection = add_connection(
        db,
        schedule_type="basic",
        schedule_data=ConnectionScheduleData(
            basic_schedule=BasicSchedule(time_unit="hours", units=hours)
        ),
    )
    return str(connection.connection_id)


def test_a_connections_schedule_is_mirrored_for_the_scheduler(db: Database) -> None:
    cid = basic(db, hours=2)
    facts = schedules.get_schedule_facts(db, cid)
    assert facts is not None
    assert (facts.status, facts.schedule_type) == ("active", "basic")
    assert msgspec.json.decode(facts.schedule_data or "null") == {
        "basicSchedule": {"timeUnit": "hours", "units": 2}
    }
    assert (facts.run_key, facts.last_slot, facts.last_job_created_at, facts.busy) == (
        None,
        None,
        None,
        False,
    )
    assert [f.connection_id for f in schedules.list_schedule_facts(db)] == [cid]


def test_an_update_of_the_connection_updates_its_facts(db: Database) -> None:
    cid = basic(db)
    connection = connections.get_connection(db, cid)
    connections.update_connection(db, msgspec.structs.replace(connection, status="inactive"))
    facts = schedules.get_schedule_facts(db, cid)
    assert facts is not None and facts.status == "inactive"


def test_last_slots_are_kept_replaced_and_forgotten(db: Database) -> None:
    cid = basic(db)
    schedules.set_last_slot(db, cid, "key-1", NOW, NOW, job_id=None)
    schedules.set_last_slot(db, cid, "key-2", NOW + 60, NOW + 1)
    facts = schedules.get_schedule_facts(db, cid)
    assert facts is not None and (facts.run_key, facts.last_slot) == ("key-2", NOW + 60)
    schedules.forget_runs(db, [cid])
    facts = schedules.get_schedule_facts(db, cid)
    assert facts is not None and facts.last_slot is None


def test_jobs_make_a_connection_busy_and_set_its_last_job(db: Database) -> None:
    cid = basic(db)
    db.execute(
        "INSERT INTO jobs (config_type, config_id, status, created_at, updated_at) "
        "VALUES ('sync', ?, 'running', ?, ?)",
        [cid, NOW, NOW],
    )
    facts = schedules.get_schedule_facts(db, cid)
    assert facts is not None and (facts.busy, facts.last_job_created_at) == (True, NOW)


def test_an_unknown_connection_has_no_facts(db: Database) -> None:
    assert schedules.get_schedule_facts(db, "nope") is None
