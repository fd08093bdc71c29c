"""One sync attempt: source stdout -> destination stdin, with state checkpoints and stats."""

from __future__ import annotations

from server.sync.plan import AttemptPlan, AttemptProgress, AttemptResult
from server.sync.relay import run_attempt

__all__ = ["AttemptPlan", "AttemptProgress", "AttemptResult", "run_attempt"]
