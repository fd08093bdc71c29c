"""The errors handlers raise, and the exception handlers that render them as Airbyte does.

Handlers raise; they never build error responses. Each error class carries its HTTP status;
the first line of its docstring is the default message.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from server.core import errors as domain
from server.models.errors import (
    InvalidInputExceptionInfo,
    InvalidInputProperty,
    KnownExceptionInfo,
    NotFoundKnownExceptionInfo,
)
from server.public.problems import is_public, problem_response

log = logging.getLogger("sluice.errors")
_encoder = msgspec.json.Encoder()


class ApiError(Exception):
    """The request could not be served."""

    status = 400
    class_name = "io.airbyte.commons.server.errors.ApplicationErrorKnownException"
    # The public API's problem title, when not the status's (server/public/problems.py).
    problem: str | None = None

    def __init__(self, message: str | None = None, **details: Any) -> None:
        doc = (type(self).__doc__ or "").strip().splitlines()
        self.message = message or (doc[0] if doc else "Error")
        self.details = details
        super().__init__(self.message)

    def body(self) -> msgspec.Struct:
        return KnownExceptionInfo(
            message=self.message,
            exception_class_name=self.class_name,
            details=self.details or None,
        )


class BadRequest(ApiError):
    """The request is malformed."""

    status = 400


class NotFound(ApiError):
    """Object not found."""

    status = 404
    class_name = "io.airbyte.commons.server.errors.IdNotFoundKnownException"

    def __init__(self, message: str | None = None, *, id: str | None = None) -> None:
        super().__init__(message)
        self.id = id

    def body(self) -> msgspec.Struct:
        return NotFoundKnownExceptionInfo(
            message=self.message, id=self.id, exception_class_name=self.class_name
        )


class InvalidInput(ApiError):
    """Some properties contained invalid input."""

    status = 422
    class_name = "io.airbyte.commons.server.errors.BadObjectSchemaKnownException"

    def __init__(
        self,
        message: str | None = None,
        *,
        property_path: str | None = None,
        invalid_value: Any = None,
        errors: list[InvalidInputProperty] | None = None,
    ) -> None:
        super().__init__(message)
        self.errors = list(errors or [])
        if property_path is not None:
            self.errors.append(
                InvalidInputProperty(
                    property_path=property_path,
                    invalid_value=_show(invalid_value),
                    message=self.message,
                )
            )

    def body(self) -> msgspec.Struct:
        return InvalidInputExceptionInfo(
            message=self.message,
            validation_errors=self.errors,
            exception_class_name=self.class_name,
        )


class Forbidden(ApiError):
    """Forbidden."""

    status = 403


class Conflict(ApiError):
    """The request conflicts with the current state."""

    status = 409
    class_name = "io.airbyte.commons.server.errors.ConflictException"


class RequestTimeout(ApiError):
    """The request did not arrive in time."""

    status = 408


class PayloadTooLarge(ApiError):
    """The request body is too large."""

    status = 413


class UnsupportedMediaType(ApiError):
    """Request bodies must be JSON (Content-Type: application/json)."""

    status = 415


class ServiceUnavailable(ApiError):
    """The database is busy; try again."""

    status = 503


def _show(value: Any) -> str | None:
    """Render an invalid value for `invalidValue` (a string in Airbyte's body)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


_PATH_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def from_decode_error(exc: msgspec.DecodeError, raw: bytes) -> InvalidInput:
    """Turn a msgspec decode/validation error into a 422 naming the property and its value."""
    text = str(exc)
    match = _PATH_AT.search(text)
    if match is None:
        if _MISSING.match(text):
            return _invalid_at("", text, raw)
        return InvalidInput(f"Invalid request body: {text}", property_path="", invalid_value=None)
    path = match.group("path").lstrip(".")
    message = text[: match.start()]
    return _invalid_at(path, message, raw)


def _invalid_at(path: str, message: str, raw: bytes) -> InvalidInput:
    # A missing field is reported at its parent object; name the field itself.
    missing = _MISSING.match(message)
    if missing is not None:
        path = f"{path}.{missing.group(1)}" if path else missing.group(1)
    return InvalidInput(
        f"Invalid value for '{path}': {message}",
        property_path=path,
        invalid_value=_value_at(raw, path),
    )


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _value_at(raw: bytes, path: str) -> Any:
    """Best-effort lookup of the offending value, for the error body only."""
    try:
        node: Any = msgspec.json.decode(raw or b"{}")
        for name, index in _SEGMENT.findall(path):
            node = node[int(index)] if index else node[name]
        return node
    except Exception:
        return None


def _reply(status: int, body: msgspec.Struct) -> Response:
    return Response(_encoder.encode(body), status_code=status, media_type="application/json")


def _problem(exc: ApiError) -> Response:
    """`exc` as the public API's problem JSON (the property errors of a 422 in `data`)."""
    data: dict[str, Any] | None = None
    if isinstance(exc, InvalidInput) and exc.errors:
        data = {"validationErrors": [msgspec.to_builtins(e) for e in exc.errors]}
    elif isinstance(exc, NotFound) and exc.id is not None:
        data = {"resourceId": exc.id}
    return problem_response(exc.status, exc.message, data, title=exc.problem)


def error_response(exc: ApiError, path: str = "") -> Response:
    """The response for an error raised outside the routes (the edge middleware)."""
    if is_public(path):
        return _problem(exc)
    return _reply(exc.status, exc.body())


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, request.url.path)


