"""Notifications end to end: a real sync's end reaches a real HTTP receiver (generic signed
webhook and Slack JSON), a failing receiver is retried, the outbox survives a restart, and
notifications/try answers."""

from __future__ import annotations

import json
from pathlib import Path

import anyio

from server.app import create_app
from server.core.notifications import NotificationEvent, queue_event
from server.store.db import Store, open_db
from tests.conftest import post, running
from tests.support.api_jobs import e2e_connection, ok, wait_job, workspace_id
from tests.support.notifications import (
    SECRET,
    deliveries,
    set_notifications,
    settings_for,
    verified,
)
from tests.support.receiver import receiver


async def test_a_sync_end_reaches_the_webhook_signed_and_slack(tmp_path: Path) -> None:
    with receiver() as hook, receiver() as slack:
        async with running(create_app(settings_for(tmp_path))) as client:
            item = {
                "notificationType": ["webhook", "slack"],
                "webhookConfiguration": {"url": hook.url + "/sluice", "secret": SECRET},
                "slackConfiguration": {"webhook": slack.url + "/services/T0/B0/xyz"},
            }
            shown = await set_notifications(client, {"sendOnSuccess": item})
            # The secret is a secret: masked in replies.
            shown_hook = shown["notificationSettings"]["sendOnSuccess"]["webhookConfiguration"]
            assert shown_hook == {"url": hook.url + "/sluice", "secret": "**********"}
            again = await ok(client, "workspaces/get", {"workspaceId": shown["workspaceId"]})
            assert "shh" not in json.dumps(again)
            # Sending the masked settings back keeps the stored secret (checked below).
            await set_notifications(client, again["notificationSettings"])

            connection_id = await e2e_connection(client, {"max_messages": 25})
            job_id = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"][
                "id"
            ]
            info = await wait_job(client, job_id)
            assert info["job"]["status"] == "succeeded"
            [got] = await hook.wait(1)
            [slacked] = await slack.wait(1)

            assert got.path == "/sluice" and got.headers["Content-Type"] == "application/json"
            payload = verified(got)
            assert payload["event"] == "sendOnSuccess"
            assert payload["workspace"]["id"] == shown["workspaceId"]
            assert payload["connection"]["id"] == connection_id
            job = payload["job"]
            assert job["id"] == job_id and job["status"] == "succeeded"
            assert job["records"] == 25 and job["bytes"] > 0 and job["failureReason"] is None
            assert job["durationSeconds"] >= 0
            assert payload["links"]["job"].endswith(
                f"/connections/{connection_id}/job-history#{job_id}"
            )
            assert "succeeded" in payload["message"]

            assert slacked.path == "/services/T0/B0/xyz"
            message = json.loads(slacked.body)
            assert "succeeded" in message["text"] and message["blocks"][0]["type"] == "section"
            assert "X-Sluice-Signature" not in slacked.headers

            # The job's log says what was queued; the record shows both sent.
            lines = info["attempts"][-1]["logs"]["logLines"]
            assert any("Queued 2 sendOnSuccess notification(s)" in line for line in lines)
            with anyio.fail_after(10):
                while True:
                    records = await deliveries(client, connectionId=connection_id)
                    if all(r["status"] == "succeeded" for r in records):
                        break
                    await anyio.sleep(0.05)
            assert sorted(r["notificationType"] for r in records) == ["slack", "webhook"]
            slack_record = next(r for r in records if r["notificationType"] == "slack")
            # The Slack webhook's path is its credential: not shown.
            assert slack_record["target"] == slack.url and slack_record["attempts"] == 1
            assert slack_record["answerStatusCode"] == 200 and slack_record["answerExcerpt"] == "ok"
            assert slack_record["sentAt"] >= slack_record["createdAt"]


async def test_a_receiver_answering_500_is_retried_and_the_record_shows_it(
    tmp_path: Path,
) -> None:
    with receiver(answers=[500, 503]) as hook:
        async with running(create_app(settings_for(tmp_path))) as client:
            item = {"notificationType": ["webhook"], "webhookConfiguration": {"url": hook.url}}
            await set_notifications(client, {"sendOnFailure": item})
            connection_id = await e2e_connection(
                client, {"type": "EXCEPTION_AFTER_N", "throw_after_n_records": 2}
            )
            job = (await ok(client, "connections/sync", {"connectionId": connection_id}))["job"]
            info = await wait_job(client, job["id"])
            assert info["job"]["status"] == "failed"
            got = await hook.wait(3)
            assert got[0].body == got[1].body == got[2].body  # the same bytes each time
            payload = json.loads(got[2].body)
            assert payload["event"] == "sendOnFailure" and payload["job"]["status"] == "failed"
            assert payload["job"]["failureReason"]
            assert "X-Sluice-Signature" not in got[0].headers  # no secret, no signature
            with anyio.fail_after(10):
                while (await deliveries(client))[0]["status"] != "succeeded":
                    await anyio.sleep(0.05)
            [record] = await deliveries(client)
            assert record["attempts"] == 3 and record["answerStatusCode"] == 200
            assert record["event"] == "sendOnFailure" and record["jobId"] == job["id"]


