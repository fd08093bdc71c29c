"""The web UI through HTTP, as a browser uses it: a client without API credentials that keeps
cookies, signing in through the form, and reading the CSRF token out of a page."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextlib.asynccontextmanager
async def browser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client of the app (its lifespan already running), with no credential."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        yield c


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, username: str = "airbyte", password: str = "password"
) -> httpx.Response:
    form = await client.get("/login")
    assert form.status_code == 200, form.text
    return await client.post(
        "/login",
        data={
            "csrf_token": csrf_of(form),
            "username": username,
            "password": password,
            "next": "/connections",
        },
    )


async def submit(
    client: httpx.AsyncClient, page: str, action: str, fields: dict[str, str] | None = None
) -> httpx.Response:
    """Post a form of `page` (its CSRF token) to `action`, as pressing its button does."""
    shown = await client.get(page)
    assert shown.status_code == 200, shown.text
    return await client.post(action, data={"csrf_token": csrf_of(shown), **(fields or {})})
