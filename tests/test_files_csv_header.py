"""files/upload and a CSV's header row: a file with none (empty, or a blank first line) names no
column and is refused with nothing kept; any header with a cell is a CSV, a one-byte `;`
included (a blank header cell is a column named column_<n>)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from tests.conftest import running
from tests.support.api_jobs import fast_settings, ok
from tests.support.api_jobs import workspace_id as first_workspace
from tests.support.files import stored_files, upload


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path))) as c:
        yield c


@pytest.mark.parametrize("data", [b"", b"\n", b"\r\n", b"\xef\xbb\xbf", b"\n1,2\n"])
async def test_a_csv_without_a_header_row_is_refused(
    client: httpx.AsyncClient, tmp_path: Path, data: bytes
) -> None:
    workspace = await first_workspace(client)
    reply = await upload(client, workspace, "empty.csv", data)
    assert reply.status_code == 400, reply.text
    assert reply.json()["message"] == "empty.csv: the file has no header row naming its columns"
    assert stored_files(fast_settings(tmp_path).data_path) == []
    assert (await ok(client, "files/list", {"workspaceId": workspace}))["files"] == []


@pytest.mark.parametrize("data", [b";", b",", b"a", b";\n1;2\n", b"\xef\xbb\xbfid\n1\n"])
async def test_a_header_with_a_cell_is_a_csv(client: httpx.AsyncClient, data: bytes) -> None:
    reply = await upload(client, await first_workspace(client), "one.csv", data)
    assert reply.status_code == 200, reply.text
    assert reply.json()["format"] == "csv"


async def test_names_given_with_no_header_row_need_none(client: httpx.AsyncClient) -> None:
    reply = await upload(
        client,
        await first_workspace(client),
        "rows.csv",
        b"1,ada\n",
        options='{"header": null, "names": ["id", "name"]}',
    )
    assert reply.status_code == 200, reply.text
    shown = await ok(client, "files/preview", {"fileId": reply.json()["fileId"]})
    assert [c["name"] for c in shown["columns"]] == ["id", "name"]


async def test_a_header_alone_previews_its_columns_as_nullable_strings(
    client: httpx.AsyncClient,
) -> None:
    reply = await upload(client, await first_workspace(client), "head.csv", b"id;name;\n")
    assert reply.status_code == 200, reply.text
    shown = await ok(client, "files/preview", {"fileId": reply.json()["fileId"]})
    columns = [(c["name"], c["type"], c["nullable"]) for c in shown["columns"]]
    assert columns == [
        ("id", "string", True),
        ("name", "string", True),
        ("column_3", "string", True),
    ]
    assert (shown["rows"], shown["rowCount"]) == ([], 0)


async def test_columns_come_in_the_headers_order(client: httpx.AsyncClient) -> None:
    # The first row leaves "b" empty (a null): it is still the header's second column.
    data = b"a,b,c\n1,,x\n2,5,y\n"
    reply = await upload(client, await first_workspace(client), "order.csv", data)
    shown = await ok(client, "files/preview", {"fileId": reply.json()["fileId"]})
    assert [(c["name"], c["type"]) for c in shown["columns"]] == [
        ("a", "integer"),
        ("b", "integer"),
        ("c", "string"),
    ]
