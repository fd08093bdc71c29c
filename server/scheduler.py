"""Moved to `server.scheduling`; this name stays until its last importers move."""

from server.scheduling.loop import Scheduler

__all__ = ["Scheduler"]
