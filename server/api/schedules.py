"""Schedule helpers of the web app: describing a cron expression and its next runs (the rule is
the core's, `server.core.schedules`: the same one a connection's cron schedule follows)."""

from __future__ import annotations

from datetime import UTC, datetime

from server.context import Context
from server.core import schedules
from server.models.schedules import (
    WebBackendCronExpressionDescription,
    WebBackendDescribeCronExpressionRequestBody,
)


async def web_backend_describe_cron_expression(
    body: WebBackendDescribeCronExpressionRequestBody, ctx: Context
) -> WebBackendCronExpressionDescription:
    now = datetime.fromtimestamp(ctx.clock(), UTC)
    described = schedules.describe_cron_expression(body.cron_expression, body.cron_time_zone, now)
    return WebBackendCronExpressionDescription(
        cron_expression=body.cron_expression,
        description=described.description,
        next_executions=described.next_executions,
    )


handlers = [web_backend_describe_cron_expression]
