"""The errors the core raises: what went wrong in domain terms, without HTTP.

Each face renders them in its own error body: the configuration API through
`server.errors.render_domain_error` (status, `message`, `validationErrors[].propertyPath`),
later the public API and the UI in theirs. A `Problem` names one refused property by its path
in the request as the core was given it (e.g. `connectionConfiguration.port`, `streams[0]`).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Problem(msgspec.Struct, frozen=True):
    """One refused property: where, the value shown (masked, shortened), and why."""

    property_path: str
    invalid_value: str | None = None
    message: str | None = None


def shown(value: Any) -> str | None:
    """A refused value as a problem shows it (a string, JSON for anything else)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


class DomainError(Exception):
    """The request could not be served."""

    # Airbyte's public-API problem title, where it is more precise than the status's.
    problem: str | None = None

    def __init__(self, message: str | None = None, **details: Any) -> None:
        doc = (type(self).__doc__ or "").strip().splitlines()
        self.message = message or (doc[0] if doc else "Error")
        self.details = details
        super().__init__(self.message)


class Refused(DomainError):
    """The request cannot be carried out as asked."""


class ConnectorUnavailable(Refused):
    """The connector could not be run."""


class NotFound(DomainError):
    """Object not found."""

    def __init__(self, message: str | None = None, *, id: str | None = None) -> None:
        super().__init__(message)
        self.id = id


class InvalidInput(DomainError):
    """Some properties contained invalid input."""

    def __init__(
        self,
        message: str | None = None,
        *,
        property_path: str | None = None,
        invalid_value: Any = None,
        errors: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.errors = list(errors or [])
        if property_path is not None:
            self.errors.append(
                Problem(
                    property_path=property_path,
                    invalid_value=shown(invalid_value),
                    message=self.message,
                )
            )


class Conflict(DomainError):
    """The request conflicts with the current state."""


class Forbidden(DomainError):
    """Forbidden."""
