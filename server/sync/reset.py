"""A reset is a sync from an empty source: the destination gets its streams to reset in
full_refresh/overwrite, no record, and a state per stream that clears it (as Airbyte's
EmptyAirbyteSource sends); the destination echoes those states and they are committed."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import msgspec

from server.runner.base import RunningConnector
from server.sync.catalog import StreamKey
from server.sync.checkpoints import Checkpoints, hold_state
from server.sync.states import StateInput, reset_states


def send_reset_states(
    destination: RunningConnector,
    checkpoints: Checkpoints,
    input_state: Sequence[StateInput],
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
