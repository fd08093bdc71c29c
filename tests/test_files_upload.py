"""files/upload's refusals: broken files of each format, a multipart body cut short, a file
over the limit, a body that is not multipart; each a 4xx naming the problem, with nothing kept.
And a workspace-scoped key sees only its workspace's files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from tests.conftest import running
from tests.support.api_jobs import fast_settings, ok
from tests.support.api_jobs import workspace_id as first_workspace
from tests.support.auth import api_key, bearer
from tests.support.files import SAMPLES, stored_files, upload, uploaded

LIMIT = 64 * 1024


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fast_settings(tmp_path, upload_max_bytes=LIMIT))) as c:
        yield c


def data_dir(tmp_path: Path) -> Path:
    return fast_settings(tmp_path).data_path


# format -> (file name, bytes, words the refusal says)
BROKEN = {
    "csv": ("bad.csv", b"a,b\n1,\x00\x00\x01\x02\n", "NUL bytes"),
    "json": ("bad.json", b'[{"a": 1}, {"a": ', "not JSON"),
    "jsonl": ("bad.jsonl", b'{"a": 1}\n{"a": \n', "line 2 is not JSON"),
    "parquet": ("bad.parquet", SAMPLES["parquet"][1][:-40], "parquet"),
    "feather": ("bad.feather", SAMPLES["feather"][1][:-64], "feather"),
    "excel": ("bad.xlsx", b"this is not a zip archive", "not a zip archive"),
    "avro": ("bad.avro", SAMPLES["avro"][1][:-20], "avro"),
}


@pytest.mark.parametrize("fmt", list(BROKEN))
async def test_a_broken_file_is_refused_and_not_kept(
    client: httpx.AsyncClient, tmp_path: Path, fmt: str
) -> None:
    name, data, words = BROKEN[fmt]
    workspace = await first_workspace(client)
    reply = await upload(client, workspace, name, data, format=fmt)
    assert reply.status_code == 400, reply.text
    assert name in reply.json()["message"] and words in reply.json()["message"]
    assert stored_files(data_dir(tmp_path)) == []
    assert (await ok(client, "files/list", {"workspaceId": workspace}))["files"] == []


async def test_an_xlsx_that_is_not_a_zip_is_refused_by_its_name_too(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    reply = await upload(client, await first_workspace(client), "sheet.xlsx", b"a,b\n1,2\n")
    assert reply.status_code == 400
    assert "not a zip archive" in reply.json()["message"]
    assert stored_files(data_dir(tmp_path)) == []


async def test_a_multipart_body_cut_short_is_refused(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    workspace = await first_workspace(client)
    request = client.build_request(
        "POST",
        "/api/v1/files/upload",
        data={"workspaceId": workspace},
        files={"file": ("people.csv", SAMPLES["csv"][1])},
    )
    body = request.read()
    cut = body[: len(body) - 30]  # the closing boundary is gone
    reply = await client.post(
        "/api/v1/files/upload",
        content=cut,
        headers={"content-type": request.headers["content-type"]},
    )
    assert reply.status_code == 400, reply.text
    assert "cut short" in reply.json()["message"]
    assert stored_files(data_dir(tmp_path)) == []


async def test_a_file_over_the_limit_is_413_and_not_kept(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    big = b"a,b\n" + b"1,2\n" * (LIMIT // 4 + 10)
    reply = await upload(client, await first_workspace(client), "big.csv", big)
    assert reply.status_code == 413, reply.text
    assert f"larger than {LIMIT} bytes" in reply.json()["message"]
    assert "SLUICE_UPLOAD_MAX_BYTES" in reply.json()["message"]
    assert stored_files(data_dir(tmp_path)) == []


async def test_a_body_that_is_not_multipart_is_415(client: httpx.AsyncClient) -> None:
    reply = await client.post("/api/v1/files/upload", json={"workspaceId": "x"})
    assert reply.status_code == 415
    assert "multipart/form-data" in reply.json()["message"]


async def test_a_missing_workspace_is_named(client: httpx.AsyncClient, tmp_path: Path) -> None:
    reply = await client.post(
        "/api/v1/files/upload", files={"file": ("people.csv", SAMPLES["csv"][1])}
    )
    assert reply.status_code == 422
    assert reply.json()["validationErrors"][0]["propertyPath"] == "workspaceId"
    unknown = "8d0e51c3-5f7e-4a59-9a5c-5b4c1b2d3e4f"
    reply = await upload(client, unknown, "people.csv", SAMPLES["csv"][1])
    assert reply.status_code == 404
    assert stored_files(data_dir(tmp_path)) == []


async def test_delete_removes_the_bytes(client: httpx.AsyncClient, tmp_path: Path) -> None:
    file = await uploaded(client, await first_workspace(client), "people.csv", SAMPLES["csv"][1])
    kept = stored_files(data_dir(tmp_path))
    assert [p.name for p in kept] == [f"{file['fileId']}.csv"]
    assert oct(kept[0].stat().st_mode & 0o777) == "0o600"
    assert oct(kept[0].parent.stat().st_mode & 0o777) == "0o700"
    reply = await client.post("/api/v1/files/delete", json={"fileId": file["fileId"]})
    assert reply.status_code == 204
    assert stored_files(data_dir(tmp_path)) == []
    reply = await client.post("/api/v1/files/get", json={"fileId": file["fileId"]})
    assert reply.status_code == 404


async def test_preview_reports_ragged_rows_and_bad_bytes(client: httpx.AsyncClient) -> None:
    data = b"id,name\n1,ada\n2,b\xe9a,extra\n3\n"
    file = await uploaded(client, await first_workspace(client), "odd.csv", data)
    assert file["options"]["encoding"] == "latin-1"  # not UTF-8: read as latin-1
    shown = await ok(
        client, "files/preview", {"fileId": file["fileId"], "options": {"encoding": "utf-8"}}
    )
    kinds = [(p["row"], p["kind"]) for p in shown["problems"]]
    assert kinds == [(2, "ragged_row"), (2, "bad_encoding"), (3, "ragged_row")]


async def test_a_scoped_key_sees_only_its_workspace_files(client: httpx.AsyncClient) -> None:
    mine = await first_workspace(client)
    other = (await ok(client, "workspaces/create", {"name": "other"}))["workspaceId"]
    theirs = await uploaded(client, other, "people.csv", SAMPLES["csv"][1])
    token = bearer(await api_key(client, mine))["Authorization"]

    def scoped(request: httpx.Request) -> httpx.Request:
        # In place of the client's admin credential.
        request.headers["Authorization"] = token
        return request

    for path in ("files/get", "files/preview", "files/delete"):
        reply = await client.post(f"/api/v1/{path}", json={"fileId": theirs["fileId"]}, auth=scoped)
        assert reply.status_code == 404, (path, reply.text)
    reply = await client.post("/api/v1/files/list", json={"workspaceId": other}, auth=scoped)
    assert reply.status_code == 404
    reply = await client.post(
        "/api/v1/files/upload",
        data={"workspaceId": other},
        files={"file": ("people.csv", SAMPLES["csv"][1])},
        auth=scoped,
    )
    assert reply.status_code == 403
    reply = await client.post(
        "/api/v1/files/upload",
        data={"workspaceId": mine},
        files={"file": ("people.csv", SAMPLES["csv"][1])},
        auth=scoped,
    )
    assert reply.status_code == 200
    listed = await client.post("/api/v1/files/list", json={"workspaceId": mine}, auth=scoped)
    assert [f["fileId"] for f in listed.json()["files"]] == [reply.json()["fileId"]]
    still = await ok(client, "files/get", {"fileId": theirs["fileId"]})
    assert still["fileId"] == theirs["fileId"]  # nothing of the other workspace's went


async def test_formats_lists_each_with_its_options(client: httpx.AsyncClient) -> None:
    formats = {f["format"]: f for f in (await ok(client, "files/formats"))["formats"]}
    assert list(formats) == list(SAMPLES)
    csv_options = {o["name"]: o for o in formats["csv"]["options"]}
    assert csv_options["delimiter"]["detected"] is True
    assert "sheet_name" in {o["name"] for o in formats["excel"]["options"]}
