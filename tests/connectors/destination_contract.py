"""What every Sluice destination must do, as tests shared by the destination test modules.

Each module subclasses `DestinationContract` and provides a `target` fixture: how to configure
its destination and how to read back what it wrote. The destination always runs as a program
(its console script), fed protocol messages on stdin, as the platform runs it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.destination_support import (
    EMITTED_AT,
    GENERATION_ID,
    ODD_NAMES,
    SYNC_ID,
    TRICKY_USERS,
    Running,
    Target,
    by,
    catalog,
    event,
    lines,
    record,
    state,
    stream_status,
    user,
    without_nulls,
    write,
    written,
)
from tests.connectors.programs import run, write_json


class DestinationContract:
    """The behaviour every destination shares. Subclasses provide the `target` fixture."""

    def test_spec_declares_the_sync_modes(self, target: Target, tmp_path: Path) -> None:
        result = run(target.name, "spec")
        assert result.returncode == 0
        spec = result.one("SPEC")["spec"]
        assert spec["supported_destination_sync_modes"] == ["overwrite", "append", "append_dedup"]
        assert "connectionSpecification" in spec

    def test_check_succeeds_and_leaves_nothing(self, target: Target, tmp_path: Path) -> None:
        config = write_json(tmp_path / "config.json", target.config())
        result = run(target.name, "check", "--config", config, env={**os.environ, **target.env()})
        assert result.returncode == 0
        status = result.one("CONNECTION_STATUS")["connectionStatus"]
        assert status == {"status": "SUCCEEDED"}, status
        assert target.leftovers() == []

    def test_records_of_two_streams_read_back_with_their_types(
        self, target: Target, tmp_path: Path
    ) -> None:
        users = [*TRICKY_USERS, user(4), user(5)]
        messages = [record("users", u, offset=i) for i, u in enumerate(users[:3])]
        messages += [state("users", 3), record("events", event(1)), record("events", event(2))]
        messages += [state("events", 2), *(record("users", u, offset=9) for u in users[3:])]
        messages += [state("users", 5)]
        result = written(target, tmp_path, lines(*messages))
        # Every state comes back, unchanged and in order.
        assert [line for line in result.lines if b'"STATE"' in line] == [
            m for m in messages if b'"type":"STATE"' in m
        ]
        got = by(target.rows("users"), "id")
        assert set(got) == {u["id"] for u in users}
        for i, sent in enumerate(users):
            row = got[sent["id"]]
            assert row["data"] == without_nulls(sent)
            for key, value in without_nulls(sent).items():
                assert type(row["data"][key]) is type(value), key
            assert row["_airbyte_extracted_at"] == EMITTED_AT + (i if i < 3 else 9)
            assert row["_airbyte_meta"] == {"changes": [], "sync_id": SYNC_ID}
            assert row["_airbyte_generation_id"] == GENERATION_ID
            assert str(uuid.UUID(row["_airbyte_raw_id"])) == row["_airbyte_raw_id"]
        assert len({row["_airbyte_raw_id"] for row in got.values()}) == len(users)
        events = by(target.rows("events"), "event_id")
        assert {k: r["data"] for k, r in events.items()} == {1: event(1), 2: event(2)}

    def test_record_meta_changes_from_the_source_are_kept(
        self, target: Target, tmp_path: Path
    ) -> None:
        change = {"field": "name", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}
        message = record("users", user(1), meta={"changes": [change]})
        written(target, tmp_path, lines(message), streams=["users"])
        (row,) = target.rows("users")
        assert row["_airbyte_meta"] == {"changes": [change], "sync_id": SYNC_ID}

    def test_values_of_another_json_type_are_nulled_with_a_change(
        self, target: Target, tmp_path: Path
    ) -> None:
        """Typing follows the JSON types, not an engine's casts: a string, a fraction or a
        boolean is no integer, a string or boolean no number, a string or 1 no boolean. Each
        such value becomes NULL with a change; a whole number written 3.0 is an integer."""
        if target.name == "destination-jsonl":
            pytest.skip("keeps records as sent: no typing")
        users = [user(1, score="1.5", active="yes"), user(2, score=True, active=1)]
        events = [
            {**event(1), "event_id": "123", "at": 1.5},
            {**event(2), "at": 3.0},
            {**event(3), "at": True},
        ]
        messages = [*(record("users", u) for u in users), *(record("events", e) for e in events)]
        written(target, tmp_path, lines(*messages))

        def nulled(row: dict[str, Any]) -> list[str]:
            changes = row["_airbyte_meta"]["changes"]
            assert {c["reason"] for c in changes} <= {"DESTINATION_TYPECAST_ERROR"}
            return sorted(c["field"] for c in changes)

        got = target.rows("users")
        assert [nulled(r) for r in got] == [["active", "score"], ["active", "score"]]
        assert [sorted(r["data"]) for r in got] == [
            sorted(set(without_nulls(user(1))) - {"active", "score"})
        ] * 2
        got = target.rows("events")
        assert [nulled(r) for r in got] == [["at", "event_id"], [], ["at"]]
        assert [r["data"].get("event_id") for r in got] == [None, 2, 3]
        assert got[1]["data"]["at"] == 3 and type(got[1]["data"]["at"]) is int
        assert ["at" in r["data"] for r in got] == [False, True, False]

    def test_odd_property_names_round_trip(self, target: Target, tmp_path: Path) -> None:
        stream = "odd stream-name"
        data = {"key": 1, **{name: f"value of {name}" for name in ODD_NAMES}}
        data.update({"n'um": 2.5, 'ob"j': {'in"ner': [1, "x"]}, 'un"known': True})
        written(target, tmp_path, lines(record(stream, data)), streams=[stream])
        (row,) = target.rows(stream)
        assert row["data"] == data

    def test_a_record_bigger_than_one_read_is_written_whole(
        self, target: Target, tmp_path: Path
    ) -> None:
        big = user(1, name="x" * 3_000_000 + "é")  # spans several 1 MiB reads of stdin
        written(target, tmp_path, lines(record("users", big), record("users", user(2))))
        assert [r["data"] for r in target.rows("users")] == [
            without_nulls(big),
            without_nulls(user(2)),
        ]

    def test_overwrite_replaces_the_previous_data(self, target: Target, tmp_path: Path) -> None:
        first = [record("users", user(i)) for i in (1, 2, 3)] + [record("events", event(1))]
        written(target, tmp_path, lines(*first, state("users", 1)), mode="overwrite")
        assert len(target.rows("users")) == 3
        written(target, tmp_path, lines(record("users", user(9))), mode="overwrite")
        assert [r["data"]["id"] for r in target.rows("users")] == [9]
        assert target.rows("events") == []  # no records this time: an empty stream
        assert target.leftovers() == []

    def test_append_adds_to_the_previous_data(self, target: Target, tmp_path: Path) -> None:
        written(target, tmp_path, lines(record("users", user(1)), record("users", user(2))))
        written(target, tmp_path, lines(record("users", user(2)), record("users", user(3))))
        assert sorted(r["data"]["id"] for r in target.rows("users")) == [1, 2, 2, 3]

    @pytest.mark.parametrize("batches", [1, 2])
    def test_append_dedup_keeps_the_newest_cursor_per_key(
        self, target: Target, tmp_path: Path, batches: int
    ) -> None:
        t = "2024-01-0{}T00:00:00Z".format
        first = [record("users", user(i, t(5))) for i in (1, 2, 3)]
        written(target, tmp_path, lines(*first), mode="append_dedup", streams=["users"])
        second = [
            record("users", user(1, t(4), name="older, loses")),
            record("users", user(2, t(6), name="newer")),
            record("users", user(2, t(7), name="newest")),
            record("users", user(2, t(6), name="late but older")),
            record("users", user(3, t(5), name="same cursor, later arrival")),
            record("users", user(4, t(1))),
        ]
        # With batches of 3 records the same records cross two commits of one run.
        env = {"SLUICE_BATCH_RECORDS": "3"} if batches == 2 else {}
        written(target, tmp_path, lines(*second), "append_dedup", env, streams=["users"])
        rows = target.rows("users")
        assert sorted(r["data"]["id"] for r in rows) == [1, 2, 3, 4]
        got = {r["data"]["id"]: r["data"]["name"] for r in rows}
        assert got == {1: "user 1", 2: "newest", 3: "same cursor, later arrival", 4: "user 4"}

    def test_append_dedup_without_cursor_keeps_the_latest_arrival(
        self, target: Target, tmp_path: Path
    ) -> None:
        messages = [record("events", {**event(1), "kind": k}) for k in ("a", "b", "c")]
        written(target, tmp_path, lines(*messages[:2]), mode="append_dedup", streams=["events"])
        written(target, tmp_path, lines(messages[2]), mode="append_dedup", streams=["events"])
        assert [r["data"]["kind"] for r in target.rows("events")] == ["c"]

    def test_namespace_keeps_streams_apart(self, target: Target, tmp_path: Path) -> None:
        ns = f"crm_{uuid.uuid4().hex[:6]}"
        message = record("users", user(1), namespace=ns)
        written(target, tmp_path, lines(message), streams=["users"], namespace=ns)
        assert [r["data"]["id"] for r in target.rows("users", ns)] == [1]
        assert target.rows("users") == []

    def test_each_state_is_echoed_only_after_its_records_are_committed(
        self, target: Target, tmp_path: Path
    ) -> None:
        """Feed records and a state, wait for the state to come back, then kill the
        destination: whatever preceded the state must already be in storage."""
        running = Running(target, tmp_path, catalog("append", streams=["users"]))
        try:
            running.send(*(record("users", user(i)) for i in range(1, 4)), state("users", 3))
            assert running.next_state() == state("users", 3)
            running.send(record("users", user(4)), state("users", 4), record("users", user(5)))
            assert running.next_state() == state("users", 4)
        finally:
            running.kill()
        ids = sorted(r["data"]["id"] for r in target.rows("users"))
        assert ids[:4] == [1, 2, 3, 4]  # user 5 may or may not have been committed

    def test_a_killed_overwrite_keeps_the_old_data(self, target: Target, tmp_path: Path) -> None:
        written(target, tmp_path, lines(record("users", user(1))), "overwrite", streams=["users"])
        running = Running(target, tmp_path, catalog("overwrite", streams=["users"]))
        try:
            running.send(record("users", user(7)), record("users", user(8)), state("users", 2))
            running.next_state()  # the new records are committed, not yet swapped in
        finally:
            running.kill()
        assert [r["data"]["id"] for r in target.rows("users")] == [1]
        written(target, tmp_path, lines(record("users", user(9))), "overwrite", streams=["users"])
        assert [r["data"]["id"] for r in target.rows("users")] == [9]
        assert target.leftovers() == []

    def test_an_incomplete_stream_status_keeps_the_old_data(
        self, target: Target, tmp_path: Path
    ) -> None:
        written(target, tmp_path, lines(record("users", user(1))), "overwrite", streams=["users"])
        messages = [stream_status("users", "STARTED"), record("users", user(2))]
        messages.append(stream_status("users", "INCOMPLETE"))
        written(target, tmp_path, lines(*messages), "overwrite", streams=["users"])
        assert [r["data"]["id"] for r in target.rows("users")] == [1]
        messages[-1] = stream_status("users", "COMPLETE")
        written(target, tmp_path, lines(*messages), "overwrite", streams=["users"])
        assert [r["data"]["id"] for r in target.rows("users")] == [2]

    def test_a_record_of_an_unknown_stream_fails_clearly(
        self, target: Target, tmp_path: Path
    ) -> None:
        messages = lines(record("users", user(1)), record("payments", {"id": 1}))
        result = write(target, tmp_path, messages, catalog(streams=["users"]))
        assert result.returncode == 1
        (error,) = result.errors
        assert "payments" in error["message"]
        assert "not in the configured catalog" in error["message"]

    def test_a_line_that_is_not_a_message_fails_clearly(
        self, target: Target, tmp_path: Path
    ) -> None:
        messages = lines(record("users", user(1))) + b"this is not json\n"
        result = write(target, tmp_path, messages, catalog(streams=["users"]))
        assert result.returncode == 1
        (error,) = result.errors
        assert "line 2 is not an Airbyte message" in error["message"]
