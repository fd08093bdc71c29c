"""Schedules: cron expressions (`cron`), a connection's schedule and when it is due
(`schedules`, pure functions), and the loop that starts scheduled syncs (`loop.Scheduler`)."""

from server.scheduling.loop import Scheduler

__all__ = ["Scheduler"]