async def test_a_receiver_that_never_takes_it_is_failed_after_the_last_attempt(
    tmp_path: Path,
) -> None:
    with receiver(answers=[500] * 10) as hook:
        settings = settings_for(tmp_path, notification_max_attempts=2)
        async with running(create_app(settings)) as client:
            ws = await workspace_id(client)
            item = {"notificationType": ["webhook"], "webhookConfiguration": {"url": hook.url}}
            await set_notifications(client, {"sendOnConnectionUpdate": item})
            event = NotificationEvent(trigger="sendOnConnectionUpdate", message="changed")
            ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
            await ctx.store.write(queue_event, ws, event, ctx.now())
            await hook.wait(2)
            with anyio.fail_after(10):
                while (await deliveries(client))[0]["status"] == "pending":
                    await anyio.sleep(0.05)
            [record] = await deliveries(client)
            assert record["status"] == "failed" and record["attempts"] == 2
            assert record["answerStatusCode"] == 500 and record["answerExcerpt"] == "receiver down"
            assert "500" in record["lastError"]


async def test_a_notification_queued_before_a_crash_is_delivered_after_restart(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    with receiver() as hook:
        async with running(create_app(settings)) as client:
            ws = await workspace_id(client)
            item = {
                "notificationType": ["webhook"],
                "webhookConfiguration": {"url": hook.url, "secret": SECRET},
            }
            await set_notifications(client, {"sendOnSyncDisabled": item})
        # The server is down: an event is recorded (as a job's end would), nothing sends it.
        store = Store(open_db(settings.database, settings.secret_key, settings.data_path))
        event = NotificationEvent(trigger="sendOnSyncDisabled", message="disabled", job_id=7)
        assert store.write_sync(queue_event, ws, event, 1_700_000_000) == 1
        store.close()
        await anyio.sleep(0.3)
        assert hook.got == []
        async with running(create_app(settings)):
            [got] = await hook.wait(1)
        payload = verified(got)
        assert payload["event"] == "sendOnSyncDisabled" and payload["job"]["id"] == 7


async def test_try_webhook_answers_succeeded_or_failed_and_refuses_other_schemes(
    tmp_path: Path,
) -> None:
    with receiver(answers=[200, 500]) as slack:
        async with running(create_app(settings_for(tmp_path))) as client:
            body = {
                "notificationTrigger": "sync_failure",
                "slackConfiguration": {"webhook": slack.url + "/hook"},
            }
            assert await ok(client, "notifications/try_webhook", body) == {
                "status": "succeeded",
                "message": f"Sent to {slack.url}",
            }
            [got] = await slack.wait(1)
            assert "sendOnFailure" in json.loads(got.body)["text"]
            failed = await ok(client, "notifications/try_webhook", body)
            assert failed["status"] == "failed" and "500" in failed["message"]
            legacy = {
                "notificationType": "slack",
                "sendOnSuccess": True,
                "sendOnFailure": True,
                "slackConfiguration": {"webhook": slack.url},
            }
            assert (await ok(client, "notifications/try", legacy))["status"] == "succeeded"
            bad = {"slackConfiguration": {"webhook": "file:///etc/passwd"}}
            r = await post(client, "notifications/try_webhook", bad)
            assert r.status_code == 422
            assert r.json()["validationErrors"][0]["propertyPath"] == "slackConfiguration.webhook"
            r = await post(client, "notifications/try", {**legacy, "slackConfiguration": {}})
            assert r.status_code == 422
            r = await post(client, "notifications/list", {})
            assert r.status_code == 422


async def test_receivers_outside_the_allowed_hosts_are_not_sent_to(tmp_path: Path) -> None:
    with receiver() as slack:
        settings = settings_for(tmp_path, notification_allowed_hosts=".example.com")
        async with running(create_app(settings)) as client:
            body = {"slackConfiguration": {"webhook": slack.url}}
            answer = await ok(client, "notifications/try_webhook", body)
            assert answer["status"] == "failed" and "not an allowed receiver" in answer["message"]
            await anyio.sleep(0.1)
            assert slack.got == []


async def test_a_url_httpx_refuses_is_a_failed_try_not_a_500(tmp_path: Path) -> None:
    async with running(create_app(settings_for(tmp_path))) as client:
        for webhook in ("http://\x1bbad/x", "http://[::1/x"):
            body = {"slackConfiguration": {"webhook": webhook}}
            r = await post(client, "notifications/try_webhook", body)
            assert r.status_code in (200, 422), r.text
            if r.status_code == 200:
                assert r.json()["status"] == "failed"
