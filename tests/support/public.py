"""Shared pieces of the public-API tests (`/api/public/v1`)."""

from __future__ import annotations

from typing import Any

import httpx

API = "/api/public/v1"


def assert_problem(response: httpx.Response, status: int, title: str) -> dict[str, Any]:
    """`response` is the public API's problem JSON for `status`, with Airbyte's `title`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] == title
    assert body["type"] == f"https://reference.airbyte.com/reference/errors#{title}"
    assert isinstance(body["detail"], str) and body["detail"]
    return body
