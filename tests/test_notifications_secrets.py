"""Webhook secrets at rest: sealed in the database, and a secret that no longer opens (the key
was rotated away) fails its delivery with what to do, never sends it unsigned, and never undoes
the event's transaction."""

from __future__ import annotations

import msgspec

from server.core.notification_settings import sealed
from server.core.notifications import NotificationEvent, queue_event
from server.models.notifications import NotificationSettings
from server.store import notifications as outbox
from server.store import secret_box
from server.store.db import open_db, transaction
from server.store.workspaces import list_workspaces, update_workspace


def test_a_secret_is_sealed_and_one_that_no_longer_opens_fails_the_delivery() -> None:
    db = open_db(None)
    [workspace] = list_workspaces(db)
    given = msgspec.convert(
        {
            "sendOnSuccess": {
                "notificationType": ["webhook"],
                "webhookConfiguration": {"url": "http://127.0.0.1:9/x", "secret": "hush-hush"},
            }
        },
        NotificationSettings,
    )
    with transaction(db):
        stored = sealed(db, given, None)
        update_workspace(db, msgspec.structs.replace(workspace, notification_settings=stored))
    raw = db.execute("SELECT data FROM workspaces").fetchone()[0]
    assert "hush-hush" not in raw and secret_box.PREFIX in raw

    event = NotificationEvent(trigger="sendOnSuccess", message="ok")
    with transaction(db):
        assert queue_event(db, str(workspace.workspace_id), event, 100) == 1
    [signed] = outbox.due_deliveries(db, 100, 10)
    assert signed.signature is not None and signed.signature.startswith("sha256=")

    # Sealed with another key (as after a rotation that did not cover it): not sent unsigned.
    other = secret_box.SealingKey(secret_box.new_key().encode())
    with transaction(db):
        resealed = sealed(db, given, None)
        assert resealed is not None and resealed.send_on_success is not None
        hook = resealed.send_on_success.webhook_configuration
        assert hook is not None
        foreign = secret_box.seal(other, "hush-hush", [[]])
        item = msgspec.structs.replace(
            resealed.send_on_success,
            webhook_configuration=msgspec.structs.replace(hook, secret=foreign),
        )
        update_workspace(
            db,
            msgspec.structs.replace(
                workspace,
                notification_settings=msgspec.structs.replace(resealed, send_on_success=item),
            ),
        )
    with transaction(db):
        assert queue_event(db, str(workspace.workspace_id), event, 200) == 1
    newest = outbox.list_deliveries(db, workspace_id=None, connection_id=None, limit=1, offset=0)
    assert newest[0].status == "failed" and newest[0].signature is None
    assert "set it again" in (newest[0].last_error or "")
