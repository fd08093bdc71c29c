"""The job queue's rules on a fresh in-memory database: claims, attempts, retries with
backoff, one active job per connection, crash recovery (store, retry policy and core)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from server.core import jobs as core
from server.core.errors import Conflict, InvalidInput
from server.jobs import recovery
from server.jobs.attempts import (
    AttemptStats,
    FailureSummary,
    failure,
    stored_failure,
)
from server.jobs.retry import end_attempt, retry_delay
from server.store import jobs, state
from server.store import recovery as stored_recovery
from tests.support.jobs import NOW, add_connection, fail


def test_claim_reuses_the_first_attempt_and_retries_get_new_ones(db: Database) -> None:
    connection = add_connection(db)
    job_id = core.create_sync_job(db, connection, NOW)
    assert [a.status for a in jobs.list_attempts(db, [job_id])[job_id]] == ["running"]
    claim = jobs.claim_job(db, NOW)
    assert claim is not None and claim.job.id == job_id and claim.attempt_number == 0
    assert jobs.get_job(db, job_id).status == "running"
    assert jobs.claim_job(db, NOW) is None  # nothing else is due
    assert fail(db, claim) == "incomplete"
    job = jobs.get_job(db, job_id)
    assert job.next_attempt_at == NOW + 10  # the first retry waits the base backoff
    assert jobs.claim_job(db, NOW + 9) is None
    retry = jobs.claim_job(db, NOW + 10)
    assert retry is not None and retry.attempt_number == 1
    assert retry.log_path == f"jobs/{job_id}/attempt-1.log"
    assert fail(db, retry, now=NOW + 20) == "incomplete"
    assert jobs.get_job(db, job_id).next_attempt_at == NOW + 20 + 30
    last = jobs.claim_job(db, NOW + 50)
    assert last is not None and last.attempt_number == 2
    assert fail(db, last, now=NOW + 60) == "failed"  # three attempts used
    statuses = [a.status for a in jobs.list_attempts(db, [job_id])[job_id]]
    assert statuses == ["failed", "failed", "failed"]
    assert jobs.get_job(db, job_id).started_at == NOW


def test_backoff_triples_and_resets_after_an_attempt_that_committed_data() -> None:
    def attempt(status: str, committed: int = 0) -> jobs.Attempt:
        return jobs.Attempt(
            1, 0, status, 0, 0, None, AttemptStats(records_committed=committed), None, ""
        )  # type: ignore[arg-type]

    failed, progressed = attempt("failed"), attempt("failed", committed=5)
    assert [retry_delay([failed] * n, 10) for n in (1, 2, 3, 4)] == [10, 30, 90, 270]
    assert retry_delay([failed, failed, progressed], 10) == 0
    assert retry_delay([progressed, failed], 10) == 10
    assert retry_delay([failed] * 12, 10) == 3600  # capped
    assert retry_delay([attempt("succeeded")], 10) == 0


def test_one_active_job_per_connection_is_a_database_rule(db: Database) -> None:
    connection = add_connection(db)
    first = core.create_sync_job(db, connection, NOW)
    with pytest.raises(Conflict, match="A sync is already running"):
        core.create_sync_job(db, connection, NOW)
    # Even a writer that skips the check cannot queue a second one.
    # (SQLite says "UNIQUE constraint failed", PostgreSQL names the index.)
    with pytest.raises(Exception, match=r"UNIQUE|unique constraint .jobs_one_active."):
        db.execute(
            "INSERT INTO jobs (config_type, config_id, status, created_at, updated_at) "
            "VALUES ('sync', ?, 'pending', 0, 0)",
            [connection],
        )
    claim = jobs.claim_job(db, NOW)
    assert claim is not None
    end_attempt(
        db,
        first,
        0,
        succeeded=True,
        cancelled=False,
        stats=AttemptStats(),
        failures=[],
        now=NOW,
        max_attempts=3,
        backoff_seconds=0,
    )
    assert core.create_sync_job(db, connection, NOW + 1) > first


def test_the_store_holds_facts_and_the_core_the_rules(db: Database) -> None:
    """The store queues whatever it is given; refusing is the core's part."""
    connection = add_connection(db, ("users", "orders"))
    with pytest.raises(InvalidInput) as refused:
        core.start_job(db, connection, NOW, "clear", [{"name": "users"}, {"name": "nope"}])
    assert [p.property_path for p in refused.value.errors] == ["streams[1]"]
    db.execute("UPDATE connections SET status = 'deprecated' WHERE id = ?", [connection])
    with pytest.raises(InvalidInput) as deprecated:
        core.start_job(db, connection, NOW)
    assert [p.property_path for p in deprecated.value.errors] == ["connectionId"]
    assert jobs.active_job(db, connection) is None
    job_id = jobs.insert_job(db, connection, NOW, "sync", None, [{"name": "users"}])
    active = jobs.active_job(db, connection)
    assert active is not None and active.id == job_id and active.status == "pending"


