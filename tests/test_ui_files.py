"""The web UI's Files pages with real connectors: a CSV uploaded through the page's multipart
form, its preview (columns, types, rows, row count, problems), an import into a SQLite
destination whose job writes the file's rows, delete; an upload whose first fields lack the
form's CSRF token (forged, after the file, or only in the URL) is refused before anything is
stored."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from tests.conftest import running
from tests.support.api_jobs import SQLITE, fast_settings, make_destination, ok, wait_job
from tests.support.files import ROWS, csv_bytes, stored_files
from tests.support.ui import CSRF, browser, csrf_of, sign_in

FORM = re.compile(r'<form method="post" action="(/files/upload)"[^>]*>\s*<input [^>]*>')


@pytest.fixture
async def ui(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    app: Starlette = create_app(fast_settings(tmp_path))
    async with running(app) as api, browser(app) as b:
        assert (await sign_in(b)).status_code == 303
        yield b, api


async def upload(b: httpx.AsyncClient, name: str, data: bytes, **fields: str) -> httpx.Response:
    page = await b.get("/files")
    assert page.status_code == 200, page.text
    found = FORM.search(page.text)
    assert found, page.text
    # The token is the form's first field, not in its action (so not in the access log).
    assert CSRF.search(found.group(0)), found.group(0)
    # httpx sends the data fields in order, before the file: the token first, as a browser does.
    sent = {"csrf_token": csrf_of(page), **fields}
    return await b.post(found.group(1), data=sent, files={"file": (name, data, "text/csv")})


async def test_upload_preview_and_import_into_sqlite(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient], tmp_path: Path
) -> None:
    b, api = ui
    destination = await make_destination(
        api, SQLITE, {"destination_path": "/local/ui-files.db"}, name="Local db"
    )
    r = await upload(b, "people.csv", csv_bytes())
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/files/([0-9a-f-]{36})", r.headers["location"])
    assert found, r.headers["location"]
    file_id = found.group(1)

    page = await b.get(f"/files/{file_id}")
    assert page.status_code == 200 and "people.csv uploaded." in page.text
    listed = await b.get("/files")
    assert "people.csv" in listed.text and f"/files/{file_id}" in listed.text
    columns = re.search(r'<table id="columns">(.*?)</table>', page.text, re.S)
    assert columns
    for name, kind in (("id", "integer"), ("name", "string"), ("score", "number")):
        assert re.search(rf"<th scope=\"row\">{name}</th><td>{kind}", columns.group(1)), name
    assert re.search(r'<th scope="row">name</th><td>string</td><td>yes</td>', columns.group(1))
    assert re.search(r'<th scope="row">id</th><td>integer</td><td>no</td>', columns.group(1))
    rows = re.search(r'<table id="rows">(.*?)</table>', page.text, re.S)
    assert rows and "ada" in rows.group(1) and "cyd" in rows.group(1)
    assert '<p id="row-count">3 rows;' in page.text  # counted, not estimated
    assert "Local db" in page.text

    r = await b.post(
        f"/files/{file_id}/import",
        data={
            "csrf_token": csrf_of(page),
            "destination": destination,
            "table_name": "people",
            "rename.name": "full_name",
            "rename.id": "",
        },
    )
    assert r.status_code == 303, r.text
    job = re.fullmatch(r"/jobs/(\d+)", r.headers["location"])
    assert job, r.headers["location"]
    info = await wait_job(api, int(job.group(1)), timeout=120)
    assert info["job"]["status"] == "succeeded", info["attempts"][-1]
    log_page = await b.get(r.headers["location"])
    assert log_page.status_code == 200 and "Import started" in log_page.text
    with sqlite3.connect(fast_settings(tmp_path).local_path / "ui-files.db") as db:
        got = db.execute("SELECT id, full_name FROM people ORDER BY id").fetchall()
    assert got == [(row["id"], row["name"]) for row in ROWS]

    # A rename of a column the file lacks is the core's refusal, shown as a flash message.
    page = await b.get(f"/files/{file_id}")
    r = await b.post(
        f"/files/{file_id}/import",
        data={
            "csrf_token": csrf_of(page),
            "destination": destination,
            "table_name": "people",
            "rename.nope": "x",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"/files/{file_id}"
    assert "columnRenames names columns" in (await b.get(r.headers["location"])).text

    page = await b.get(f"/files/{file_id}")
    r = await b.post(f"/files/{file_id}/delete", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303 and r.headers["location"] == "/files"
    assert (await b.get(f"/files/{file_id}")).status_code == 404
    workspace = (await ok(api, "workspaces/list"))["workspaces"][0]["workspaceId"]
    assert (await ok(api, "files/list", {"workspaceId": workspace}))["files"] == []


async def test_an_upload_without_the_csrf_token_stores_nothing(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient], tmp_path: Path
) -> None:
    b, api = ui
    data_dir = fast_settings(tmp_path).data_path
    token = csrf_of(await b.get("/files"))
    file = {"file": ("people.csv", csv_bytes(), "text/csv")}
    refused: list[tuple[str, dict[str, str]]] = [
        ("/files/upload", {}),
        ("/files/upload", {"csrf_token": "forged", "format": "csv"}),
        ("/files/upload", {"csrf_token": ""}),
        # In the URL it does not count: the token travels only as a field.
        (f"/files/upload?csrf_token={token}", {}),
    ]
    for action, fields in refused:
        r = await b.post(action, data=fields, files=file)
        assert r.status_code == 403, (action, fields, r.text)
        assert "did not come from this site" in r.text
        assert r.headers["connection"] == "close"
    # The right token after the file does not count either: the file would be stored first.
    request = b.build_request("POST", "/files/upload", files=file)
    body = request.read()
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    late = (
        f'--{boundary.decode()}\r\ncontent-disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{token}\r\n"
    ).encode()
    closing = b"--" + boundary + b"--\r\n"
    assert body.endswith(closing)
    r = await b.post(
        "/files/upload",
        content=body[: -len(closing)] + late + closing,
        headers={"content-type": request.headers["content-type"]},
    )
    assert r.status_code == 403, r.text
    # Without a file part, a forged token is refused the same way.
    r = await b.post("/files/upload", data={"csrf_token": "forged"}, files={"other": b"x"})
    assert r.status_code == 403
    assert stored_files(data_dir) == []
    workspace = (await ok(api, "workspaces/list"))["workspaces"][0]["workspaceId"]
    assert (await ok(api, "files/list", {"workspaceId": workspace}))["files"] == []


async def test_a_file_that_does_not_read_is_refused_with_its_reason(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient], tmp_path: Path
) -> None:
    b, _ = ui
    r = await upload(b, "empty.csv", b"")
    assert r.status_code == 303 and r.headers["location"] == "/files"
    shown = await b.get("/files")
    assert "no header row" in shown.text and "flash-error" in shown.text
    r = await upload(b, "people.csv", csv_bytes(), options="[1]")
    assert "must be a JSON object" in (await b.get(r.headers["location"])).text
    assert stored_files(fast_settings(tmp_path).data_path) == []
    # Not multipart: refused, nothing kept.
    r = await b.post("/files/upload", data={"csrf_token": csrf_of(await b.get("/files"))})
    assert r.status_code == 303 and r.headers["location"] == "/files"
    assert stored_files(fast_settings(tmp_path).data_path) == []


async def test_the_preview_lists_problems_with_their_rows(
    ui: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    b, _ = ui
    r = await upload(b, "ragged.csv", b"a,b\n1,2\n3,4,5\n6,7\n")
    assert r.status_code == 303 and r.headers["location"].startswith("/files/")
    page = await b.get(r.headers["location"])
    problems = re.search(r'<ul id="problems">(.*?)</ul>', page.text, re.S)
    assert problems and "Row 2:" in problems.group(1) and "ragged_row" in problems.group(1)
    # Read another way: the options are the query's, the page says what it read.
    page = await b.get(r.headers["location"] + "?format=csv&options=%7B%22sep%22%3A%20%22%3B%22%7D")
    assert page.status_code == 200 and "&#34;sep&#34;: &#34;;&#34;" in page.text
    bad = await b.get(r.headers["location"] + "?options=%5B%5D")
    assert bad.status_code == 400 and "JSON object" in bad.text


async def test_a_file_over_the_limit_is_refused_and_not_kept(tmp_path: Path) -> None:
    app: Starlette = create_app(fast_settings(tmp_path, upload_max_bytes=1024))
    async with running(app), browser(app) as b:
        assert (await sign_in(b)).status_code == 303
        r = await upload(b, "big.csv", b"a,b\n" + b"1,2\n" * 2000)
        assert r.status_code == 303 and r.headers["location"] == "/files"
        assert r.headers["connection"] == "close"
        assert "larger than 1024 bytes" in (await b.get("/files")).text
    assert stored_files(fast_settings(tmp_path).data_path) == []
