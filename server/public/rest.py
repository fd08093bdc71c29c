"""`rest(handler)`: turn a typed public-API handler into a Starlette endpoint.

A handler names what it takes by its parameters, and the adapter fills them from the request:

    async def get_source(source_id: UUID, ctx: Context) -> SourceResponse
    async def list_sources(query: ListSourcesQuery, links: Links, ctx: Context) -> SourcesResponse
    async def patch_source(source_id: UUID, body: SourcePatchRequest, ctx: Context) -> ...

- a path parameter by its name (`source_id` is the document's `{sourceId}`), converted to its
  annotated type (a malformed one is a 400 naming it);
- `query`: a msgspec Struct of the query parameters, by their camelCase names; a list field
  takes repeated keys (`workspaceIds=a&workspaceIds=b`) and comma-separated values alike;
  unknown parameters are ignored, as the config API ignores unknown body fields;
- `body`: the JSON body, decoded and validated as the config API does (422 naming the field);
- `links`: the request's URL, for a list's `next` and `previous`;
- `ctx`: the request context.

A reply of `None` is a 204 (Airbyte's deletes); anything else is 200 JSON. What a workspace-
scoped credential may see is checked around the call (server.public.access).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from server.context import Context
from server.errors import BadRequest, from_decode_error
from server.models.decoding import RequestDecoder
from server.public import access
from server.rpc import read_body

Handler = Callable[..., Awaitable[Any]]
Endpoint = Callable[[Request], Awaitable[Response]]

_encoder = msgspec.json.Encoder()
_SPECIAL = {"ctx", "body", "query", "links"}


class Links:
    """The request's URL, to build the `next` and `previous` links of a list page."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def page(self, limit: int, offset: int, more: bool) -> tuple[str, str]:
        """(`next`, `previous`): the same request at the neighbouring offsets; `""` where there
        is no such page (dagster and PyAirbyte page until `next` is falsy)."""
        after = self._at(limit, offset + limit) if more else ""
        before = self._at(limit, max(offset - limit, 0)) if offset > 0 else ""
        return after, before

    def _at(self, limit: int, offset: int) -> str:
        params = [(k, v) for k, v in self._request.query_params.multi_items()]
        kept = [(k, v) for k, v in params if k not in {"limit", "offset"}]
        query = urlencode([*kept, ("limit", str(limit)), ("offset", str(offset))])
        return str(self._request.url.replace(query=query))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _is_list(annotation: Any) -> bool:
    """`list[...]`, or a union with one (`list[UUID] | None`)."""
    if typing.get_origin(annotation) is list:
        return True
    return any(typing.get_origin(member) is list for member in typing.get_args(annotation))


def _members(annotation: Any) -> set[Any]:
    """The plain types `annotation` is made of (`int | None` -> {int, None}; lists unwrapped)."""
    args = typing.get_args(annotation)
    if not args:
        return {annotation}
    return set().union(*(_members(a) for a in args))


def _lax(annotation: Any) -> bool:
    """Whether a query value must be read from text (`"20"` -> 20, `"true"` -> True). Only
    numbers and booleans are: elsewhere text stays text, so `"null"` is not None and `"0.5"`
    is not a date (which msgspec's lax mode would make of them)."""
    return bool(_members(annotation) & {int, float, bool})


def query_decoder(model: type[msgspec.Struct]) -> Callable[[Request], msgspec.Struct]:
    fields = [(f, _is_list(f.type), _lax(f.type)) for f in msgspec.structs.fields(model)]

    def decode(request: Request) -> msgspec.Struct:
        params = request.query_params
        raw: dict[str, Any] = {}
        for field, many, lax in fields:
            name = field.encode_name
            if name not in params:
                continue
            if many:
                # An empty item (`workspaceIds=`, `a,,b`) names nothing: refused as any bad
                # value is, not read as "no filter".
                value: Any = [v for p in params.getlist(name) for v in p.split(",")]
            else:
                value = params[name]
            try:
                raw[name] = msgspec.convert(value, field.type, strict=not lax)
            except msgspec.ValidationError as exc:
                raise BadRequest(f"Invalid query parameter {name}: {exc}") from None
        try:
            return msgspec.convert(raw, model)
        except msgspec.ValidationError as exc:  # a required parameter is missing
            raise BadRequest(f"Invalid query: {exc}") from None

    return decode


# Ids in paths are SQLite's 64-bit integers; a larger one names nothing there.
_INT64 = range(-(2**63), 2**63)


def _path_value(request: Request, name: str, annotation: Any) -> Any:
    value = request.path_params.get(camel(name), "")
    try:
        converted = msgspec.convert(value, annotation, strict=False)
    except msgspec.ValidationError:
        converted = None
    if converted is None or (isinstance(converted, int) and converted not in _INT64):
        kind = "a 64-bit integer" if annotation is int else "a UUID"
        raise BadRequest(f"Invalid path parameter {camel(name)}: {value!r} is not {kind}")
    return converted


def rest(handler: Handler) -> Endpoint:
    hints = typing.get_type_hints(handler)
    names = list(inspect.signature(handler).parameters)
    model = hints.get("body") if "body" in names else None
    decoder: RequestDecoder[Any] | None = RequestDecoder(model) if model is not None else None
    query_model = hints.get("query") if "query" in names else None
    decode_query = query_decoder(query_model) if query_model is not None else None
    path_names = [n for n in names if n not in _SPECIAL]
    guarded = access.guarded(handler, path_names)

    async def endpoint(request: Request) -> Response:
        ctx: Context = request.app.state.ctx
        values: dict[str, Any] = {n: _path_value(request, n, hints[n]) for n in path_names}
        if decode_query is not None:
            values["query"] = decode_query(request)
        if decoder is not None:
            raw = await read_body(request, ctx.settings.max_body_bytes)
            if not raw.strip():
                raw = b"{}"
            try:
                values["body"] = decoder.decode(raw)
            except msgspec.ValidationError as exc:
                raise from_decode_error(exc, raw) from None
            except msgspec.DecodeError as exc:
                raise BadRequest(f"Malformed JSON in request body: {exc}") from None
        if "links" in names:
            values["links"] = Links(request)
        values["ctx"] = ctx
        result = await guarded(**{n: values[n] for n in names})
        if result is None:
            return Response(status_code=204)
        if isinstance(result, Response):
            return result
        return Response(_encoder.encode(result), media_type="application/json")

    return endpoint
