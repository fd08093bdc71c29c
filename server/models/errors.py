"""Error bodies, spelled as Airbyte's server spells them."""

from __future__ import annotations

from typing import Any

from server.models.base import Model


class KnownExceptionInfo(Model):
    message: str
    exception_class_name: str | None = None
    details: dict[str, Any] | None = None


class NotFoundKnownExceptionInfo(Model):
    message: str
    id: str | None = None
    exception_class_name: str | None = None


class InvalidInputProperty(Model):
    property_path: str
    invalid_value: str | None = None
    message: str | None = None


class InvalidInputExceptionInfo(Model):
    message: str
    validation_errors: list[InvalidInputProperty]
    exception_class_name: str | None = None
