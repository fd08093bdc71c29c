"""store/workspaces.py on a fresh in-memory database."""

from __future__ import annotations

import msgspec
import pytest
from sqlite_utils import Database

from server.store import workspaces
from tests.support.store import add_connection, add_workspace
from tests.support.store_errors import NOT_FOUND


def test_a_fresh_database_has_the_default_workspace(db: Database) -> None:
    [default] = workspaces.list_workspaces(db)
    assert (default.name, default.slug) == ("Default Workspace", "default")
    assert workspaces.get_workspace_by_slug(db, "default") == default


def test_insert_get_update_delete(db: Database) -> None:
    team = add_workspace(db, "Data Team")
    assert team.slug == "data-team"
    assert workspaces.get_workspace(db, str(team.workspace_id)) == team
    renamed = msgspec.structs.replace(team, name="Renamed")
    workspaces.update_workspace(db, renamed)
    assert workspaces.get_workspace(db, str(team.workspace_id)).name == "Renamed"
    workspaces.delete_workspace(db, str(team.workspace_id))
    with pytest.raises(NOT_FOUND, match="Could not find workspace"):
        workspaces.get_workspace(db, str(team.workspace_id))
    with pytest.raises(NOT_FOUND):
        workspaces.delete_workspace(db, str(team.workspace_id))


def test_slugs_stay_unique(db: Database) -> None:
    assert workspaces.unique_slug(db, "Default!") == "default-2"
    assert add_workspace(db, "Team").slug == "team"
    assert add_workspace(db, "team").slug == "team-2"
    assert workspaces.slugify("***") == "workspace"


def test_deleting_a_workspace_deletes_what_is_in_it(db: Database) -> None:
    team = add_workspace(db)
    from tests.support.store import add_destination, add_source

    source = add_source(db, team.workspace_id)
    add_connection(db, source, add_destination(db, team.workspace_id))
    workspaces.delete_workspace(db, str(team.workspace_id))
    for table in ("sources", "destinations", "connections"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
