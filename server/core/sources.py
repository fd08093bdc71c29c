"""Sources: the rules every face follows for them (written once for sources and destinations
in server.core.actors).

- A source lives in an existing workspace and names an existing source definition (checked
  when it is prepared, and again inside the write: either may have gone meanwhile).
- Its configuration is validated against the connector's spec and the definition's local path
  rule before it is stored; masked secrets sent back on update keep their stored values.
- Every source handed out is masked by its connector's spec and by the secret paths stored
  with it (the spec may not be available any more).

Store round trips: create and update read once and write once; get reads once; list reads once
for the whole page (plus one spec fetch per definition whose spec is not cached yet).
"""

from __future__ import annotations

from server.core.actors import Actors, Kind, New, Paths
from server.models.definitions import SourceDefinitionRead
from server.models.sources import SourceRead
from server.store import definitions
from server.store import sources as store

__all__ = [
    "NewSource",
    "Paths",
    "create_source",
    "delete_source",
    "get_source",
    "list_sources",
    "prepare_source",
    "recreate_source",
    "shown_sources",
    "update_source",
]

KIND: Kind[SourceRead, SourceDefinitionRead] = Kind(
    read=SourceRead,
    id_field="source_id",
    definition_id_field="source_definition_id",
    name_field="source_name",
    get_definition=definitions.get_source_definition,
    get=store.get_source,
    insert=store.insert_source,
    update=store.update_source,
    delete=store.delete_source,
    list_with_paths=store.list_sources_with_paths,
    get_secret_paths=store.get_secret_paths,
)
_sources = Actors(KIND)

NewSource = New[SourceRead]
prepare_source = _sources.prepare
create_source = _sources.create
recreate_source = _sources.recreate
get_source = _sources.get
list_sources = _sources.listed
shown_sources = _sources.shown
update_source = _sources.update
delete_source = _sources.delete
