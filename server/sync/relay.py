"""The relay (being written)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from server.runner import Runners
from server.settings import Settings
from server.sync.plan import AttemptPlan, AttemptProgress, AttemptResult


def run_attempt(
    plan: AttemptPlan,
    runners: Runners,
    settings: Settings,
    commit_state: Callable[[list[dict[str, Any]]], None],
    report_progress: Callable[[AttemptProgress], None],
    cancel: threading.Event,
) -> AttemptResult:
    raise NotImplementedError
