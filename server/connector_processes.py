"""Moved to `server.runner.processes`; this name stays until its last importers move."""

from server.runner.processes import (
    AttemptRunners,
    kill_process_groups,
    process_identity,
    remove_leftover_runs,
)

__all__ = ["AttemptRunners", "kill_process_groups", "process_identity", "remove_leftover_runs"]
