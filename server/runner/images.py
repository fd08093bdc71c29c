"""From a definition to a `ConnectorImage`, and Airbyte's resource quantities to numbers
(server.domain.quantities parses them: the grammar the models check requests with)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from server.domain import quantities
from server.runner.base import ConnectorError, ConnectorImage


# What the runner reads of a connector definition (the API's definition models have these
# attributes; the runner does not import them).
class Limits(Protocol):
    @property
    def cpu_limit(self) -> str | None: ...
    @property
    def memory_limit(self) -> str | None: ...


class JobLimits(Protocol):
    @property
    def job_type(self) -> str: ...
    @property
    def resource_requirements(self) -> Limits: ...


class Resources(Protocol):
    @property
    def default(self) -> Limits | None: ...
    @property
    def job_specific(self) -> Sequence[JobLimits] | None: ...


class Definition(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def runner(self) -> Literal["docker", "process"]: ...
    @property
    def docker_repository(self) -> str: ...
    @property
    def docker_image_tag(self) -> str: ...
    @property
    def command(self) -> Sequence[str] | None: ...
    @property
    def resource_requirements(self) -> Resources | None: ...


@dataclass(frozen=True)
class _Merged:
    cpu_limit: str | None = None
    memory_limit: str | None = None


JobType = Literal["get_spec", "check_connection", "discover_schema", "sync"]


def memory_bytes(quantity: str) -> int:
    """'512Mi' -> 536870912; raises ConnectorError naming the bad value."""
    try:
        return quantities.memory_bytes(quantity)
    except quantities.QuantityError as exc:
        raise ConnectorError(str(exc)) from None


def nano_cpus(quantity: str) -> int:
    """'0.5' or '500m' -> 500000000 (Docker's NanoCpus)."""
    try:
        return quantities.nano_cpus(quantity)
    except quantities.QuantityError as exc:
        raise ConnectorError(str(exc)) from None


def _requirements(definition: Definition, job_type: JobType) -> _Merged:
    """The definition's default limits, overridden field by field for this job type."""
    resources = definition.resource_requirements
    if resources is None:
        return _Merged()
    base = resources.default
    merged = _Merged(base.cpu_limit, base.memory_limit) if base is not None else _Merged()
    for specific in resources.job_specific or []:
        if specific.job_type == job_type:
            own = specific.resource_requirements
            merged = _Merged(
                cpu_limit=own.cpu_limit or merged.cpu_limit,
                memory_limit=own.memory_limit or merged.memory_limit,
            )
    return merged


def connector_image(definition: Definition, job_type: JobType) -> ConnectorImage:
    limits = _requirements(definition, job_type)
    return ConnectorImage(
        name=definition.name,
        runner=definition.runner,
        docker_image=f"{definition.docker_repository}:{definition.docker_image_tag}",
        command=tuple(definition.command or ()),
        memory_limit=limits.memory_limit,
        cpu_limit=limits.cpu_limit,
    )
