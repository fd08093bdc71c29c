"""Applications and API keys: the rules for creating, listing, revoking and checking them.

Plain functions over the database, shared by the API handlers (through `Store.write`) and the
`sluice applications` / `sluice api-keys` commands (on the data directory's database).
"""

from __future__ import annotations

import secrets
import uuid

from sqlite_utils import Database

from server.auth.hashing import DUMMY_HASH, hash_secret, key_digest, verify_secret
from server.errors import InvalidInput
from server.models.api_keys import ApiKeyCreated, ApiKeyRead
from server.models.applications import ApplicationRead
from server.store import api_keys, applications
from server.store.workspaces import get_workspace

KEY_PREFIX = "sk_sluice_"
# What lists show of a key: the fixed prefix and the first 8 random characters.
SHOWN = len(KEY_PREFIX) + 8


def _check_workspace(db: Database, workspace_id: str | None) -> None:
    if workspace_id is not None:
        get_workspace(db, workspace_id)  # NotFound (404) names it


def create_application(
    db: Database, name: str, workspace_id: str | None, now: int
) -> ApplicationRead:
    _check_workspace(db, workspace_id)
    secret = secrets.token_urlsafe(32)
    row = applications.ApplicationRow(
        id=str(uuid.uuid4()),
        name=name,
        client_id=str(uuid.uuid4()),
        secret_hash=hash_secret(secret),
        workspace_id=workspace_id,
        created_at=now,
    )
    applications.insert_application(db, row)
    return row.read(client_secret=secret)


def list_applications(db: Database) -> list[ApplicationRead]:
    return [row.read() for row in applications.list_applications(db)]


def application_for(db: Database, client_id: str, client_secret: str) -> str | None:
    """The id of the application with these credentials, or None."""
    row = applications.find_application_by_client_id(db, client_id)
    ok = verify_secret(client_secret, row.secret_hash if row else DUMMY_HASH)
    return row.id if row is not None and ok else None


def create_api_key(
    db: Database, name: str, workspace_id: str | None, expires_at: int | None, now: int
) -> ApiKeyCreated:
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(
            "expiresAt must be in the future", property_path="expiresAt", invalid_value=expires_at
        )
    _check_workspace(db, workspace_id)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = api_keys.ApiKeyRow(
        id=str(uuid.uuid4()),
        name=name,
        prefix=key[:SHOWN],
        digest=key_digest(key),
        workspace_id=workspace_id,
        created_at=now,
        expires_at=expires_at,
        last_used_at=None,
        revoked_at=None,
    )
    api_keys.insert_api_key(db, row)
    return ApiKeyCreated(
        key=key,
        api_key_id=uuid.UUID(row.id),
        name=name,
        prefix=row.prefix,
        created_at=now,
        workspace_id=uuid.UUID(workspace_id) if workspace_id else None,
        expires_at=expires_at,
    )


def list_api_keys(db: Database) -> list[ApiKeyRead]:
    return [row.read() for row in api_keys.list_api_keys(db)]


def revoke_api_key(db: Database, api_key_id: str, now: int) -> ApiKeyRead:
    return api_keys.revoke_api_key(db, api_key_id, now).read()


def live_api_key(db: Database, key: str, now: int) -> api_keys.ApiKeyRow | None:
    """The key's row when it exists, is not revoked and has not expired."""
    row = api_keys.find_api_key(db, key_digest(key))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row


def delete_application(db: Database, application_id: str) -> None:
    """Delete an application; its tokens stop working at once (each request looks it up)."""
    applications.delete_application(db, application_id)
