"""Applications (client id + hashed secret) in SQLite."""

from __future__ import annotations

from typing import NamedTuple

from sqlite_utils import Database

from server.core.errors import NotFound
from server.models.applications import ApplicationRead

MASK = "**********"


class ApplicationRow(NamedTuple):
    id: str
    name: str
    client_id: str
    secret_hash: str
    workspace_id: str | None
    created_at: int

    def read(self, client_secret: str = MASK) -> ApplicationRead:
        return ApplicationRead(
            id=self.id,
            name=self.name,
            client_id=self.client_id,
            client_secret=client_secret,
            created_at=self.created_at,
            workspace_id=self.workspace_id,  # type: ignore[arg-type]  # msgspec takes str
        )


_COLUMNS = "id, name, client_id, secret_hash, workspace_id, created_at"


def insert_application(db: Database, row: ApplicationRow) -> None:
    db.execute(f"INSERT INTO applications ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", list(row))


def get_application(db: Database, application_id: str) -> ApplicationRow:
    found = db.execute(
        f"SELECT {_COLUMNS} FROM applications WHERE id = ?", [application_id]
    ).fetchone()
    if found is None:
        raise NotFound(f"Could not find application with id: {application_id}", id=application_id)
    return ApplicationRow(*found)


def find_application_by_client_id(db: Database, client_id: str) -> ApplicationRow | None:
    found = db.execute(
        f"SELECT {_COLUMNS} FROM applications WHERE client_id = ?", [client_id]
    ).fetchone()
    return ApplicationRow(*found) if found else None


def application_scope(db: Database, application_id: str) -> tuple[bool, str | None]:
    """(exists, workspace id): what checking one of its tokens needs, in one indexed read."""
    found = db.execute(
        "SELECT workspace_id FROM applications WHERE id = ?", [application_id]
    ).fetchone()
    return (False, None) if found is None else (True, found[0])


def list_applications(db: Database) -> list[ApplicationRow]:
    rows = db.execute(f"SELECT {_COLUMNS} FROM applications ORDER BY created_at, rowid")
    return [ApplicationRow(*r) for r in rows.fetchall()]


def delete_application(db: Database, application_id: str) -> None:
    cursor = db.execute("DELETE FROM applications WHERE id = ?", [application_id])
    if cursor.rowcount == 0:
        raise NotFound(f"Could not find application with id: {application_id}", id=application_id)
