"""Schedules: the rules every face follows when a connection's schedule is set or a cron
expression is described.

- A cron schedule must be a valid expression in a known zone (a zone left out is UTC) and fire
  again after now; a refused one names `<prefix>cronExpression` or `<prefix>cronTimeZone`.
- One schedule comes from the modern fields (`scheduleType`, `scheduleData`), the 2020
  `schedule`, and on update the stored data: with no type, the fields given decide (cron, basic,
  else manual).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.core.errors import InvalidInput
from server.models.connections import (
    BasicSchedule,
    ConnectionSchedule,
    ConnectionScheduleData,
    ConnectionScheduleType,
)
from server.scheduling.schedules import (
    CronError,
    CronSpec,
    describe_cron,
    epoch,
    next_fires,
    validate_cron,
)

NEXT_EXECUTIONS = 3  # as many as Airbyte lists


def checked_cron(
    expression: str, time_zone: str | None, now: datetime, prefix: str = ""
) -> CronSpec:
    """A cron schedule being set (connections or the describer: one rule for both), or
    InvalidInput naming `<prefix>cronExpression` or `<prefix>cronTimeZone`."""
    try:
        return validate_cron(expression, time_zone, now)
    except CronError as exc:
        field, value = (
            ("cronExpression", expression)
            if exc.part == "expression"
            else ("cronTimeZone", time_zone)
        )
        raise InvalidInput(str(exc), property_path=prefix + field, invalid_value=value) from None


class CronDescription(msgspec.Struct, frozen=True):
    """A cron expression in words and its next fire times (epoch seconds)."""

    description: str
    next_executions: list[int]


def describe_cron_expression(
    expression: str, time_zone: str | None, now: datetime
) -> CronDescription:
    spec = checked_cron(expression, time_zone, now)
    fires = next_fires(spec, now, NEXT_EXECUTIONS)
    return CronDescription(describe_cron(spec), [epoch(moment) for moment in fires])


def resolve_schedule(
    schedule_type: ConnectionScheduleType | None,
    data: ConnectionScheduleData | None,
    legacy: ConnectionSchedule | None,
    now: datetime,
    fallback: ConnectionScheduleData | None = None,
) -> tuple[ConnectionScheduleType, ConnectionScheduleData | None]:
    """One schedule from the modern fields, the 2020 `schedule`, and (on update) the stored
    data `fallback`. A cron schedule must fire again after `now`."""
    if schedule_type is None:
        if data is not None and data.cron is not None:
            schedule_type = "cron"
        elif (data is not None and data.basic_schedule is not None) or legacy is not None:
            schedule_type = "basic"
        else:
            schedule_type = "manual"
    if schedule_type == "manual":
        return "manual", None
    if schedule_type == "basic":
        basic = data.basic_schedule if data is not None else None
        if basic is None and legacy is not None:
            basic = BasicSchedule(time_unit=legacy.time_unit, units=legacy.units)
        if basic is None and fallback is not None:
            basic = fallback.basic_schedule
        if basic is None:
            raise InvalidInput(
                "scheduleType 'basic' needs scheduleData.basicSchedule (or schedule)",
                property_path="scheduleData.basicSchedule",
            )
        return "basic", ConnectionScheduleData(basic_schedule=basic)
    cron = data.cron if data is not None else None
    if cron is None and fallback is not None:
        cron = fallback.cron
    if cron is None:
        raise InvalidInput(
            "scheduleType 'cron' needs scheduleData.cron", property_path="scheduleData.cron"
        )
    checked_cron(cron.cron_expression, cron.cron_time_zone, now, "scheduleData.cron.")
    return "cron", ConnectionScheduleData(cron=cron)
