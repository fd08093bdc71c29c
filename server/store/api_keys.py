"""API keys in SQLite: the SHA-256 digest of each key, never the key."""

from __future__ import annotations

from typing import NamedTuple

from sqlite_utils import Database

from server.core.errors import NotFound
from server.models.api_keys import ApiKeyRead


class ApiKeyRow(NamedTuple):
    id: str
    name: str
    prefix: str
    digest: str
    workspace_id: str | None
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    revoked_at: int | None

    def read(self) -> ApiKeyRead:
        return ApiKeyRead(
            api_key_id=self.id,  # type: ignore[arg-type]  # msgspec takes str
            name=self.name,
            prefix=self.prefix,
            created_at=self.created_at,
            workspace_id=self.workspace_id,  # type: ignore[arg-type]
            expires_at=self.expires_at,
            last_used_at=self.last_used_at,
            revoked_at=self.revoked_at,
        )


_COLUMNS = (
    "id, name, prefix, digest, workspace_id, created_at, expires_at, last_used_at, revoked_at"
)


def insert_api_key(db: Database, row: ApiKeyRow) -> None:
    db.execute(f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(row))


def get_api_key(db: Database, api_key_id: str) -> ApiKeyRow:
    found = db.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", [api_key_id]).fetchone()
    if found is None:
        raise NotFound(f"Could not find API key with id: {api_key_id}", id=api_key_id)
    return ApiKeyRow(*found)


def find_api_key(db: Database, digest: str) -> ApiKeyRow | None:
    found = db.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE digest = ?", [digest]).fetchone()
    return ApiKeyRow(*found) if found else None


def list_api_keys(db: Database) -> list[ApiKeyRow]:
    rows = db.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, rowid")
    return [ApiKeyRow(*r) for r in rows.fetchall()]


def revoke_api_key(db: Database, api_key_id: str, now: int) -> ApiKeyRow:
    """Revoke (once: a second revoke keeps the first time) and return the key."""
    db.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now, api_key_id]
    )
    return get_api_key(db, api_key_id)


def touch_api_key(db: Database, api_key_id: str, now: int) -> None:
    db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [now, api_key_id])
