"""A connection's committed state on a fresh in-memory database, and the rules of what is
left of it when streams are reset (one owner: server.sync.states)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from server.store import state
from server.sync.states import reset_states, without_streams
from tests.support.jobs import NOW, add_connection


def test_the_state_is_replaced_whole_and_kept_only_for_a_connection(db: Database) -> None:
    connection = add_connection(db)
    assert state.get_state(db, connection) == []
    messages = [{"type": "LEGACY", "data": {"at": 1}}]
    assert state.set_state(db, connection, messages, NOW)
    assert state.get_state(db, connection) == messages
    assert state.set_state(db, connection, [], NOW)
    assert state.get_state(db, connection) == []
    assert not state.set_state(db, "no-such-connection", messages, NOW)


def test_reset_state_of_some_streams() -> None:
    messages: list[dict[str, Any]] = [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"c": 1}},
        },
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "b"}, "stream_state": {"c": 2}},
        },
    ]
    assert without_streams(messages, [{"name": "a"}]) == messages[1:]
    shared = {
        "type": "GLOBAL",
        "global": {
            "shared_state": {"lsn": 9},
            "stream_states": [
                {"stream_descriptor": {"name": "a"}, "stream_state": {}},
                {"stream_descriptor": {"name": "b", "namespace": "s"}, "stream_state": {}},
            ],
        },
    }
    kept = without_streams([shared], [{"name": "a"}])
    assert kept[0]["global"]["shared_state"] == {"lsn": 9}
    assert [s["stream_descriptor"]["name"] for s in kept[0]["global"]["stream_states"]] == ["b"]
    assert without_streams([shared], [{"name": "a"}, {"name": "b", "namespace": "s"}]) == []
    assert without_streams([{"type": "LEGACY", "data": {}}], [{"name": "a"}]) == []


def test_what_a_reset_sends_the_destination() -> None:
    legacy = [{"type": "LEGACY", "data": {"x": 1}}]
    assert reset_states(legacy, [("a", None)]) == [{"type": "LEGACY", "data": {}}]
    streams = reset_states([], [("a", None), ("b", "s")])
    assert [m["stream"]["stream_descriptor"] for m in streams] == [
        {"name": "a"},
        {"name": "b", "namespace": "s"},
    ]