def from_domain(exc: domain.DomainError) -> ApiError:
    """The configuration API's error for a core error (same message, its status and body)."""
    error = _from_domain(exc)
    error.problem = exc.problem
    return error


def _from_domain(exc: domain.DomainError) -> ApiError:
    if isinstance(exc, domain.NotFound):
        return NotFound(exc.message, id=exc.id)
    if isinstance(exc, domain.InvalidInput):
        problems = [
            InvalidInputProperty(
                property_path=p.property_path, invalid_value=p.invalid_value, message=p.message
            )
            for p in exc.errors
        ]
        return InvalidInput(exc.message, errors=problems)
    kind: type[ApiError] = ApiError
    if isinstance(exc, domain.Conflict):
        kind = Conflict
    elif isinstance(exc, domain.Forbidden):
        kind = Forbidden
    elif isinstance(exc, domain.Refused):
        kind = BadRequest
    return kind(exc.message, **exc.details)


async def domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, domain.DomainError)
    return await api_error_handler(request, from_domain(exc))


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) in the API's bodies."""
    assert isinstance(exc, HTTPException)
    if is_public(request.url.path):
        if exc.status_code == 404:
            detail = f"No such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            detail = f"Method {request.method} is not allowed on {request.url.path}"
        else:
            detail = str(exc.detail)
        return problem_response(exc.status_code, detail, headers=exc.headers)
    if exc.status_code == 404:
        message = f"No such endpoint: {request.method} {request.url.path}"
        body: msgspec.Struct = NotFoundKnownExceptionInfo(
            message=message, id=request.url.path, exception_class_name=NotFound.class_name
        )
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
        body = KnownExceptionInfo(message=message, exception_class_name=ApiError.class_name)
    else:
        body = KnownExceptionInfo(message=str(exc.detail), exception_class_name=ApiError.class_name)
    response = _reply(exc.status_code, body)
    response.headers.update(exc.headers or {})
    return response


async def sqlite_error_handler(request: Request, exc: Exception) -> Response:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return await api_error_handler(request, ServiceUnavailable())
    return await unexpected_error_handler(request, exc)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    if is_public(request.url.path):
        detail = f"Internal server error ({type(exc).__name__}); see the server log"
        return problem_response(500, detail)
    body = KnownExceptionInfo(
        message=f"Internal server error ({type(exc).__name__}); see the server log",
        exception_class_name=type(exc).__name__,
    )
    return _reply(500, body)


exception_handlers = {
    ApiError: api_error_handler,
    domain.DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    sqlite3.Error: sqlite_error_handler,
    Exception: unexpected_error_handler,
}
