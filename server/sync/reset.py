"""A reset is a sync from an empty source: the destination gets its streams to reset in
full_refresh/overwrite, no record, and a state per stream that clears it (as Airbyte's
EmptyAirbyteSource sends); the destination echoes those states and they are committed."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec

from server.runner.base import RunningConnector
from server.sync.catalog import StreamKey
from server.sync.checkpoints import Checkpoints, ConnectionState
from server.sync.pump import hold_state


def reset_states(
    input_state: list[dict[str, Any]], streams: list[StreamKey]
) -> list[dict[str, Any]]:
    """The states that say `streams` start over, in the shape the connection's state has."""
    current = ConnectionState(input_state)
    if current.kind == "LEGACY":
        return [{"type": "LEGACY", "data": {}}]  # one blob: it can only start over whole
    if current.kind == "GLOBAL" and current.whole is not None:
        whole = current.whole.get("global") or {}
        kept = []
        for stream in whole.get("stream_states") or []:
            descriptor = stream.get("stream_descriptor") or {}
            if (descriptor.get("name"), descriptor.get("namespace")) not in streams:
                kept.append(stream)
        global_: dict[str, Any] = {"stream_states": kept}
        if kept and whole.get("shared_state") is not None:
            global_["shared_state"] = whole["shared_state"]
        return [{"type": "GLOBAL", "global": global_}]
    states = []
    for name, namespace in streams:
        descriptor = {"name": name}
        if namespace is not None:
            descriptor["namespace"] = namespace
        states.append({"type": "STREAM", "stream": {"stream_descriptor": descriptor}})
    return states


def send_reset_states(
    destination: RunningConnector,
    checkpoints: Checkpoints,
    input_state: list[dict[str, Any]],
    streams: list[StreamKey],
) -> None:
    """Write the reset's states to the destination (held, to commit once echoed), then EOF."""
    assert destination.stdin is not None
    lines = []
    for state in reset_states(input_state, streams):
        renamed = hold_state(checkpoints, state)
        lines.append(renamed or msgspec.json.encode({"type": "STATE", "state": state}))
    try:
        destination.stdin.write(b"".join(line + b"\n" for line in lines))
        destination.stdin.flush()
    except (OSError, ValueError):
        pass  # the destination's exit code and log say why
    finally:
        with contextlib.suppress(OSError, ValueError):
            destination.stdin.close()
