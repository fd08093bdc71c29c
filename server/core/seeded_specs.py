"""The specs of the seeded connectors at their seeded versions, shipped with the server.

Airbyte never runs `spec` to create a source: the spec comes with the definition. Sluice runs
it once per connector version and caches it (server.core.specs), but a first run of Airbyte's
source-faker takes seconds (its imports), longer than a client's default 5 s timeout on a busy
machine. So the seeded definitions' specs ship as data (`shipped_specs/`, written by
scripts/seeded_specs.py from the programs' own output, kept equal by tests/test_seeded_specs.py)
and answer a cache miss for a connector run exactly as its seeded definition runs it: the
seeded image tag, and for the process runner the seeded command. A definition moved to another
tag or command, or a custom definition, runs `spec` as before.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

import msgspec
from sqlite_utils import Database

from server.core.errors import NotFound
from server.models.definitions import DestinationDefinitionRead, SourceDefinitionRead
from server.protocol import ConnectorSpecification
from server.runner.base import ConnectorImage
from server.runner.images import connector_image
from server.store import definitions

DATA_DIR = "shipped_specs"
INDEX = "index.json"


class ShippedSpec(msgspec.Struct, frozen=True, rename="camel"):
    """One line of the index: which seeded definition, at which version, the file is for."""

    kind: Literal["source", "destination"]
    definition_id: str
    docker_image: str  # "<repository>:<seeded tag>"
    command: list[str]  # the seeded program, for the process runner
    file: str


def read_index() -> list[ShippedSpec]:
    data = resources.files("server.core").joinpath(DATA_DIR, INDEX).read_bytes()
    return msgspec.json.decode(data, type=list[ShippedSpec])


def read_spec(entry: ShippedSpec) -> ConnectorSpecification:
    data = resources.files("server.core").joinpath(DATA_DIR, entry.file).read_bytes()
    return msgspec.json.decode(data, type=ConnectorSpecification)


@functools.cache
def _by_image() -> dict[str, tuple[ShippedSpec, ConnectorSpecification]]:
    # Read once, on the first cache miss: a few small files, decoded in about a millisecond.
    return {entry.docker_image: (entry, read_spec(entry)) for entry in read_index()}


def _same_run(a: ConnectorImage, b: ConnectorImage) -> bool:
    """Whether both start the same program: an image runs its own entrypoint, whatever the
    command; a process runs the command."""
    if (a.runner, a.docker_image) != (b.runner, b.docker_image):
        return False
    return a.runner == "docker" or a.command == b.command


def _seeded_definition(
    db: Database, entry: ShippedSpec
) -> SourceDefinitionRead | DestinationDefinitionRead | None:
    try:
        if entry.kind == "source":
            return definitions.get_source_definition(db, entry.definition_id)
        return definitions.get_destination_definition(db, entry.definition_id)
    except NotFound:  # deleted: nothing seeded runs this connector any more
        return None


def seeded_spec(db: Database, connector: ConnectorImage) -> ConnectorSpecification | None:
    """Store function: the shipped spec of `connector` when a seeded definition, still at
    its seeded version (and, run as a process, with its seeded command), runs it; else None.

    Reading the definition keeps a custom definition of the same image (another program
    perhaps) on the `spec` it prints."""
    found = _by_image().get(connector.docker_image)
    if found is None:
        return None
    entry, spec = found
    if connector.runner == "process" and list(connector.command) != entry.command:
        return None
    definition = _seeded_definition(db, entry)
    if definition is None or not _same_run(connector_image(definition, "get_spec"), connector):
        return None
    return spec
