"""Schema changes applied: what a connection does when its source's catalog changed, by its
`nonBreakingChangesPreference`, as Airbyte's ApplySchemaChangeHelper and CatalogDiffService do.

- No change: the diff is recorded (`schemaChange: no_change`) and `breakingChange` cleared.
- A breaking change (see `server.core.catalog_diff`), whatever the preference: the connection
  is paused (`inactive`, `breakingChange: true`, the reason as its `statusReason`) and its
  catalog left as it is; a sync does not run.
- A non-breaking change: `ignore` records it and leaves the catalog; `disable` also pauses
  the connection; `propagate_columns` applies the new, removed and changed fields to the
  streams the connection has (new fields join a field selection that is on); `propagate_fully`
  also adds the new streams (selected, with Airbyte's default modes for a new stream) and
  drops the removed ones.

Propagation happens only before a sync (`apply=True`): a discover asked for by a client
(`sources/discover_schema` with a `connectionId`, `web_backend/connections/get` with
`withRefreshedCatalog`) records the diff and pauses the connection when it must, as Airbyte's
does, and leaves the catalog for the client to review.

Everything (the connection's new state, the stored diff, the notifications) is written in one
transaction; notifications are queued only for a diff not seen before, so a change that is
ignored is announced once, not at every sync.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import msgspec
from sqlite_utils import Database

from server.core import catalog_diff
from server.core.catalog_propagation import propagate
from server.core.connections import finish, stop
from server.core.notifications import NotificationEvent, Trigger, queue_event
from server.models.connections import AirbyteCatalog, ConnectionRead
from server.models.discover import CatalogDiff, SchemaChange
from server.store import catalog_diffs
from server.store import connections as connection_store
from server.store.catalog_diffs import StoredDiff

log = logging.getLogger("sluice.schema_changes")


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """One comparison and what came of it. `blocked` is why a sync must not run (the
    connection was paused), None when it may."""

    connection: ConnectionRead
    diff: CatalogDiff
    schema_change: SchemaChange
    action: str
    reason: str | None = None
    blocked: str | None = None
    # What was queued for the workspace's receivers, for the job's log.
    notes: list[str] = []

    def log_line(self) -> str:
        """The job log's line: the changes, and what was done."""
        if self.schema_change == "no_change":
            return "Schema check: the source's catalog matches the connection's"
        done = {
            "ignored": "left the connection's catalog as it is (nonBreakingChangesPreference "
            "ignore)",
            "propagated": "applied them to the connection's catalog (nonBreakingChangesPreference "
            f"{self.connection.non_breaking_changes_preference})",
            "detected": "recorded them for review",
        }.get(self.action, self.reason or self.action)
        return (
            f"Schema change detected ({self.schema_change}): "
            f"{catalog_diff.summary(self.diff)}. Sluice {done}"
        )


def catalog_hash(catalog: AirbyteCatalog) -> str:
    """A fingerprint of what a diff depends on in a connection's catalog (each stream, and
    its selection, modes, cursor and key): a stored diff holds while it is unchanged. Other
    config (an alias, mappers, masked or not, in a reply) leaves it as it is."""
    parts = [
        (
            s.stream,
            None
            if s.config is None
            else (
                s.config.selected,
                s.config.sync_mode,
                s.config.destination_sync_mode,
                s.config.cursor_field,
                s.config.primary_key,
            ),
        )
        for s in catalog.streams
    ]
    return hashlib.sha256(msgspec.json.encode(parts)).hexdigest()


def _breaking_reason(diff: CatalogDiff) -> str:
    breaking = [
        catalog_diff.describe(t)
        for t in diff.transforms
        if catalog_diff.is_breaking(CatalogDiff(transforms=[t]))
    ]
    return (
        f"Breaking schema change: {'; '.join(breaking)}. The connection was paused: update its "
        "streams' cursor and primary key (or its catalog) and enable it again"
    )


