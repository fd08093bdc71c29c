"""Schedule helpers of the web app: describing a cron expression and its next runs."""

from __future__ import annotations

from datetime import UTC, datetime

from server.context import Context
from server.errors import InvalidInput
from server.models.schedules import (
    WebBackendCronExpressionDescription,
    WebBackendDescribeCronExpressionRequestBody,
)
from server.schedules import CronError, describe_cron, epoch, next_fires, validate_cron

NEXT_EXECUTIONS = 3  # as many as Airbyte lists


async def web_backend_describe_cron_expression(
    body: WebBackendDescribeCronExpressionRequestBody, ctx: Context
) -> WebBackendCronExpressionDescription:
    try:
        spec = validate_cron(body.cron_expression, body.cron_time_zone or "UTC")
    except CronError as exc:
        field, value = (
            ("cronExpression", body.cron_expression)
            if exc.part == "expression"
            else ("cronTimeZone", body.cron_time_zone)
        )
        raise InvalidInput(str(exc), property_path=field, invalid_value=value) from None
    now = datetime.fromtimestamp(ctx.clock(), UTC)
    return WebBackendCronExpressionDescription(
        cron_expression=body.cron_expression,
        description=describe_cron(spec),
        next_executions=[epoch(moment) for moment in next_fires(spec, now, NEXT_EXECUTIONS)],
    )


handlers = [web_backend_describe_cron_expression]
