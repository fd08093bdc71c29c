"""Schedule helpers of the web app: describing a cron expression and its next runs."""

from __future__ import annotations

from datetime import UTC, datetime

from server.context import Context
from server.errors import InvalidInput
from server.models.schedules import (
    WebBackendCronExpressionDescription,
    WebBackendDescribeCronExpressionRequestBody,
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
    """A cron schedule being set (connections or the describer: one rule for both), or a 422
    naming `<prefix>cronExpression` or `<prefix>cronTimeZone`. A zone left out is UTC."""
    try:
        return validate_cron(expression, time_zone, now)
    except CronError as exc:
        field, value = (
            ("cronExpression", expression)
            if exc.part == "expression"
            else ("cronTimeZone", time_zone)
        )
        raise InvalidInput(str(exc), property_path=prefix + field, invalid_value=value) from None


async def web_backend_describe_cron_expression(
    body: WebBackendDescribeCronExpressionRequestBody, ctx: Context
) -> WebBackendCronExpressionDescription:
    now = datetime.fromtimestamp(ctx.clock(), UTC)
    spec = checked_cron(body.cron_expression, body.cron_time_zone, now)
    return WebBackendCronExpressionDescription(
        cron_expression=body.cron_expression,
        description=describe_cron(spec),
        next_executions=[epoch(moment) for moment in next_fires(spec, now, NEXT_EXECUTIONS)],
    )


handlers = [web_backend_describe_cron_expression]
