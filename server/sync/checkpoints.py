"""Counting records and committing state only once the destination has echoed it.

The source's STATE messages are held in order, each with the record counts reached when it
was emitted. When the destination emits a STATE back (it does so once everything before it
is durably written), the held states up to the matching one are done: their counts become
committed and the connection's full state is recomputed for the store. States match on the
canonical encoding of what identifies them, as Airbyte's StreamStatsTracker hashes them: the
stream descriptor and `stream_state` for STREAM, `global` for GLOBAL, `data` for LEGACY.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import msgspec

from server.jobs.attempts import AttemptStats, StreamStats
from server.sync.catalog import Namespacing, StreamKey

GLOBAL_SCOPE = ("", None)  # the queue key of GLOBAL and LEGACY states


def canonical(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted")


def state_kind(state: dict[str, Any]) -> str:
    kind = state.get("type")
    return kind if kind in ("STREAM", "GLOBAL") else "LEGACY"


def descriptor_of(state: dict[str, Any]) -> StreamKey:
    descriptor = (state.get("stream") or {}).get("stream_descriptor") or {}
    name = descriptor.get("name")
    if not isinstance(name, str):
        raise ValueError("a STREAM state without stream.stream_descriptor.name")
    return (name, descriptor.get("namespace"))


def stored_form(state: dict[str, Any]) -> dict[str, Any]:
    """What the store keeps of a state message: the state itself, without the stats."""
    kind = state_kind(state)
    if kind == "STREAM":
        stream = state["stream"]
        kept: dict[str, Any] = {"stream_descriptor": stream["stream_descriptor"]}
        if stream.get("stream_state") is not None:
            kept["stream_state"] = stream["stream_state"]
        return {"type": "STREAM", "stream": kept}
    if kind == "GLOBAL":
        return {"type": "GLOBAL", "global": state.get("global")}
    return {"type": "LEGACY", "data": state.get("data")}


class ConnectionState:
    """The connection's full state: STREAM states merge per stream; GLOBAL and LEGACY replace."""

    def __init__(self, initial: list[dict[str, Any]]) -> None:
        self.kind: str | None = None
        self.streams: dict[StreamKey, dict[str, Any]] = {}
        self.whole: dict[str, Any] | None = None
        for state in initial:
            if isinstance(state, dict):
                self.apply(state)

    def apply(self, state: dict[str, Any]) -> None:
        kind = state_kind(state)
        if kind != self.kind:
            self.kind, self.streams, self.whole = kind, {}, None
        if kind == "STREAM":
            key = descriptor_of(state)
            if (state.get("stream") or {}).get("stream_state") is None:
                self.streams.pop(key, None)  # a reset stream starts over
            else:
                self.streams[key] = stored_form(state)
        else:
            self.whole = stored_form(state)

    def messages(self) -> list[dict[str, Any]]:
        if self.kind == "STREAM":
            return list(self.streams.values())
        return [self.whole] if self.whole is not None else []


@dataclass
class Held:
    """A source state sent to the destination and not yet echoed."""

    match: bytes  # canonical identity, as the destination will echo it
    state: dict[str, Any]  # the source's state message (source names)
    marks: dict[StreamKey, tuple[int, int]]  # cumulative (records, bytes) it covers


