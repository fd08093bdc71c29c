"""Sources and destinations: lists, and create and edit with forms drawn from the connector's
spec (server.ui.spec_form), with "Test the connection" before saving.

Every page goes through the core as the API does: the spec from the definition's
specification, the check as `sources/check_connection(_for_update)` runs it, create and update
with the core's validation (its refusals shown next to their fields). A configuration reaches
the page masked (the core masks what it hands out), and a secret input is never filled in, so
no secret value is in any page; a blank secret on edit sends the mask back and the core keeps
the stored value.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.core.actor_list import list_actor_summaries
from server.core.errors import ConnectorUnavailable, InvalidInput
from server.models.checks import CheckConnectionRead
from server.protocol import ConnectorSpecification
from server.ui import frame
from server.ui.actor_kinds import (
    DESTINATIONS,
    SOURCES,
    Actor,
    ActorKind,
    Definition,
    default_workspace,
    definition_id,
)
from server.ui.spec_form import Field, Posted, build
from server.ui.spec_values import attach, errors_from, parse, problems

PAGE_SIZE = 50


def when(epoch: int | None) -> str:
    return "" if not epoch else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise frame.PageError(404, "There is no such page.") from None


def posted_fields(data: FormData) -> Posted:
    """The form's text fields, each with every value sent (a file input sends none here)."""
    return {k: [v for v in data.getlist(k) if isinstance(v, str)] for k in data}


@dataclass
class FormPage:
    """What actors/form.html shows."""

    kind: ActorKind
    definition: Definition
    fields: list[Field]
    name: str = ""
    actor: Actor | None = None
    loose: list[str] = field(default_factory=list)  # problems that name no field
    name_error: str | None = None
    check: CheckConnectionRead | None = None
    documentation_url: str | None = None

    @property
    def action(self) -> str:
        if self.actor is None:
            return f"{self.kind.base}/new"
        return f"{self.kind.base}/{self.kind.id_of(self.actor)}"

    @property
    def has_errors(self) -> bool:
        def any_error(fields: list[Field]) -> bool:
            return any(
                f.error or any_error(f.children) or any(any_error(c.fields) for c in f.choices)
                for f in fields
            )

        return self.name_error is not None or any_error(self.fields)

    def values(self) -> dict[str, Any]:
        return {"form": self, "kind": self.kind, "definition_id": definition_id(self.definition)}


async def _schema(request: Request, kind: ActorKind, definition: Definition) -> tuple[Any, Any]:
    """The definition's connection specification and its documentation URL."""
    spec = await kind.spec(frame.context(request), definition_id(definition))
    return spec.connection_specification, spec.documentation_url


def _render(request: Request, page: FormPage, status: int = 200) -> Response:
    return frame.page(request, "actors/form.html", page.values(), status=status)


async def _submit(
    request: Request, kind: ActorKind, definition: Definition, actor: Actor | None
) -> Response:
    """A posted form: shown again with what is wrong, or the check's result; else saved."""
    ctx = frame.context(request)
    data = await frame.form(request)
    posted = posted_fields(data)
    schema, docs = await _schema(request, kind, definition)
    previous = actor.connection_configuration if actor is not None else None
    fields = build(schema, previous, posted, editing=actor is not None)
    configuration, unreadable = parse(fields, posted, previous)
    name = frame.field(data, "name").strip()
    page = FormPage(kind, definition, fields, name, actor, documentation_url=docs)
    if unreadable:
        errors_from(fields, unreadable)
        return _render(request, page, 422)
    refused = problems(
        ConnectorSpecification(connectionSpecification=schema), configuration, fields
    )
    if refused:
        page.loose = attach(fields, refused)
        return _render(request, page, 422)
    if frame.field(data, "action") == "check":
        if actor is None:
            page.check = await kind.check_new(ctx, definition_id(definition), configuration)
        else:
            page.check = await kind.check_update(ctx, kind.id_of(actor), configuration)
        return _render(request, page)
    if not name:
        page.name_error = "This field is required."
        return _render(request, page, 422)
    try:
        if actor is None:
            workspace = await default_workspace(ctx)
            saved = await kind.create(
                ctx, workspace, definition_id(definition), name, configuration
            )
        else:
            saved = await kind.update(ctx, kind.id_of(actor), name, configuration)
    except InvalidInput as exc:
        page.loose = attach(fields, exc.errors) if exc.errors else [exc.message]
        return _render(request, page, 422)
    except ConnectorUnavailable as exc:
        page.loose = [exc.message]
        return _render(request, page, 422)
    return frame.back(
        request, f"{kind.base}/{kind.id_of(saved)}", f"Saved {kind.noun} “{name}”.", "ok"
    )


