#!/usr/bin/env python3
"""Screenshots of the web UI's main pages for the README: docs/screenshots/*.png (1280x800).

Starts `python -m server serve` on a free loopback port with a throwaway data directory, sets
up two connections through the Configuration API (a CSV file into SQLite, synced once; a test
source into /dev/null whose sync fails), then signs in with Playwright driving Debian's
chromium and captures the connections list, a connection, a job's log and a source's form.

    python scripts/screenshots.py [--out docs/screenshots]

Needs `chromium` (apt-get install chromium) and the test extra's `playwright`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
AUTH = ("airbyte", "password")
FILE_SOURCE = "778daa7c-feaf-4db6-96f3-70fd645acc77"
E2E_TEST = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"
PEOPLE = "id,name,city,signed_up\n" + "".join(
    f"{i},Person {i},{('Lisbon', 'Oslo', 'Quito', 'Osaka')[i % 4]},2026-0{1 + i % 9}-1{i % 10}\n"
    for i in range(1, 251)
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SLUICE_DATA_DIR": str(data_dir), "SLUICE_PORT": str(port)}
    env["SLUICE_SYNC_RETRY_BACKOFF_SECONDS"] = "0"
    env["SLUICE_SYNC_MAX_ATTEMPTS"] = "1"
    log = (data_dir.parent / "server.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: see {data_dir.parent / 'server.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).is_success:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def call(api: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    r = api.post(f"/api/v1/{path}", json=body)
    if not r.is_success:
        raise SystemExit(f"{path}: {r.status_code} {r.text}")
    return r.json() if r.content else None


def connect(api: httpx.Client, source: str, destination: str, name: str) -> str:
    found = call(api, "sources/discover_schema", {"sourceId": source})["catalog"]["streams"]
    streams = []
    for entry in found:
        config = {**(entry.get("config") or {}), "selected": True, "syncMode": "full_refresh"}
        streams.append(
            {"stream": entry["stream"], "config": {**config, "destinationSyncMode": "overwrite"}}
        )
    body = {
        "name": name,
        "sourceId": source,
        "destinationId": destination,
        "status": "active",
        "syncCatalog": {"streams": streams},
        "scheduleType": "cron",
        "scheduleData": {"cron": {"cronExpression": "0 0 6 * * ?", "cronTimeZone": "UTC"}},
    }
    return str(call(api, "connections/create", body)["connectionId"])


def sync(api: httpx.Client, connection: str) -> int:
    job = int(call(api, "connections/sync", {"connectionId": connection})["job"]["id"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = call(api, "jobs/get", {"id": job})["job"]["status"]
        if status in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.3)
    raise SystemExit(f"job {job} did not end")


def set_up(api: httpx.Client, data_dir: Path) -> dict[str, str]:
    local = data_dir / "local"
    local.mkdir(parents=True, exist_ok=True)
    (local / "people.csv").write_text(PEOPLE)
    workspace = call(api, "workspaces/list", {})["workspaces"][0]["workspaceId"]

    def make(kind: str, definition: str, name: str, config: dict[str, Any]) -> str:
        body = {
            "workspaceId": workspace,
            f"{kind}DefinitionId": definition,
            "name": name,
            "connectionConfiguration": config,
        }
        return str(call(api, f"{kind}s/create", body)[f"{kind}Id"])

    people = make(
        "source",
        FILE_SOURCE,
        "People CSV",
        {
            "dataset_name": "people",
            "format": "csv",
            "url": "/local/people.csv",
            "provider": {"storage": "local"},
        },
    )
    feed = make(
        "source",
        E2E_TEST,
        "Demo feed",
        {"max_messages": 500, "fault": {"mode": "fail", "after_records": 120}},
    )
    warehouse = make(
        "destination", SQLITE, "Warehouse", {"destination_path": "/local/warehouse.db"}
    )
    null = make(
        "destination", DEV_NULL, "Null", {"test_destination": {"test_destination_type": "SILENT"}}
    )
    good = connect(api, people, warehouse, "People → Warehouse")
    bad = connect(api, feed, null, "Demo feed → Null")
    job = sync(api, good)
    sync(api, bad)
    return {"connection": good, "job": str(job)}


def shoot(base: str, out: Path, made: dict[str, str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no chromium: apt-get install chromium")
    shots = [
        ("connections.png", "/connections"),
        ("connection.png", f"/connections/{made['connection']}"),
        ("job-log.png", f"/jobs/{made['job']}"),
        ("source-form.png", f"/sources/new?definition={E2E_TEST}"),
    ]
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 800})
        page.goto("/login")
        page.get_by_label("Username").fill(AUTH[0])
        page.get_by_label("Password").fill(AUTH[1])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/connections"))
        for name, path in shots:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            target = out / name
            page.screenshot(path=str(target), full_page=False)
            written.append(target)
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sluice-shots-") as tmp:
        data_dir = Path(tmp) / "data"
        port = free_port()
        proc = start_server(data_dir, port)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, auth=AUTH, timeout=120) as api:
                made = set_up(api, data_dir)
            for path in shoot(base, args.out, made):
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                print(f"{shown}: {path.stat().st_size // 1024} KiB")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
