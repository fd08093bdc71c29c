"""What the public API's source and destination models share (server.models.public.sources
and .destinations keep Airbyte's names for each kind's)."""

from __future__ import annotations

from typing import Any

from server.models.base import Model
from server.models.sources import ActorName


class ActorPutRequest(Model):
    # No docstring: each kind's subclass has its own, the description its component shows.

    name: ActorName
    configuration: dict[str, Any]


class GetActorQuery(Model):
    """`includeSecretCoordinates` is accepted: Sluice seals secrets in place, so there are no
    coordinates to show and secrets stay masked."""

    include_secret_coordinates: bool = False
