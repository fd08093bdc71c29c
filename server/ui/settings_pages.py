"""Settings: applications (client id and secret for Bearer tokens) and API keys; list, create,
delete an application, revoke a key. The instance admin's only.

A new application's secret and a new key are shown once, in the reply to the form that made
them (rendered there, never redirected: nothing else holds them, they are stored hashed);
every later page shows only the client id or the key's prefix. The calls are those the
Configuration API's applications and api_keys handlers make (server.auth.credentials).
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.auth import credentials
from server.ui import frame
from server.ui.actors import when

MAX_NAME = 256  # as the API's ApplicationCreate and ApiKeyCreate
MAX_DAYS = 3650


def _admin_only(request: Request) -> None:
    if frame.principal(request).kind != "admin":
        raise frame.PageError(403, "Only the instance admin can see and change settings.")


def _state(revoked_at: int | None, expires_at: int | None, now: int) -> str:
    if revoked_at is not None:
        return "revoked"
    return "expired" if expires_at is not None and expires_at <= now else "active"


async def _values(request: Request) -> dict[str, Any]:
    ctx = frame.context(request)
    applications = await ctx.store.read(credentials.list_applications)
    keys = await ctx.store.read(credentials.list_api_keys)
    now = ctx.now()
    return {
        "applications": [
            {"id": a.id, "name": a.name, "client_id": a.client_id, "created": when(a.created_at)}
            for a in applications
        ],
        "keys": [
            {
                "id": k.api_key_id,
                "name": k.name,
                "prefix": k.prefix,
                "created": when(k.created_at),
                "expires": when(k.expires_at),
                "last_used": when(k.last_used_at),
                "state": _state(k.revoked_at, k.expires_at, now),
            }
            for k in keys
        ],
        "created_application": None,
        "created_key": None,
        "errors": {},
    }


def _name(data: Any, errors: dict[str, str], field: str) -> str:
    name = frame.field(data, "name").strip()
    if not name:
        errors[field] = "This field is required."
    elif len(name) > MAX_NAME:
        errors[field] = f"At most {MAX_NAME} characters."
    return name


async def settings_page(request: Request) -> Response:
    _admin_only(request)
    return frame.page(request, "settings/index.html", await _values(request))


async def application_create(request: Request) -> Response:
    _admin_only(request)
    ctx = frame.context(request)
    data = await frame.form(request)
    errors: dict[str, str] = {}
    name = _name(data, errors, "application")
    if errors:
        values = {**await _values(request), "errors": errors}
        return frame.page(request, "settings/index.html", values, status=422)
    made = await ctx.store.write(credentials.create_application, name, None, ctx.now())
    values = {**await _values(request), "created_application": made}
    return frame.page(request, "settings/index.html", values)


async def application_delete(request: Request) -> Response:
    _admin_only(request)
    ctx = frame.context(request)
    await frame.form(request)
    await ctx.store.write(credentials.delete_application, _id(request, "application_id"))
    return frame.back(request, "/settings", "Deleted the application; its tokens stop working.")


async def key_create(request: Request) -> Response:
    _admin_only(request)
    ctx = frame.context(request)
    data = await frame.form(request)
    errors: dict[str, str] = {}
    name = _name(data, errors, "key")
    days_text = frame.field(data, "days").strip()
    expires_at = None
    if days_text:
        if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
            errors["days"] = f"A whole number of days, 1 to {MAX_DAYS}."
        else:
            expires_at = ctx.now() + int(days_text) * 86400
    if errors:
        values = {**await _values(request), "errors": errors}
        return frame.page(request, "settings/index.html", values, status=422)
    made = await ctx.store.write(credentials.create_api_key, name, None, expires_at, ctx.now())
    values = {**await _values(request), "created_key": made}
    return frame.page(request, "settings/index.html", values)


async def key_revoke(request: Request) -> Response:
    _admin_only(request)
    ctx = frame.context(request)
    await frame.form(request)
    await ctx.store.write(credentials.revoke_api_key, _id(request, "api_key_id"), ctx.now())
    return frame.back(request, "/settings", "Revoked the API key: it no longer works.", "ok")


def _id(request: Request, name: str) -> str:
    try:
        return str(uuid.UUID(request.path_params[name]))
    except ValueError:
        raise frame.PageError(404, "There is no such item.") from None


ROUTES: list[Route] = [
    frame.route("/settings", settings_page),
    frame.route("/settings/applications", application_create, methods=["POST"]),
    frame.route(
        "/settings/applications/{application_id:str}/delete", application_delete, methods=["POST"]
    ),
    frame.route("/settings/keys", key_create, methods=["POST"]),
    frame.route("/settings/keys/{api_key_id:str}/revoke", key_revoke, methods=["POST"]),
]
