"""store/api_keys.py on a fresh in-memory database (the key's digest only)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from server.store import api_keys, workspaces
from server.store.api_keys import ApiKeyRow
from tests.support.store import NOW, add_workspace
from tests.support.store_errors import NOT_FOUND


def row(id: str = "key-1", workspace_id: str | None = None) -> ApiKeyRow:
    return ApiKeyRow(id, "CI", "sk_abc", f"digest-{id}", workspace_id, NOW, None, None, None)


def test_insert_get_find_list(db: Database) -> None:
    api_keys.insert_api_key(db, row())
    assert api_keys.get_api_key(db, "key-1") == row()
    assert api_keys.find_api_key(db, "digest-key-1") == row()
    assert api_keys.find_api_key(db, "nope") is None
    assert api_keys.list_api_keys(db) == [row()]
    with pytest.raises(NOT_FOUND, match="API key"):
        api_keys.get_api_key(db, "nope")


def test_revoke_once_and_touch(db: Database) -> None:
    api_keys.insert_api_key(db, row())
    assert api_keys.revoke_api_key(db, "key-1", NOW + 1).revoked_at == NOW + 1
    assert api_keys.revoke_api_key(db, "key-1", NOW + 2).revoked_at == NOW + 1
    api_keys.touch_api_key(db, "key-1", NOW + 3)
    assert api_keys.get_api_key(db, "key-1").last_used_at == NOW + 3


def test_a_workspace_scoped_key_goes_with_its_workspace(db: Database) -> None:
    team = str(add_workspace(db).workspace_id)
    api_keys.insert_api_key(db, row(workspace_id=team))
    workspaces.delete_workspace(db, team)
    assert api_keys.list_api_keys(db) == []
