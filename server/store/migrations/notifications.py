"""Notification deliveries and the catalog changes found before syncs."""

from __future__ import annotations

from sqlite_utils import Database

from server.store.migrations.base import run_script


def m014_notifications(db: Database) -> None:
    """Each notification the server sent or will send, and what the receiver answered.

    The outbox: a row is written when its event is (in the same transaction) and the delivery
    loop sends it, retrying with backoff; `body` is the exact bytes sent, and `signature` the
    generic webhook's `X-Sluice-Signature` (computed when queued, so the sender needs no
    secret). `next_attempt_at` orders the pending rows the loop picks up.
    """
    run_script(
        db,
        """
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
            connection_id TEXT,
            job_id INTEGER,
            event TEXT NOT NULL,
            kind TEXT NOT NULL,
            url TEXT NOT NULL,
            body TEXT NOT NULL,
            signature TEXT,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            sent_at INTEGER,
            answer_status INTEGER,
            answer_excerpt TEXT,
            last_error TEXT
        );
        CREATE INDEX notifications_due ON notifications(status, next_attempt_at);
        CREATE INDEX notifications_workspace ON notifications(workspace_id, id);
        CREATE INDEX notifications_connection ON notifications(connection_id, id);
        """,
    )


def m015_catalog_diffs(db: Database) -> None:
    """The catalog changes found for each connection: the latest diff of its catalog against
    its source's discovered one (`diff`, Airbyte's CatalogDiff JSON), what was done about it
    (`action`), why the connection was stopped if it was (`reason`), and the discovered catalog
    itself (`discovered`, the API's shape) with a fingerprint of the connection's catalog it
    was compared with (`catalog_hash`), so a read can tell whether the diff still holds."""
    run_script(
        db,
        """
        CREATE TABLE catalog_diffs (
            connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
            schema_change TEXT NOT NULL,
            action TEXT NOT NULL,
            reason TEXT,
            catalog_id TEXT,
            catalog_hash TEXT NOT NULL,
            detected_at INTEGER NOT NULL,
            diff TEXT NOT NULL,
            discovered TEXT NOT NULL
        )
        """,
    )