def _disabled_reason(diff: CatalogDiff) -> str:
    return (
        f"Schema change: {catalog_diff.summary(diff)}. The connection was disabled, as its "
        "nonBreakingChangesPreference (disable) asks: review the catalog and enable it again"
    )


def decide(
    connection: ConnectionRead,
    discovered: AirbyteCatalog,
    catalog_id: str | None,
    apply: bool,
) -> Outcome:
    """What the connection becomes for the discovered catalog (nothing written here)."""
    diff = catalog_diff.catalog_diff(connection.sync_catalog, discovered)
    change = catalog_diff.schema_change(diff)
    cleared = msgspec.structs.replace(connection, breaking_change=False)
    if change == "no_change":
        return Outcome(connection=cleared, diff=diff, schema_change=change, action="none")
    if change == "breaking":
        reason = _breaking_reason(diff)
        paused = stop(msgspec.structs.replace(connection, breaking_change=True), reason)
        return Outcome(
            connection=paused,
            diff=diff,
            schema_change=change,
            action="paused",
            reason=reason,
            blocked=reason,
        )
    preference = connection.non_breaking_changes_preference or "ignore"
    if preference == "disable":
        reason = _disabled_reason(diff)
        disabled = stop(cleared, reason)
        blocked = reason if apply else None
        return Outcome(
            connection=disabled,
            diff=diff,
            schema_change=change,
            action="disabled",
            reason=reason,
            blocked=blocked,
        )
    if not apply or preference == "ignore":
        action = "ignored" if apply else "detected"
        return Outcome(connection=cleared, diff=diff, schema_change=change, action=action)
    fully = preference == "propagate_fully"
    catalog = propagate(connection.sync_catalog, discovered, diff, fully)
    propagated = msgspec.structs.replace(
        cleared, sync_catalog=catalog, source_catalog_id=catalog_id or connection.source_catalog_id
    )
    return Outcome(connection=propagated, diff=diff, schema_change=change, action="propagated")


# The triggers that say a connection was stopped (a breaking change, or `disable`).
_STOPPED = {"sendOnBreakingChangeSyncsDisabled", "sendOnConnectionUpdate"}


def _events(
    before: ConnectionRead, outcome: Outcome, job_id: int | None
) -> list[NotificationEvent]:
    """The notifications of a new diff: `notifySchemaChanges` gates the connection-update
    ones (as Airbyte's NotificationHelper); a pause is announced whatever it says."""
    name = before.name
    details: dict[str, Any] = {
        "catalogDiff": msgspec.to_builtins(outcome.diff),
        "schemaChange": outcome.schema_change,
        "action": outcome.action,
        "connectionName": name,
        "reason": outcome.reason,
    }
    changes = catalog_diff.summary(outcome.diff)
    found: list[tuple[Trigger, str]] = []
    notify = bool(before.notify_schema_changes)
    if outcome.schema_change == "breaking":
        if notify:
            found.append(
                (
                    "sendOnConnectionUpdateActionRequired",
                    f"Connection {name}: breaking schema change: {changes}",
                )
            )
        if before.status == "active":
            found.append(
                (
                    "sendOnBreakingChangeSyncsDisabled",
                    f"Connection {name} was paused: {outcome.reason}",
                )
            )
        else:
            found.append(
                (
                    "sendOnBreakingChangeWarning",
                    f"Connection {name} (not active) has a breaking schema change: {changes}",
                )
            )
    elif outcome.schema_change == "non_breaking" and notify:
        done = {
            "propagated": "applied to the connection",
            "disabled": "the connection was disabled",
            "ignored": "not applied",
            "detected": "not applied yet",
        }[outcome.action]
        found.append(
            ("sendOnConnectionUpdate", f"Connection {name}: schema change ({done}): {changes}")
        )
    return [
        NotificationEvent(
            trigger=trigger,
            message=message,
            connection_id=str(before.connection_id),
            job_id=job_id,
            details=details,
        )
        for trigger, message in found
    ]