def routes_for(kind: ActorKind) -> list[Route]:
    async def listing(request: Request) -> Response:
        ctx = frame.context(request)
        name = request.query_params.get("name", "").strip()
        number = request.query_params.get("page", "1")
        page = int(number) if number.isdigit() and 0 < int(number) < 1_000_000 else 1
        found = await list_actor_summaries(
            ctx, kind.noun, await default_workspace(ctx), name, PAGE_SIZE, (page - 1) * PAGE_SIZE
        )
        rows = [
            {"id": a.id, "name": a.name, "connector": a.connector, "created": when(a.created_at)}
            for a in found.rows
        ]
        pages = max(1, -(-found.total // PAGE_SIZE))

        def link(to: int) -> str:
            query = urlencode({k: v for k, v in (("name", name), ("page", to)) if v})
            return f"{kind.base}?{query}" if query else kind.base

        values = {
            "kind": kind,
            "rows": rows,
            "name": name,
            "total": found.total,
            "first": (page - 1) * PAGE_SIZE + 1,
            "previous": link(page - 1) if page > 1 else None,
            "next": link(page + 1) if page < pages else None,
        }
        return frame.page(request, "actors/list.html", values)

    async def new(request: Request) -> Response:
        ctx = frame.context(request)
        chosen = request.query_params.get("definition")
        if not chosen:
            found = sorted(await kind.definitions(ctx), key=lambda d: d.name.lower())
            picks = [{"id": definition_id(d), "d": d} for d in found]
            return frame.page(request, "actors/pick.html", {"kind": kind, "picks": picks})
        definition = await kind.definition(ctx, _uuid(chosen))
        schema, docs = await _schema(request, kind, definition)
        page = FormPage(kind, definition, build(schema), definition.name, documentation_url=docs)
        return _render(request, page)

    async def create(request: Request) -> Response:
        data = await frame.form(request)
        definition = await kind.definition(
            frame.context(request), _uuid(frame.field(data, "definition"))
        )
        return await _submit(request, kind, definition, None)

    async def edit(request: Request) -> Response:
        ctx = frame.context(request)
        actor = await kind.get(ctx, _uuid(request.path_params["actor_id"]))
        definition = await kind.definition(ctx, kind.definition_id_of(actor))
        schema, docs = await _schema(request, kind, definition)
        fields = build(schema, actor.connection_configuration, editing=True)
        page = FormPage(kind, definition, fields, actor.name, actor, documentation_url=docs)
        return _render(request, page)

    async def save(request: Request) -> Response:
        ctx = frame.context(request)
        actor = await kind.get(ctx, _uuid(request.path_params["actor_id"]))
        definition = await kind.definition(ctx, kind.definition_id_of(actor))
        return await _submit(request, kind, definition, actor)

    async def remove(request: Request) -> Response:
        ctx = frame.context(request)
        await frame.form(request)
        actor = await kind.get(ctx, _uuid(request.path_params["actor_id"]))
        await kind.delete(ctx, kind.id_of(actor))
        return frame.back(request, kind.base, f"Deleted {kind.noun} “{actor.name}”.", "ok")

    for handler in (listing, new, create, edit, save, remove):
        handler.__name__ = f"{kind.plural}_{handler.__name__}"
    one = kind.base + "/{actor_id}"
    return [
        frame.route(kind.base, listing),
        frame.route(f"{kind.base}/new", new),
        frame.route(f"{kind.base}/new", create, methods=["POST"]),
        frame.route(one, edit),
        frame.route(one, save, methods=["POST"]),
        frame.route(one + "/delete", remove, methods=["POST"]),
    ]


ROUTES: list[Route] = [*routes_for(SOURCES), *routes_for(DESTINATIONS)]