class Checkpoints:
    """Counters (written by the source pump) and held states (shared with the destination
    reader, under a lock). Counters are lists so the hot loop updates them in place."""

    def __init__(self, initial: list[dict[str, Any]], namespacing: Namespacing) -> None:
        self.namespacing = namespacing
        self.emitted: dict[StreamKey, list[int]] = {}  # stream -> [records, bytes]
        self.committed: dict[StreamKey, list[int]] = {}
        self.state_counts: dict[StreamKey, int] = {}
        self.states_emitted = 0
        self.states_committed = 0
        self.connection = ConnectionState(initial)
        self._held: dict[StreamKey, deque[Held]] = {}
        self._lock = threading.Lock()

    def slot(self, key: StreamKey) -> list[int]:
        counts = self.emitted.get(key)
        if counts is None:
            counts = self.emitted[key] = [0, 0]
        return counts

    @staticmethod
    def _identity(kind: str, state: dict[str, Any]) -> bytes:
        # The stream is the queue's key, so a STREAM state is identified by its content.
        if kind == "STREAM":
            return canonical([kind, (state.get("stream") or {}).get("stream_state")])
        return canonical([kind, state.get("global" if kind == "GLOBAL" else "data")])

    def hold(self, state: dict[str, Any]) -> StreamKey | None:
        """Register a source state about to be sent. Returns the destination's name of its
        stream for a STREAM state (so the caller can rename it), else None."""
        kind = state_kind(state)
        self.states_emitted += 1
        if kind == "STREAM":
            source_key = descriptor_of(state)
            target = self.namespacing.map(*source_key)
            counts = self.emitted.get(source_key, [0, 0])
            marks = {source_key: (counts[0], counts[1])}
            self.state_counts[source_key] = self.state_counts.get(source_key, 0) + 1
            queue_key = target
        else:
            marks = {key: (c[0], c[1]) for key, c in self.emitted.items()}
            target, queue_key = None, GLOBAL_SCOPE
        held = Held(self._identity(kind, state), stored_form(state), marks)
        with self._lock:
            self._held.setdefault(queue_key, deque()).append(held)
        return target

    def echoed(self, state: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The destination emitted `state`: returns the new full connection state to commit,
        or None if no held state matches (never sent, or already committed)."""
        kind = state_kind(state)
        name = descriptor_of(state) if kind == "STREAM" else None
        match = self._identity(kind, state)
        with self._lock:
            queue = self._held.get(name if name is not None else GLOBAL_SCOPE)
            if queue is None and name is not None:
                # Some destinations add or drop the namespace when echoing: match by name.
                same = [q for key, q in self._held.items() if key[0] == name[0]]
                queue = same[0] if len(same) == 1 else None
            if not queue:
                return None
            index = next((i for i, held in enumerate(queue) if held.match == match), None)
            if index is None:
                return None
            for _ in range(index + 1):
                done = queue.popleft()
                self.states_committed += 1
                for key, (records, size) in done.marks.items():
                    committed = self.committed.setdefault(key, [0, 0])
                    committed[0] = max(committed[0], records)
                    committed[1] = max(committed[1], size)
            self.connection.apply(done.state)
            return self.connection.messages()

    def held_count(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._held.values())

    def commit_all(self) -> None:
        """Both connectors succeeded: everything emitted was written."""
        with self._lock:
            for key, counts in self.emitted.items():
                self.committed[key] = [counts[0], counts[1]]

    def totals(self) -> tuple[int, int, int, int]:
        emitted = list(self.emitted.values())
        with self._lock:
            committed = list(self.committed.values())
        return (
            sum(c[0] for c in emitted),
            sum(c[1] for c in emitted),
            sum(c[0] for c in committed),
            sum(c[1] for c in committed),
        )

    def stream_stats(self, configured: list[StreamKey]) -> list[StreamStats]:
        """Airbyte's AttemptStreamStats for every configured stream and any other seen."""
        keys = list(configured) + [k for k in list(self.emitted) if k not in configured]
        with self._lock:
            committed = {k: list(v) for k, v in self.committed.items()}
        stats = []
        for key in keys:
            emitted = self.emitted.get(key, [0, 0])
            done = committed.get(key, [0, 0])
            counters = AttemptStats(
                records_emitted=emitted[0],
                bytes_emitted=emitted[1],
                records_committed=done[0],
                bytes_committed=done[1],
                state_messages_emitted=self.state_counts.get(key, 0),
            )
            stats.append(StreamStats(stream_name=key[0], stream_namespace=key[1], stats=counters))
        return stats
