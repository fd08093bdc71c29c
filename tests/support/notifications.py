"""What the notification tests share: fast settings, setting a workspace's notifications,
checking a webhook's signature as a receiver does, and reading the delivery records."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx

from tests.connector_fixtures import CONNECTOR_PATH
from tests.support.api_jobs import fast_settings, ok, workspace_id
from tests.support.receiver import Received

SECRET = "shh-its-a-secret"


def settings_for(tmp_path: Path, **overrides: Any) -> Any:
    return fast_settings(
        tmp_path,
        connector_path=CONNECTOR_PATH,
        scheduler_tick_seconds=0,
        notification_poll_seconds=0.1,
        notification_retry_backoff_seconds=0.0,
        **overrides,
    )


def verified(got: Received, secret: str = SECRET) -> dict[str, Any]:
    """The payload, after checking its signature as a receiver does."""
    expected = "sha256=" + hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["X-Sluice-Signature"], expected)
    payload: dict[str, Any] = json.loads(got.body)
    return payload


async def set_notifications(client: httpx.AsyncClient, settings: dict[str, Any]) -> dict[str, Any]:
    body = {"workspaceId": await workspace_id(client), "notificationSettings": settings}
    return await ok(client, "workspaces/update", body)


async def deliveries(client: httpx.AsyncClient, **body: Any) -> list[dict[str, Any]]:
    if not body:
        body = {"workspaceId": await workspace_id(client)}
    found: list[dict[str, Any]] = (await ok(client, "notifications/list", body))["notifications"]
    return found