def test_a_waiting_job_is_cancelled_at_once_and_an_ended_one_not(db: Database) -> None:
    connection = add_connection(db)
    job_id = core.create_sync_job(db, connection, NOW)
    assert core.cancel_job(db, job_id, NOW + 1).status == "cancelled"
    [attempt] = jobs.list_attempts(db, [job_id])[job_id]
    assert attempt.status == "failed" and attempt.failure_summary is not None
    [reason] = attempt.failure_summary.failures
    assert (reason.failure_type, reason.retryable) == ("manual_cancellation", False)
    with pytest.raises(Conflict, match="already ended"):
        core.cancel_job(db, job_id, NOW + 2)


def test_recovery_fails_orphans_and_leaves_waiting_jobs_alone(db: Database) -> None:
    orphan_connection, waiting_connection = add_connection(db), add_connection(db)
    orphan = core.create_sync_job(db, orphan_connection, NOW)
    claim = jobs.claim_job(db, NOW)
    assert claim is not None and claim.job.id == orphan
    jobs.save_progress(db, orphan, 0, AttemptStats(records_emitted=7, records_committed=5), NOW)
    state.set_state(db, orphan_connection, [{"type": "LEGACY", "data": {"at": 5}}], NOW)
    waiting = core.create_sync_job(db, waiting_connection, NOW)

    assert [a.job_id for a in stored_recovery.orphaned_attempts(db)] == [orphan]
    reason = failure("airbyte_platform", "transient_error", "stopped")
    ended = recovery.fail_orphans(db, reason, NOW + 5, max_attempts=3, backoff_seconds=10)
    assert ended == [(orphan, "incomplete")]
    job = jobs.get_job(db, orphan)
    # The attempt committed data, so the retry is due at once.
    assert job.status == "incomplete" and job.next_attempt_at == NOW + 5
    [attempt] = jobs.list_attempts(db, [orphan])[orphan]
    assert attempt.status == "failed" and attempt.stats.records_committed == 5
    assert attempt.failure_summary == FailureSummary(failures=[reason], partial_success=True)
    assert jobs.get_job(db, waiting).status == "pending"
    assert state.get_state(db, orphan_connection) == [{"type": "LEGACY", "data": {"at": 5}}]
    assert stored_recovery.orphaned_attempts(db) == []
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'running'").fetchone()[0] == 0


def test_one_failure_constructor_and_stored_reasons_outside_the_enums() -> None:
    config = failure("source", "config_error", "bad key")
    assert (config.retryable, config.internal_message) == (False, "bad key")
    assert failure("destination", "system_error", "x", internal="y").retryable is True
    odd = stored_failure({"failureOrigin": "elsewhere", "failureType": "odd", "timestamp": 3.0})
    assert (odd.failure_origin, odd.failure_type, odd.timestamp) == ("unknown", None, 3)
