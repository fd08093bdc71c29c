"""Connection schedules: checking cron expressions (and, later, computing when syncs are due)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from croniter import croniter


class CronError(ValueError):
    """A cron schedule that cannot run; `part` says which half of it is wrong."""

    def __init__(self, part: Literal["expression", "time_zone"], message: str) -> None:
        super().__init__(message)
        self.part = part


def validate_cron(expression: str, time_zone: str) -> None:
    """Raise CronError unless `expression` is a cron expression Sluice can schedule and
    `time_zone` an IANA zone. Accepted: 5-field Unix cron (`*/15 * * * *`) and Airbyte's
    6/7-field Quartz cron, seconds first, `?` allowed, optional year (`0 0 12 * * ?`)."""
    try:
        ZoneInfo(time_zone)
    except (ValueError, KeyError, OSError):
        raise CronError("time_zone", f"Unknown time zone: {time_zone!r}") from None
    fields = expression.split()
    if len(fields) == 5:
        valid = croniter.is_valid(expression)
    elif len(fields) in (6, 7):
        valid = croniter.is_valid(expression, second_at_beginning=True)
    else:
        valid = False
    if not valid:
        raise CronError(
            "expression",
            f"Invalid cron expression: {expression!r} (expected 5 fields, or 6-7 Quartz fields"
            " with seconds first)",
        )
