"""Auto-disable: a connection whose jobs keep failing is set inactive, warned first at half
the limit, each with its notification (Airbyte's rule); the days rule; 0 turns it off."""

from __future__ import annotations

import json
from pathlib import Path

from server.app import create_app
from server.core.notification_jobs import DAY, _verdict
from server.settings import Settings
from tests.conftest import running
from tests.support.api_jobs import e2e_connection, ok, wait_job
from tests.support.notifications import set_notifications, settings_for
from tests.support.receiver import receiver

FAILING = {"type": "EXCEPTION_AFTER_N", "throw_after_n_records": 1}


async def test_a_connection_is_disabled_after_n_failed_jobs_with_its_notifications(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, max_consecutive_failures=2, sync_max_attempts=1)
    with receiver() as hook:
        async with running(create_app(settings)) as client:
            item = {"notificationType": ["webhook"], "webhookConfiguration": {"url": hook.url}}
            await set_notifications(
                client,
                {
                    "sendOnFailure": item,
                    "sendOnSyncDisabled": item,
                    "sendOnSyncDisabledWarning": item,
                },
            )
            connection_id = await e2e_connection(client, FAILING)
            logs: list[list[str]] = []
            for _ in range(2):
                job = await ok(client, "connections/sync", {"connectionId": connection_id})
                info = await wait_job(client, job["job"]["id"])
                assert info["job"]["status"] == "failed"
                logs.append(info["attempts"][-1]["logs"]["logLines"])
            got = await hook.wait(4)
            events = [json.loads(g.body)["event"] for g in got]
            assert sorted(events) == sorted(
                [
                    "sendOnFailure",
                    "sendOnSyncDisabledWarning",
                    "sendOnFailure",
                    "sendOnSyncDisabled",
                ]
            )
            disabled = next(json.loads(g.body) for g in got if b'sendOnSyncDisabled"' in g.body)
            assert disabled["connection"]["id"] == connection_id
            assert "its last 2 jobs failed" in disabled["message"]
            connection = await ok(client, "connections/get", {"connectionId": connection_id})
            assert connection["status"] == "inactive"
            assert any("will be disabled if it keeps failing" in line for line in logs[0])
            assert any("was disabled: its last 2 jobs failed" in line for line in logs[1])
            assert not any("was disabled" in line for line in logs[0])


async def test_zero_never_disables(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, max_consecutive_failures=0, max_failing_days=0, sync_max_attempts=1
    )
    async with running(create_app(settings)) as client:
        connection_id = await e2e_connection(client, FAILING)
        for _ in range(2):
            job = await ok(client, "connections/sync", {"connectionId": connection_id})
            assert (await wait_job(client, job["job"]["id"]))["job"]["status"] == "failed"
        connection = await ok(client, "connections/get", {"connectionId": connection_id})
        assert connection["status"] == "active"


def test_the_rules_by_count_and_by_days() -> None:
    settings = Settings(max_consecutive_failures=10, max_failing_days=14)
    now = 100 * DAY
    assert _verdict([now], settings, now) is None
    assert _verdict([now] * 5, settings, now) == (
        False,
        "its last 5 jobs failed (it is disabled after 10)",
    )
    assert _verdict([now] * 10, settings, now) == (True, "its last 10 jobs failed")
    # Failing for 14 days (two jobs, the first 14 days ago): disabled.
    assert _verdict([now, now - 14 * DAY], settings, now) == (
        True,
        "its jobs have only failed for 14 days",
    )
    # Passing half the days: warned once, when the streak first crosses it.
    assert _verdict([now, now - 8 * DAY], settings, now) == (
        False,
        "its jobs have only failed for 8 days",
    )
    assert _verdict([now, now - DAY, now - 8 * DAY], settings, now) is None
    off = Settings(max_consecutive_failures=0, max_failing_days=0)
    assert _verdict([now] * 500, off, now) is None
