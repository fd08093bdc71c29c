"""The UI's forms through the in-process app: a signed-in client that carries its cookies and
the CSRF token of the last page it got, and keeps every page for "no secret in any page"."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.conftest import ADMIN_AUTH, running


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


class Ui:
    """A signed-in browser, as far as forms go: cookies, the CSRF token of the last page."""

    def __init__(self, client: httpx.AsyncClient, api: httpx.AsyncClient) -> None:
        self.client = client
        self.api = api
        self.token = ""
        self.pages: list[str] = []

    async def get(self, path: str, status: int = 200) -> str:
        r = await self.client.get(path)
        assert r.status_code == status, f"{path}: {r.status_code} {r.text[:500]}"
        self.pages.append(r.text)
        if 'name="csrf_token"' in r.text:
            self.token = csrf(r.text)
        return r.text

    async def post(self, path: str, fields: dict[str, Any], status: int = 200) -> httpx.Response:
        r = await self.client.post(path, data={"csrf_token": self.token, **fields})
        assert r.status_code == status, f"{path}: {r.status_code} {r.text[:2000]}"
        self.pages.append(r.text)
        if 'name="csrf_token"' in r.text:
            self.token = csrf(r.text)
        return r


@contextlib.asynccontextmanager
async def signed_in_ui(app: Starlette) -> AsyncIterator[Ui]:
    """The app running, an API client (`ui.api`, Basic auth) and a signed-in UI client."""
    async with running(app) as api:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            signed = Ui(c, api)
            await signed.get("/login")
            user, password = ADMIN_AUTH
            await signed.post("/login", {"username": user, "password": password}, status=303)
            yield signed