def record(
    db: Database,
    connection_id: str,
    discovered: AirbyteCatalog,
    catalog_id: str | None,
    apply: bool,
    now: int,
    job_id: int | None = None,
) -> Outcome:
    """Compare, decide, and write it all in the caller's transaction: the connection's new
    state, the diff, and the notifications of a diff not seen before."""
    before = connection_store.get_connection(db, connection_id)
    outcome = decide(before, discovered, catalog_id, apply)
    after = outcome.connection
    if after != before:
        after = finish(after)
        connection_store.update_connection(db, after)
        outcome = msgspec.structs.replace(outcome, connection=after)
    previous = catalog_diffs.find_diff(db, connection_id)
    # What is stored is what is left once the change was handled: after a propagation, only
    # what the preference does not apply (a new stream, for propagate_columns).
    left = outcome.diff
    if outcome.action == "propagated":
        left = catalog_diff.catalog_diff(after.sync_catalog, discovered)
    catalog_diffs.put_diff(
        db,
        StoredDiff(
            connection_id=connection_id,
            schema_change=catalog_diff.schema_change(left),
            action=outcome.action,
            reason=outcome.reason,
            catalog_id=catalog_id,
            catalog_hash=catalog_hash(after.sync_catalog),
            detected_at=now,
            diff=left,
        ),
        discovered,
    )
    events = _events(before, outcome, job_id)
    if previous is not None and previous.diff == outcome.diff:
        # Seen before: told again only if it stopped the connection again.
        stopped = before.status == "active" and after.status == "inactive"
        events = [e for e in events if stopped and e.trigger in _STOPPED]
    return msgspec.structs.replace(outcome, notes=_queue(db, before, events, now))


def _queue(
    db: Database, connection: ConnectionRead, events: list[NotificationEvent], now: int
) -> list[str]:
    """Queue the events; a fault here never undoes what was recorded (a savepoint), and the
    lines returned say what was queued, or that nothing could be."""
    db.execute("SAVEPOINT schema_change_notifications")
    try:
        notes = []
        for event in events:
            queued = queue_event(db, str(connection.workspace_id), event, now)
            if queued:
                notes.append(f"Queued {queued} {event.trigger} notification(s)")
    except Exception as exc:
        log.exception("schema change notifications for %s failed", connection.connection_id)
        db.execute("ROLLBACK TO SAVEPOINT schema_change_notifications")
        notes = [f"Schema change notifications could not be queued: {exc}"]
    db.execute("RELEASE SAVEPOINT schema_change_notifications")
    return notes


class CurrentChange(msgspec.Struct, frozen=True):
    """What a connection read shows: its `schemaChange`, and its `statusReason` (the
    connection's own, as connections/get shows it: one rule for both reads)."""

    schema_change: SchemaChange = "no_change"
    status_reason: str | None = None


def current_changes(db: Database, found: list[ConnectionRead]) -> dict[str, CurrentChange]:
    """Each connection's schema change now: the stored diff while the connection's catalog is
    the one it was taken against, else the diff of its catalog now against the same
    discovered catalog (computed here: no connector runs). One query for the page, one more
    per connection whose catalog changed since."""
    stored = catalog_diffs.find_diffs(db, [str(c.connection_id) for c in found])
    result = {}
    for c in found:
        cid = str(c.connection_id)
        s = stored.get(cid)
        if s is None:
            change: SchemaChange = "breaking" if c.breaking_change else "no_change"
            result[cid] = CurrentChange(change, c.status_reason)
            continue
        change = s.schema_change
        if s.catalog_hash != catalog_hash(c.sync_catalog):
            discovered = catalog_diffs.get_discovered(db, cid)
            if discovered is not None:
                diff = catalog_diff.catalog_diff(c.sync_catalog, discovered)
                change = catalog_diff.schema_change(diff)
        result[cid] = CurrentChange(change, c.status_reason)
    return result
