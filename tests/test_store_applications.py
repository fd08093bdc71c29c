"""store/applications.py on a fresh in-memory database (the secret's hash only)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from server.store import applications, workspaces
from server.store.applications import ApplicationRow
from tests.support.store import NOW, add_workspace
from tests.support.store_errors import NOT_FOUND


def row(id: str = "app-1", workspace_id: str | None = None) -> ApplicationRow:
    return ApplicationRow(id, "CI", f"client-{id}", "scrypt$hash", workspace_id, NOW)


def test_insert_get_find_list_delete(db: Database) -> None:
    applications.insert_application(db, row())
    assert applications.get_application(db, "app-1") == row()
    assert applications.find_application_by_client_id(db, "client-app-1") == row()
    assert applications.find_application_by_client_id(db, "nope") is None
    assert applications.list_applications(db) == [row()]
    applications.delete_application(db, "app-1")
    with pytest.raises(NOT_FOUND):
        applications.get_application(db, "app-1")


def test_the_reply_masks_the_secret_unless_given(db: Database) -> None:
    assert row().read().client_secret == applications.MASK
    assert row().read("shown once").client_secret == "shown once"


def test_a_workspace_scoped_application_goes_with_its_workspace(db: Database) -> None:
    team = str(add_workspace(db).workspace_id)
    applications.insert_application(db, row(workspace_id=team))
    assert applications.application_scope(db, "app-1") == (True, team)
    assert applications.application_scope(db, "nope")[0] is False
    workspaces.delete_workspace(db, team)
    assert applications.list_applications(db) == []
