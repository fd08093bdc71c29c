"""Destinations: the rules every face follows for them (written once for sources and
destinations in server.core.actors).

- A destination lives in an existing workspace and names an existing destination definition
  (checked when it is prepared, and again inside the write: either may have gone meanwhile).
- Its configuration is validated against the connector's spec and the definition's local path
  rule before it is stored; masked secrets sent back on update keep their stored values.
- Every destination handed out is masked by its connector's spec and by the secret paths stored
  with it (the spec may not be available any more).

Store round trips: create and update read once and write once; get reads once; list reads once
for the whole page (plus one spec fetch per definition whose spec is not cached yet).
"""

from __future__ import annotations

from server.core.actors import Actors, Kind, New, Paths
from server.models.definitions import DestinationDefinitionRead
from server.models.destinations import DestinationRead
from server.store import definitions
from server.store import destinations as store

__all__ = [
    "NewDestination",
    "Paths",
    "create_destination",
    "delete_destination",
    "get_destination",
    "list_destinations",
    "prepare_destination",
    "recreate_destination",
    "shown_destinations",
    "update_destination",
]

KIND: Kind[DestinationRead, DestinationDefinitionRead] = Kind(
    read=DestinationRead,
    id_field="destination_id",
    definition_id_field="destination_definition_id",
    name_field="destination_name",
    get_definition=definitions.get_destination_definition,
    get=store.get_destination,
    insert=store.insert_destination,
    update=store.update_destination,
    delete=store.delete_destination,
    list_with_paths=store.list_destinations_with_paths,
    get_secret_paths=store.get_secret_paths,
)
_destinations = Actors(KIND)

NewDestination = New[DestinationRead]
prepare_destination = _destinations.prepare
create_destination = _destinations.create
recreate_destination = _destinations.recreate
get_destination = _destinations.get
list_destinations = _destinations.listed
shown_destinations = _destinations.shown
update_destination = _destinations.update
delete_destination = _destinations.delete
