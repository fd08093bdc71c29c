"""The delivery loop claims the rows it sends: two servers on one database (two stores on the
same SQLite file, or on the same PostgreSQL database under SLUICE_TEST_STORE=postgres) never
take the same notification, and a row whose sender died is taken again once its hold is over."""

from __future__ import annotations

import threading
from pathlib import Path

from server.settings import Settings
from server.store import notifications as outbox
from server.store.db import Store, open_db
from server.store.workspaces import list_workspaces

QUEUED = 40
NOW = 100
HOLD = 60


def _store(settings: Settings, key_dir: Path) -> Store:
    if settings.database_url:
        return Store(open_db(settings.database_url, "", key_dir))
    return Store(open_db(settings.db_path, ""))


def test_two_servers_never_claim_the_same_delivery(settings: Settings, tmp_path: Path) -> None:
    settings.data_path.mkdir(parents=True, exist_ok=True)
    first = _store(settings, tmp_path / "key")
    second = _store(settings, tmp_path / "key")
    try:
        workspace = str(first.read_sync(list_workspaces)[0].workspace_id)

        def queue(db: object) -> list[int]:
            return [
                outbox.insert_delivery(
                    db,  # type: ignore[arg-type]  # the store's database, whichever engine
                    workspace_id=workspace,
                    connection_id=None,
                    job_id=None,
                    event="sendOnSuccess",
                    kind="webhook",
                    url="http://127.0.0.1:9/hook",
                    body=f'{{"n": {i}}}',
                    signature=None,
                    now=NOW,
                )
                for i in range(QUEUED)
            ]

        queued = first.write_sync(queue)
        taken: list[list[int]] = [[], []]

        def drain(store: Store, into: list[int]) -> None:
            while claimed := store.write_sync(outbox.claim_deliveries, NOW, 3, HOLD):
                into.extend(d.id for d in claimed)

        threads = [
            threading.Thread(target=drain, args=(store, into))
            for store, into in zip((first, second), taken, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        every = taken[0] + taken[1]
        assert sorted(every) == sorted(queued)  # each once: none twice, none left
        # Held while being sent; due again once the hold is over (its sender died).
        assert first.write_sync(outbox.claim_deliveries, NOW + HOLD - 1, QUEUED, HOLD) == []
        again = second.write_sync(outbox.claim_deliveries, NOW + HOLD, QUEUED, HOLD)
        assert sorted(d.id for d in again) == sorted(queued)
    finally:
        first.close()
        second.close()
