"""The sources and destinations lists of the web UI: one page of a workspace's actors (id, name,
connector name, creation time) and the count of all that match, without reading (or opening
the secrets of) any configuration.

Oldest first, as `sources/list` answers, by the `(workspace_id, created_at)` index. The name
lives only in each row's JSON document (`json_extract`, SQLite's; PostgreSQL's store spells it
`->>`); the name filter is a case-insensitive substring test (`instr(lower(..), lower(?))`), not
LIKE, so `%` and `_` in a name mean themselves.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from sqlite_utils import Database

ActorKind = Literal["source", "destination"]
_TABLES: dict[str, tuple[str, str]] = {
    "source": ("sources", "$.sourceName"),
    "destination": ("destinations", "$.destinationName"),
}


class ActorListRow(NamedTuple):
    id: str
    name: str
    connector: str
    created_at: int


def list_actor_rows(
    db: Database,
    kind: ActorKind,
    workspace_id: str,
    name: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ActorListRow], int]:
    """One page (up to `limit` rows after `offset`) and how many match in all."""
    table, connector = _TABLES[kind]
    where = "workspace_id = ?"
    args: list[Any] = [workspace_id]
    if name:
        where += " AND instr(lower(json_extract(data, '$.name')), lower(?)) > 0"
        args.append(name)
    rows = db.execute(
        f"SELECT id, json_extract(data, '$.name'), json_extract(data, '{connector}'), created_at "
        f"FROM {table} WHERE {where} ORDER BY created_at, id LIMIT ? OFFSET ?",
        [*args, limit, offset],
    ).fetchall()
    total = int(db.execute(f"SELECT count(*) FROM {table} WHERE {where}", args).fetchone()[0])
    found = [ActorListRow(str(r[0]), str(r[1]), str(r[2] or ""), int(r[3])) for r in rows]
    return found, total
