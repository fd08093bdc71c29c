"""Connections in SQLite.

Each row's `data` is the complete ConnectionRead reply (core/connections.py derives every field
before writing), so reads can hand the stored JSON to the client without decoding it; but for
its secrets: the secret values of a stream's mappers (an AES `key`, `SECRET_CONFIG_KEYS`) are
sealed by server.store.secret_box before they reach SQLite. The JSON reads give them masked
(`MASK`), the typed reads (`get_connection`, `list_connections`: the core and the job plan)
opened, as sources' and destinations' configurations are.

The `name` column copies the document's name (for the web UI's name filter, see
`server.store.connection_list`); `insert_connection` and `update_connection` are the only
writers of rows, and both write it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from sqlite_utils import Database

from server.core.errors import NotFound
from server.domain.secrets import MASK
from server.mappers.configs import SECRET_CONFIG_KEYS
from server.models.connections import AirbyteCatalog as ApiCatalog
from server.models.connections import ConnectionRead
from server.protocol import ProtocolCatalog as AirbyteCatalog
from server.store import connector_cache, documents, secret_box

TABLE = "connections"
KIND = "connection"
# Oldest first; the `connections_workspace (workspace_id, created_at)` index holds this order,
# so neither a page nor a whole workspace needs a sort.
_ORDER = "ORDER BY created_at, rowid"


def map_secrets(connection: ConnectionRead, change: Callable[[Any], Any]) -> ConnectionRead:
    """`connection` with each secret value of its mappers replaced by `change(value)` (the same
    object when it has none)."""
    streams, changed = [], False
    for item in connection.sync_catalog.streams:
        config = item.config
        if config is None or not config.mappers:
            streams.append(item)
            continue
        mappers = []
        for mapper in config.mappers:
            given = mapper.mapper_configuration
            keys = [k for k in SECRET_CONFIG_KEYS.get(mapper.type, ()) if given.get(k) is not None]
            if keys:
                values = {**given, **{k: change(given[k]) for k in keys}}
                mapper = msgspec.structs.replace(mapper, mapper_configuration=values)
                changed = True
            mappers.append(mapper)
        streams.append(
            msgspec.structs.replace(item, config=msgspec.structs.replace(config, mappers=mappers))
        )
    if not changed:
        return connection
    return msgspec.structs.replace(connection, sync_catalog=ApiCatalog(streams=streams))


def masked(connection: ConnectionRead) -> ConnectionRead:
    """`connection` as a reply shows it: every mapper secret masked."""
    return map_secrets(connection, lambda _: MASK)


def _sealed(db: Database, connection: ConnectionRead) -> ConnectionRead:
    found: list[Any] = []
    map_secrets(connection, found.append)
    if not found:
        return connection  # no key work for a connection without secrets
    fernet = secret_box.unlock(db)
    return map_secrets(connection, lambda value: secret_box.seal(fernet, value, [[]]))


def _opened(db: Database, connection: ConnectionRead) -> ConnectionRead:
    found: list[Any] = []
    map_secrets(connection, found.append)
    if not any(isinstance(v, str) and v.startswith(secret_box.PREFIX) for v in found):
        return connection
    fernet = secret_box.unlock(db)
    return map_secrets(connection, lambda value: secret_box.open_value(fernet, value))


def _mask_tokens(value: Any) -> Any:
    if isinstance(value, str):
        return MASK if value.startswith(secret_box.PREFIX) else value
    if isinstance(value, dict):
        return {key: _mask_tokens(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_tokens(item) for item in value]
    return value


def _shown_json(data: str) -> bytes:
    """A stored document as a reply: as it is, unless it holds a sealed value (only mapper
    secrets are sealed in a connection), which is masked."""
    if secret_box.PREFIX not in data:
        return data.encode()
    return msgspec.json.encode(_mask_tokens(msgspec.json.decode(data)))


def insert_connection(db: Database, connection: ConnectionRead) -> ConnectionRead:
    documents.insert_doc(
        db,
        TABLE,
        str(connection.connection_id),
        _sealed(db, connection),
        workspace_id=str(connection.workspace_id),
        source_id=str(connection.source_id),
        destination_id=str(connection.destination_id),
        status=connection.status,
        created_at=connection.created_at,
        name=connection.name,
    )
    return connection


def get_connection(db: Database, connection_id: str) -> ConnectionRead:
    """The connection with its mapper secrets in the clear (for the core and the job plan)."""
    return _opened(db, documents.get_doc(db, TABLE, connection_id, ConnectionRead, KIND))


def get_connection_json(db: Database, connection_id: str) -> bytes:
    """The stored ConnectionRead as JSON bytes, secrets masked: the reply."""
    row = db.execute(f"SELECT data FROM {TABLE} WHERE id = ?", [connection_id]).fetchone()
    if row is None:
        raise NotFound(f"Could not find {KIND} with id: {connection_id}", id=connection_id)
    return _shown_json(str(row[0]))


def find_source_catalog(db: Database, catalog_id: str) -> AirbyteCatalog | None:
    """The discovered catalog a connection names as its `sourceCatalogId`, if it is still
    cached (protocol shape)."""
    try:
        return connector_cache.get_discovered_catalog(db, catalog_id)
    except NotFound:
        return None


def _page_sql(limit: int | None) -> str:
    if limit is None:
        return f"SELECT data FROM {TABLE} WHERE workspace_id = ? {_ORDER}"
    # Skip the offset in the index alone, then read only the page's documents.
    return (
        f"SELECT data FROM {TABLE} WHERE rowid IN (SELECT rowid FROM {TABLE} "
        f"WHERE workspace_id = ? {_ORDER} LIMIT ? OFFSET ?) {_ORDER}"
    )


def _page_args(workspace_id: str, limit: int | None, offset: int) -> list[object]:
    return [workspace_id] if limit is None else [workspace_id, limit, offset]


def list_connections(
    db: Database, workspace_id: str, limit: int | None = None, offset: int = 0
) -> list[ConnectionRead]:
    """The workspace's connections, oldest first, optionally one page of them (secrets in the
    clear, as `get_connection`)."""
    rows = db.execute(_page_sql(limit), _page_args(workspace_id, limit, offset)).fetchall()
    return [_opened(db, documents.decode(row[0], ConnectionRead)) for row in rows]


def list_connections_json(
    db: Database, workspace_id: str, limit: int | None = None, offset: int = 0
) -> list[bytes]:
    """As `list_connections`, each as its stored JSON bytes with secrets masked (replies)."""
    rows = db.execute(_page_sql(limit), _page_args(workspace_id, limit, offset)).fetchall()
    return [_shown_json(str(row[0])) for row in rows]


def update_connection(db: Database, connection: ConnectionRead) -> ConnectionRead:
    sealed = _sealed(db, connection)
    documents.update_doc(
        db,
        TABLE,
        str(connection.connection_id),
        sealed,
        KIND,
        status=connection.status,
        name=connection.name,
    )
    return connection


def delete_connection(db: Database, connection_id: str) -> None:
    documents.delete_doc(db, TABLE, connection_id, KIND)
