"""The catalog diff (Airbyte's CatalogDiff shape and breaking rules) and the preferences'
decisions, on catalogs in the API's shape; the sync-time flow is in
test_schema_changes_sync.py."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest

from server.core import catalog_diff, schema_changes
from server.core.catalog_diff import field_schemas
from server.models.connections import AirbyteCatalog, ConnectionRead
from server.models.discover import CatalogDiff

Json = dict[str, Any]
STRING = {"type": ["null", "string"]}
INTEGER = {"type": ["null", "integer"]}


def stream(name: str = "users", namespace: str | None = None, **props: Any) -> Json:
    schema = {"type": "object", "properties": props or {"id": INTEGER, "updated_at": STRING}}
    found: Json = {
        "name": name,
        "jsonSchema": schema,
        "supportedSyncModes": ["full_refresh", "incremental"],
        "sourceDefinedPrimaryKey": [["id"]],
    }
    if namespace is not None:
        found["namespace"] = namespace
    return found


def entry(s: Json, **config: Any) -> Json:
    return {
        "stream": s,
        "config": {"syncMode": "full_refresh", "destinationSyncMode": "overwrite", **config},
    }


def catalog(*entries: Json) -> AirbyteCatalog:
    return msgspec.convert({"streams": list(entries)}, AirbyteCatalog)


def wire(diff: CatalogDiff) -> list[Json]:
    return msgspec.to_builtins(diff)["transforms"]  # type: ignore[no-any-return]


def connection(sync_catalog: AirbyteCatalog, **fields: Any) -> ConnectionRead:
    values: Json = {
        "connectionId": str(uuid.uuid4()),
        "name": "Feed to lake",
        "sourceId": str(uuid.uuid4()),
        "destinationId": str(uuid.uuid4()),
        "workspaceId": str(uuid.uuid4()),
        "status": "active",
        "syncCatalog": msgspec.to_builtins(sync_catalog),
        "syncSchema": {"streams": []},
        "scheduleType": "manual",
        "namespaceDefinition": "source",
        "operationIds": [],
        "breakingChange": False,
        "schedule": None,
        "syncMode": "full_refresh",
        "created_at": 0,
        **fields,
    }
    return msgspec.convert(values, ConnectionRead)


def test_no_change_is_an_empty_diff() -> None:
    same = catalog(entry(stream()))
    diff = catalog_diff.catalog_diff(same, same)
    assert diff.transforms == []
    assert catalog_diff.schema_change(diff) == "no_change"
    assert catalog_diff.summary(diff) == "no changes"


def test_fields_added_removed_and_changed_in_airbyte_shape() -> None:
    before = catalog(entry(stream(id=INTEGER, title=STRING, updated_at=STRING)))
    after = catalog(entry(stream(id=STRING, title=STRING, email=STRING)))
    diff = catalog_diff.catalog_diff(before, after)
    assert wire(diff) == [
        {
            "transformType": "update_stream",
            "streamDescriptor": {"name": "users"},
            "updateStream": {
                "fieldTransforms": [
                    {
                        "transformType": "add_field",
                        "fieldName": ["email"],
                        "breaking": False,
                        "addField": {"schema": STRING},
                    },
                    {
                        "transformType": "update_field_schema",
                        "fieldName": ["id"],
                        "breaking": False,
                        "updateFieldSchema": {"oldSchema": INTEGER, "newSchema": STRING},
                    },
                    {
                        "transformType": "remove_field",
                        "fieldName": ["updated_at"],
                        "breaking": False,
                        "removeField": {"schema": STRING},
                    },
                ],
                "streamAttributeTransforms": [],
            },
        }
    ]
    assert catalog_diff.schema_change(diff) == "non_breaking"
    assert catalog_diff.summary(diff) == (
        "Modified stream 'users': added fields ['email'], removed fields ['updated_at'], "
        "changed the type of fields ['id']"
    )


def test_streams_added_and_removed_are_not_breaking() -> None:
    before = catalog(entry(stream("users")), entry(stream("orders", namespace="shop")))
    after = catalog(entry(stream("users")), entry(stream("refunds")))
    diff = catalog_diff.catalog_diff(before, after)
    assert wire(diff) == [
        {"transformType": "add_stream", "streamDescriptor": {"name": "refunds"}},
        {
            "transformType": "remove_stream",
            "streamDescriptor": {"name": "orders", "namespace": "shop"},
        },
    ]
    assert catalog_diff.schema_change(diff) == "non_breaking"
    assert "Removed stream 'shop.orders'" in catalog_diff.summary(diff)


def test_an_unselected_stream_is_not_compared() -> None:
    before = catalog(entry(stream(), selected=False))
    after = catalog(entry(stream(id=INTEGER)))
    assert catalog_diff.catalog_diff(before, after).transforms == []


def test_nested_fields_have_paths() -> None:
    address = {"type": "object", "properties": {"city": STRING, "zip": STRING}}
    tags = {"type": "array", "items": {"type": "object", "properties": {"label": STRING}}}
    found = field_schemas({"type": "object", "properties": {"address": address, "tags": tags}})
    assert set(found) == {
        ("address",),
        ("address", "city"),
        ("address", "zip"),
        ("tags",),
        ("tags", "items"),
        ("tags", "items", "label"),
    }
    smaller = {"type": "object", "properties": {"city": STRING}}
    before = catalog(entry(stream(address=address)))
    after = catalog(entry(stream(address=smaller)))
    (transform,) = wire(catalog_diff.catalog_diff(before, after))
    changes = [
        (f["transformType"], f["fieldName"]) for f in transform["updateStream"]["fieldTransforms"]
    ]
    assert changes == [("update_field_schema", ["address"]), ("remove_field", ["address", "zip"])]


@pytest.mark.parametrize(
    ("config", "breaking"),
    [
        (
            {
                "syncMode": "incremental",
                "destinationSyncMode": "append",
                "cursorField": ["updated_at"],
            },
            True,
        ),
        (
            {
                "syncMode": "full_refresh",
                "destinationSyncMode": "overwrite",
                "cursorField": ["updated_at"],
            },
            False,
        ),
        (
            {"syncMode": "incremental", "destinationSyncMode": "append", "cursorField": ["id"]},
            False,
        ),
    ],
)
def test_a_removed_cursor_breaks_an_incremental_stream(config: Json, breaking: bool) -> None:
    before = catalog(entry(stream(id=INTEGER, updated_at=STRING), **config))
    after = catalog(entry(stream(id=INTEGER)))
    diff = catalog_diff.catalog_diff(before, after)
    (field,) = wire(diff)[0]["updateStream"]["fieldTransforms"]
    assert (field["fieldName"], field["breaking"]) == (["updated_at"], breaking)
    assert catalog_diff.schema_change(diff) == ("breaking" if breaking else "non_breaking")


def test_a_removed_primary_key_breaks_a_deduplicated_stream() -> None:
    dedup = {
        "syncMode": "incremental",
        "destinationSyncMode": "append_dedup",
        "primaryKey": [["id"]],
        "cursorField": ["updated_at"],
    }
    before = catalog(entry(stream(id=INTEGER, updated_at=STRING), **dedup))
    after = catalog(entry(stream(updated_at=STRING)))
    diff = catalog_diff.catalog_diff(before, after)
    assert catalog_diff.is_breaking(diff)
    assert "'id' (breaking)" in catalog_diff.summary(diff)
    # The same removal from a stream that is not deduplicated does not break it.
    plain = catalog(entry(stream(id=INTEGER, updated_at=STRING), primaryKey=[["id"]]))
    assert catalog_diff.schema_change(catalog_diff.catalog_diff(plain, after)) == "non_breaking"


def test_a_changed_source_primary_key_breaks_dedup_on_another_key() -> None:
    dedup = {
        "syncMode": "incremental",
        "destinationSyncMode": "append_dedup",
        "primaryKey": [["id"]],
    }
    before = catalog(entry(stream(), **dedup))
    new = stream()
    new["sourceDefinedPrimaryKey"] = [["updated_at"]]
    diff = catalog_diff.catalog_diff(before, catalog(entry(new)))
    (attribute,) = wire(diff)[0]["updateStream"]["streamAttributeTransforms"]
    assert attribute == {
        "transformType": "update_primary_key",
        "breaking": True,
        "updatePrimaryKey": {"oldPrimaryKey": [["id"]], "newPrimaryKey": [["updated_at"]]},
    }
    overwrite = catalog(entry(stream()))
    assert not catalog_diff.is_breaking(catalog_diff.catalog_diff(overwrite, catalog(entry(new))))


def _decide(preference: str | None, apply: bool = True) -> schema_changes.Outcome:
    before = catalog(entry(stream("users", id=INTEGER, updated_at=STRING)), entry(stream("orders")))
    after = catalog(entry(stream("users", id=INTEGER, email=STRING)), entry(stream("refunds")))
    c = connection(before, nonBreakingChangesPreference=preference)
    return schema_changes.decide(c, after, "catalog-1", apply)


def _streams(c: ConnectionRead) -> dict[str, list[str]]:
    return {
        s.stream.name: sorted((s.stream.json_schema or {}).get("properties", {}))
        for s in c.sync_catalog.streams
    }


def test_ignore_records_and_keeps_the_catalog() -> None:
    outcome = _decide("ignore")
    assert (outcome.action, outcome.blocked, outcome.connection.status) == (
        "ignored",
        None,
        "active",
    )
    assert _streams(outcome.connection) == {
        "users": ["id", "updated_at"],
        "orders": ["id", "updated_at"],
    }
    assert _decide(None).action == "ignored"  # Airbyte's default


def test_disable_pauses_the_connection_with_the_reason() -> None:
    outcome = _decide("disable")
    assert outcome.connection.status == "inactive" and not outcome.connection.breaking_change
    assert (
        outcome.blocked is not None and "nonBreakingChangesPreference (disable)" in outcome.blocked
    )
    assert "added fields ['email']" in outcome.blocked


def test_propagate_columns_updates_existing_streams_only() -> None:
    outcome = _decide("propagate_columns")
    assert (outcome.action, outcome.blocked) == ("propagated", None)
    assert _streams(outcome.connection) == {
        "users": ["email", "id"],
        "orders": ["id", "updated_at"],
    }
    assert outcome.connection.source_catalog_id is None or str(outcome.connection.source_catalog_id)


def test_propagate_fully_adds_and_removes_streams() -> None:
    outcome = _decide("propagate_fully")
    assert _streams(outcome.connection) == {
        "users": ["email", "id"],
        "refunds": ["id", "updated_at"],
    }
    added = outcome.connection.sync_catalog.streams[-1].config
    assert added is not None and added.selected is True
    assert (added.sync_mode, added.destination_sync_mode) == ("full_refresh", "overwrite")


def test_a_discover_outside_a_sync_propagates_nothing() -> None:
    outcome = _decide("propagate_fully", apply=False)
    assert outcome.action == "detected"
    assert _streams(outcome.connection)["users"] == ["id", "updated_at"]


def test_field_selection_takes_the_new_fields() -> None:
    selection = {
        "fieldSelectionEnabled": True,
        "selectedFields": [{"fieldPath": ["id"]}, {"fieldPath": ["updated_at"]}],
    }
    before = catalog(entry(stream(id=INTEGER, updated_at=STRING), **selection))
    after = catalog(entry(stream(id=INTEGER, email=STRING)))
    c = connection(before, nonBreakingChangesPreference="propagate_columns")
    config = schema_changes.decide(c, after, None, True).connection.sync_catalog.streams[0].config
    assert config is not None and config.selected_fields is not None
    assert [f.field_path for f in config.selected_fields] == [["id"], ["email"]]


@pytest.mark.parametrize("preference", ["ignore", "propagate_fully", "disable"])
def test_a_breaking_change_pauses_whatever_the_preference(preference: str) -> None:
    incremental = {
        "syncMode": "incremental",
        "destinationSyncMode": "append",
        "cursorField": ["updated_at"],
    }
    before = catalog(entry(stream(id=INTEGER, updated_at=STRING), **incremental))
    c = connection(before, nonBreakingChangesPreference=preference)
    outcome = schema_changes.decide(c, catalog(entry(stream(id=INTEGER))), None, True)
    assert outcome.schema_change == "breaking" and outcome.action == "paused"
    assert outcome.connection.status == "inactive" and outcome.connection.breaking_change
    assert outcome.connection.sync_catalog == before  # left for the user to fix
    assert outcome.blocked is not None and "Breaking schema change" in outcome.blocked
    assert "removed fields ['updated_at' (breaking)]" in outcome.blocked


def test_notifications_follow_notify_schema_changes() -> None:
    outcome = _decide("propagate_columns")
    quiet = connection(catalog(), notifySchemaChanges=False)
    assert schema_changes._events(quiet, outcome, 7) == []
    loud = connection(catalog(), notifySchemaChanges=True)
    (event,) = schema_changes._events(loud, outcome, 7)
    assert event.trigger == "sendOnConnectionUpdate" and event.job_id == 7
    assert event.details is not None and event.details["catalogDiff"] == msgspec.to_builtins(
        outcome.diff
    )
    assert "applied to the connection" in event.message


def test_a_pause_is_announced_even_without_notify_schema_changes() -> None:
    incremental = {
        "syncMode": "incremental",
        "destinationSyncMode": "append",
        "cursorField": ["updated_at"],
    }
    before = catalog(entry(stream(id=INTEGER, updated_at=STRING), **incremental))
    c = connection(before, notifySchemaChanges=False)
    outcome = schema_changes.decide(c, catalog(entry(stream(id=INTEGER))), None, True)
    assert [e.trigger for e in schema_changes._events(c, outcome, None)] == [
        "sendOnBreakingChangeSyncsDisabled"
    ]
    loud = msgspec.structs.replace(c, notify_schema_changes=True)
    assert [e.trigger for e in schema_changes._events(loud, outcome, None)] == [
        "sendOnConnectionUpdateActionRequired",
        "sendOnBreakingChangeSyncsDisabled",
    ]
    paused = msgspec.structs.replace(c, status="inactive")
    assert [e.trigger for e in schema_changes._events(paused, outcome, None)] == [
        "sendOnBreakingChangeWarning"
    ]
