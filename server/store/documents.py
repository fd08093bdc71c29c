"""Shared access to resource tables: key columns for lookups, the model as JSON in `data`.

Resource modules (`store/workspaces.py`, `store/sources.py` ...) are thin wrappers over these,
so that every table is read and written the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import msgspec
from sqlite_utils import Database

from server.core.errors import NotFound

M = TypeVar("M", bound=msgspec.Struct)

_encoder = msgspec.json.Encoder()
_decoders: dict[type, msgspec.json.Decoder[Any]] = {}


def encode(model: msgspec.Struct) -> str:
    return _encoder.encode(model).decode()


def decode(data: str | bytes, model: type[M]) -> M:
    decoder = _decoders.get(model)
    if decoder is None:
        decoder = _decoders[model] = msgspec.json.Decoder(model)
    return decoder.decode(data)  # type: ignore[no-any-return]


def insert_doc(db: Database, table: str, id: str, model: msgspec.Struct, **columns: Any) -> None:
    db.execute(
        f"INSERT INTO {table} (id, data, {', '.join(columns)}) "
        f"VALUES (?, ?, {', '.join('?' for _ in columns)})",
        [id, encode(model), *columns.values()],
    )


def get_doc(db: Database, table: str, id: str, model: type[M], kind: str) -> M:
    """The object with this id, or NotFound naming its kind (e.g. 'source')."""
    row = db.execute(f"SELECT data FROM {table} WHERE id = ?", [id]).fetchone()
    if row is None:
        raise NotFound(f"Could not find {kind} with id: {id}", id=id)
    return decode(row[0], model)


def exists(db: Database, table: str, id: str) -> bool:
    return db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [id]).fetchone() is not None


def list_docs(
    db: Database,
    table: str,
    model: type[M],
    where: str = "1 = 1",
    params: Sequence[Any] = (),
    limit: int | None = None,
    offset: int = 0,
) -> list[M]:
    """Objects in creation order (oldest first), optionally paged. The order is the one of the
    tables' (workspace_id, created_at) indexes, so a workspace's objects need no sort."""
    sql = f"SELECT data FROM {table} WHERE {where} ORDER BY created_at, rowid"
    args = list(params)
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        args += [limit, offset]
    return [decode(row[0], model) for row in db.execute(sql, args).fetchall()]


def list_docs_with_paths(
    db: Database,
    table: str,
    model: type[M],
    where: str = "1 = 1",
    params: Sequence[Any] = (),
    limit: int | None = None,
) -> list[tuple[M, list[list[str | None]] | None]]:
    """As `list_docs`, each object with its stored secret paths (one query for the page)."""
    sql = f"SELECT data, secret_paths FROM {table} WHERE {where} ORDER BY created_at, rowid"
    args = list(params)
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return [
        (decode(data, model), None if paths is None else _decode_paths(paths))
        for data, paths in db.execute(sql, args).fetchall()
    ]


def _decode_paths(data: str) -> list[list[str | None]]:
    return msgspec.json.decode(data, type=list[list[str | None]])


def update_doc(
    db: Database, table: str, id: str, model: msgspec.Struct, kind: str, **columns: Any
) -> None:
    sets = ", ".join(["data = ?", *(f"{name} = ?" for name in columns)])
    cursor = db.execute(
        f"UPDATE {table} SET {sets} WHERE id = ?", [encode(model), *columns.values(), id]
    )
    if cursor.rowcount == 0:
        raise NotFound(f"Could not find {kind} with id: {id}", id=id)


def delete_doc(db: Database, table: str, id: str, kind: str) -> None:
    if db.execute(f"DELETE FROM {table} WHERE id = ?", [id]).rowcount == 0:
        raise NotFound(f"Could not find {kind} with id: {id}", id=id)


def encode_paths(paths: Sequence[Sequence[str | None]] | None) -> str | None:
    """Secret paths (see `secrets.secret_paths`) for a `secret_paths` column; None: unknown."""
    return None if paths is None else msgspec.json.encode(paths).decode()


def get_secret_paths(db: Database, table: str, id: str) -> list[list[str | None]] | None:
    """The secret paths stored with this object's configuration; None when not known."""
    row = db.execute(f"SELECT secret_paths FROM {table} WHERE id = ?", [id]).fetchone()
    if row is None or row[0] is None:
        return None
    return _decode_paths(row[0])


def ids(db: Database, table: str, where: str, params: Iterable[Any]) -> list[str]:
    return [row[0] for row in db.execute(f"SELECT id FROM {table} WHERE {where}", list(params))]
