"""A connection from a file source (source-file reading rows.csv under /local) into SQLite,
made through the config API: the UI's schema-change and mapper tests share it."""

from __future__ import annotations

from typing import Any

import httpx

from server.settings import Settings
from tests.support.api_jobs import SQLITE, make_destination, make_source, ok

FILE = "778daa7c-feaf-4db6-96f3-70fd645acc77"
FIRST = "id,title,updated_at\n1,a,2024-01-01\n"


async def file_connection(api: httpx.AsyncClient, settings: Settings, **config: Any) -> str:
    """The connection's id; its one stream `rows` takes `config` (sync mode, cursor...)."""
    (settings.local_path / "rows.csv").write_text(FIRST)
    source = await make_source(
        api,
        {
            "dataset_name": "rows",
            "format": "csv",
            "url": "/local/rows.csv",
            "provider": {"storage": "local"},
        },
        FILE,
    )
    destination = await make_destination(api, SQLITE, {"destination_path": "/local/out.db"})
    (item,) = (await ok(api, "sources/discover_schema", {"sourceId": source}))["catalog"]["streams"]
    stream_config = {**item["config"], "destinationSyncMode": "append", **config}
    body = {
        "sourceId": source,
        "destinationId": destination,
        "status": "active",
        "syncCatalog": {"streams": [{"stream": item["stream"], "config": stream_config}]},
    }
    return str((await ok(api, "connections/create", body))["connectionId"])
