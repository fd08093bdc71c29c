"""Connector definitions: list, add a Docker image or a local program (within the allow-lists
of what a definition may run), switch one with a program between the two, and delete a custom
one.

What a definition may run is the core's rule (server.core.definitions.refuse_unrunnable over
server.runner.allowed): a refused image or program comes back as the core's message, shown
beside the field it names, and nothing is stored.
"""

from __future__ import annotations

import shlex
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.core import definitions as core
from server.core.errors import InvalidInput
from server.models.definitions import RunnerKind
from server.ui import frame
from server.ui.actor_kinds import definition_id

# Where the form's fields are in the core's refusals (`property_path`, the wire names).
_FIELDS = {"command": "command", "dockerRepository": "repository"}
DOCS = "https://docs.airbyte.com/integrations"


def _row(kind: str, d: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": definition_id(d),
        "name": d.name,
        "image": f"{d.docker_repository}:{d.docker_image_tag}",
        "runner": d.runner,
        "command": shlex.join(d.command) if d.command else "",
        "custom": d.custom,
    }


async def _values(request: Request) -> dict[str, Any]:
    ctx = frame.context(request)
    rows = [_row("source", d) for d in await core.list_source_definitions(ctx)]
    rows += [_row("destination", d) for d in await core.list_destination_definitions(ctx)]
    rows.sort(key=lambda r: (r["kind"] != "source", r["name"].lower()))
    blank = {"kind": "source", "runner": "docker", "name": "", "repository": "", "tag": ""}
    return {"rows": rows, "sent": {**blank, "command": "", "docs": ""}, "errors": {}}


async def definition_list(request: Request) -> Response:
    return frame.page(request, "definitions/list.html", await _values(request))


def _new(sent: dict[str, str], errors: dict[str, str]) -> core.NewDefinition | None:
    """The definition the form describes, or None with `errors` set per field."""
    runner: RunnerKind = "process" if sent["runner"] == "process" else "docker"
    try:
        command = shlex.split(sent["command"])
    except ValueError as exc:
        errors["command"] = f"The command does not parse: {exc}."
        return None
    repository, tag = sent["repository"].strip(), sent["tag"].strip()
    if runner == "process" and command and not repository:
        repository = f"local/{command[0]}"  # a local program needs no image: a name for it
    if runner == "process" and not tag:
        tag = "local"
    for key, value in (("name", sent["name"].strip()), ("repository", repository), ("tag", tag)):
        if not value:
            errors[key] = "This field is required."
    if runner == "process" and not command:
        errors["command"] = "A local program needs its command (the program's name first)."
    if errors:
        return None
    return core.NewDefinition(
        name=sent["name"].strip(),
        docker_repository=repository,
        docker_image_tag=tag,
        documentation_url=sent["docs"].strip() or DOCS,
        runner=runner,
        command=command or None,
    )


async def definition_create(request: Request) -> Response:
    ctx = frame.context(request)
    data = await frame.form(request)
    keys = ("kind", "runner", "name", "repository", "tag", "command", "docs")
    sent = {k: frame.field(data, k) for k in keys}
    errors: dict[str, str] = {}
    new = _new(sent, errors)
    if new is not None:
        try:
            if sent["kind"] == "destination":
                made: Any = await core.create_destination_definition(ctx, new)
            else:
                made = await core.create_source_definition(ctx, new)
        except InvalidInput as exc:
            for problem in exc.errors:
                errors[_FIELDS.get(problem.property_path, "name")] = problem.message or exc.message
            if not exc.errors:
                errors["name"] = exc.message
        else:
            text = f"Added {sent['kind']} connector “{made.name}”."
            return frame.back(request, "/definitions", text, "ok")
    values = {**await _values(request), "sent": sent, "errors": errors}
    return frame.page(request, "definitions/list.html", values, status=422)


def _target(request: Request) -> tuple[str, uuid.UUID]:
    """The kind ("source" or "destination") and id a definition's path names (404 page else)."""
    kind = request.path_params["kind"]
    try:
        found = uuid.UUID(request.path_params["definition_id"])
    except ValueError:
        raise frame.PageError(404, "There is no such definition.") from None
    if kind not in ("source", "destination"):
        raise frame.PageError(404, "There is no such definition.")
    return kind, found


async def definition_delete(request: Request) -> Response:
    ctx = frame.context(request)
    await frame.form(request)
    kind, found = _target(request)
    if kind == "destination":
        definition: Any = await core.get_destination_definition(ctx, found)
        delete = core.delete_destination_definition
    else:
        definition = await core.get_source_definition(ctx, found)
        delete = core.delete_source_definition
    if not definition.custom:
        raise frame.PageError(400, "Only a custom definition can be deleted here.")
    await delete(ctx, found)
    return frame.back(request, "/definitions", f"Deleted connector “{definition.name}”.", "ok")


async def definition_runner(request: Request) -> Response:
    """Run a definition as a local program or as a Docker image (Airbyte's `runner` field, as
    `source_definitions/update` changes it); the core applies its allow-lists."""
    ctx = frame.context(request)
    data = await frame.form(request)
    kind, found = _target(request)
    runner: RunnerKind = "process" if frame.field(data, "runner") == "process" else "docker"
    update = (
        core.update_destination_definition
        if kind == "destination"
        else core.update_source_definition
    )
    try:
        changed = await update(ctx, found, core.DefinitionChanges(runner=runner))
    except InvalidInput as exc:
        return frame.back(request, "/definitions", exc.message, "error")
    how = "as a local program" if runner == "process" else "as a Docker image"
    return frame.back(request, "/definitions", f"“{changed.name}” now runs {how}.", "ok")


ROUTES: list[Route] = [
    frame.route("/definitions", definition_list),
    frame.route("/definitions", definition_create, methods=["POST"]),
    frame.route(
        "/definitions/{kind:str}/{definition_id:str}/delete", definition_delete, methods=["POST"]
    ),
    frame.route(
        "/definitions/{kind:str}/{definition_id:str}/runner", definition_runner, methods=["POST"]
    ),
]
