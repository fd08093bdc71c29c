"""A 200 MB CSV uploaded to a real `sluice serve`: streamed to disk, so the server's peak memory
(VmHWM) grows by far less than the file; then previewed (its row count estimated)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.serving import ServerProcess

pytestmark = [pytest.mark.serve, pytest.mark.slow]

SIZE = 200 * 1024 * 1024
BOUND = 150 * 1024 * 1024
AUTH = ("airbyte", "password")


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def write_csv(path: Path) -> str:
    """A CSV of about SIZE bytes; its SHA-256."""
    digest = hashlib.sha256()
    header = b"id,name,amount,day\n"
    block = b"".join(b"%d,name-%d,%d.25,2024-01-02\n" % (i, i, i) for i in range(20_000))
    with path.open("wb") as out:
        out.write(header)
        digest.update(header)
        while out.tell() < SIZE:
            out.write(block)
            digest.update(block)
    return digest.hexdigest()


def multipart(path: Path, workspace: str, boundary: str) -> tuple[int, Iterator[bytes]]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="workspaceId"\r\n\r\n'
        f'{workspace}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        with path.open("rb") as f:
            while chunk := f.read(1024 * 1024):
                yield chunk
        yield tail

    return len(head) + path.stat().st_size + len(tail), chunks()


def test_a_200_mb_upload_keeps_server_memory_bounded(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    source = tmp_path / "big.csv"
    sha256 = write_csv(source)
    server_process.start()
    assert server_process.proc is not None
    pid = server_process.proc.pid
    url = server_process.url
    with httpx.Client(base_url=url, auth=AUTH, timeout=120) as client:
        workspace = client.post("/api/v1/workspaces/list", json={}).json()["workspaces"][0]
        baseline = peak_rss(pid)
        boundary = uuid.uuid4().hex
        length, body = multipart(source, workspace["workspaceId"], boundary)
        reply = client.post(
            "/api/v1/files/upload",
            content=body,
            headers={
                "content-type": f"multipart/form-data; boundary={boundary}",
                "content-length": str(length),
            },
        )
        assert reply.status_code == 200, reply.text
        file = reply.json()
        grown = peak_rss(pid) - baseline
        print(f"server peak RSS: baseline {baseline >> 20} MiB, grew {grown >> 20} MiB")
        assert file["sha256"] == sha256 and file["sizeBytes"] == source.stat().st_size
        assert grown < BOUND, f"peak RSS grew by {grown >> 20} MiB for a {SIZE >> 20} MiB file"

        shown = client.post("/api/v1/files/preview", json={"fileId": file["fileId"]}).json()
        assert shown["rowCountExact"] is False
        with source.open("rb") as f:
            rows = sum(1 for _ in f) - 1
        assert abs(shown["rowCount"] - rows) < rows * 0.05
        assert [c["type"] for c in shown["columns"]] == ["integer", "string", "number", "string"]
        assert peak_rss(pid) - baseline < BOUND
