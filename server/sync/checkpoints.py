"""Counting records and committing state only once the destination has echoed it.

The source's STATE messages are held in order, each with the record counts reached when it
was emitted. When the destination emits a STATE back (it does so once everything before it
is durably written), the held states up to the matching one are done: their counts become
committed and the connection's full state is recomputed for the store. States match on the
canonical encoding of what identifies them, as Airbyte's StreamStatsTracker hashes them: the
stream descriptor and `stream_state` for STREAM, `global` for GLOBAL, `data` for LEGACY.
Those rules, and how states add up to the connection's, are server.sync.states'; this module
keeps the books.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from server.jobs.attempts import AttemptStats, StreamStats
from server.protocol import AirbyteStateMessage
from server.sync.catalog import Namespacing, StreamKey
from server.sync.states import (
    ConnectionState,
    StateInput,
    StateList,
    as_state,
    identity,
    key_of,
    kind_of,
    state_line,
)

GLOBAL_SCOPE = ("", None)  # the queue key of GLOBAL and LEGACY states


@dataclass
class Held:
    """A source state sent to the destination and not yet echoed."""

    match: bytes  # canonical identity, as the destination will echo it
    state: AirbyteStateMessage  # the source's state message (source names)
    marks: dict[StreamKey, tuple[int, int]]  # cumulative (records, bytes) it covers


class Checkpoints:
    """Counters (written by the source pump) and held states (shared with the destination
    reader, under a lock). Counters are lists so the hot loop updates them in place."""

    def __init__(self, initial: Iterable[StateInput], namespacing: Namespacing) -> None:
        self.namespacing = namespacing
        self.emitted: dict[StreamKey, list[int]] = {}  # stream -> [records, bytes]
        # What the streams' row filters dropped (the mapper counts them here): emitted, never
        # sent, so never committed.
        self.filtered: dict[StreamKey, list[int]] = {}
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

    def _sent(self, key: StreamKey, emitted: list[int]) -> tuple[int, int]:
        """(records, bytes) of `key` sent to the destination so far: emitted, less filtered."""
        dropped = self.filtered.get(key)
        if dropped is None:
            return emitted[0], emitted[1]
        return emitted[0] - dropped[0], emitted[1] - dropped[1]

    def hold(self, state: StateInput) -> StreamKey | None:
        """Register a source state about to be sent. Returns the destination's name of its
        stream for a STREAM state (so the caller can rename it), else None."""
        message = as_state(state, strict=True)
        self.states_emitted += 1
        if message.stream is not None and kind_of(message) == "STREAM":
            source_key = key_of(message.stream)
            target = self.namespacing.map(*source_key)
            marks = {source_key: self._sent(source_key, self.emitted.get(source_key, [0, 0]))}
            self.state_counts[source_key] = self.state_counts.get(source_key, 0) + 1
            queue_key = target
        else:
            marks = {key: self._sent(key, c) for key, c in self.emitted.items()}
            target, queue_key = None, GLOBAL_SCOPE
        held = Held(identity(message), message, marks)
        with self._lock:
            self._held.setdefault(queue_key, deque()).append(held)
        return target

    def echoed(self, state: StateInput) -> StateList | None:
        """The destination emitted `state`: returns the new full connection state to commit,
        in the form the store keeps, or None if no held state matches (never sent, or already
        committed)."""
        message = as_state(state, strict=True)
        name = (
            key_of(message.stream)
            if message.stream is not None and kind_of(message) == "STREAM"
            else None
        )
        match = identity(message)
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
            return self.connection.stored()

    def held_count(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._held.values())

    def commit_all(self) -> None:
        """Both connectors succeeded: everything emitted was written."""
        with self._lock:
            for key, counts in self.emitted.items():
                self.committed[key] = list(self._sent(key, counts))

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


def hold_state(checkpoints: Checkpoints, state: StateInput) -> bytes | None:
    """Hold a state about to be sent; returns its line for the destination if the stream must
    be renamed there, else None (send it as it is)."""
    message = as_state(state, strict=True)
    target = checkpoints.hold(message)
    stream = message.stream
    if target is None or stream is None or target == key_of(stream):
        return None
    descriptor = msgspec.structs.replace(
        stream.stream_descriptor, name=target[0], namespace=target[1]
    )
    renamed = msgspec.structs.replace(stream, stream_descriptor=descriptor)
    return state_line(msgspec.structs.replace(message, stream=renamed))
