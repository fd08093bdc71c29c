"""Shared by the client drivers in this folder: set up objects through Sluice's API.

Standard library only, so it runs inside each client's own virtualenv whatever that holds.
The base URL comes from SLUICE_URL (default http://127.0.0.1:8000); requests carry Airbyte's
OSS default Basic credentials, as the clients send them. `call` speaks the Configuration API
(/api/v1), `public` the public API (/api/public/v1).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

E2E_TESTING = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
LOCAL_SQLITE = "b76be0a6-27dc-4560-95f6-2623da0bd7b6"
FAKER = "dfd88b22-b603-4c3d-aad7-3701784586b1"
PUBLIC_PATH = "/api/public/v1"
USERNAME, PASSWORD = "airbyte", "password"


def base_url() -> str:
    return os.environ.get("SLUICE_URL", "http://127.0.0.1:8000").rstrip("/")


def host_and_port() -> tuple[str, int]:
    host_port = base_url().split("://", 1)[1]
    host, _, port = host_port.partition(":")
    return host, int(port or 80)


def public_url() -> str:
    return base_url() + PUBLIC_PATH


def basic_header() -> str:
    return "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()


def call(path: str, body: dict[str, Any] | None = None) -> Any:
    """POST /api/v1/<path> with a JSON body; the decoded reply (None for a 204)."""
    token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        f"{base_url()}/api/v1/{path}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            data = reply.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{path}: HTTP {exc.code} {exc.read().decode()[:500]}") from None
    return json.loads(data) if data else None


def public(
    method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    """`method` /api/public/v1/<path> (a JSON body if given), as the admin by Basic or with a
    Bearer `token`; the decoded reply (None for an empty one)."""
    request = urllib.request.Request(
        f"{public_url()}/{path.lstrip('/')}",
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {token}" if token else basic_header(),
        },
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            data = reply.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(
            f"{method} {path}: HTTP {exc.code} {exc.read().decode()[:500]}"
        ) from None
    return json.loads(data) if data else None


def create_application(name: str) -> tuple[str, str]:
    """A new application (configuration API, as the admin): its client id and secret."""
    app = call("applications/create", {"name": name})
    return str(app["clientId"]), str(app["clientSecret"])


def mint_token(client_id: str, client_secret: str) -> str:
    """A Bearer token from the public API's token endpoint (form-encoded, as the SDK sends)."""
    request = urllib.request.Request(
        f"{public_url()}/applications/token",
        data=urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
            }
        ).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return str(json.loads(reply.read())["access_token"])
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"token: HTTP {exc.code} {exc.read().decode()[:500]}") from None


def use_faker_process() -> None:
    """Run Airbyte's source-faker as the local program scripts/setup.sh installs (its
    definition says docker by default), as the README walkthrough does."""
    call("source_definitions/update", {"sourceDefinitionId": FAKER, "runner": "process"})


def workspace_id() -> str:
    return str(call("workspaces/list")["workspaces"][0]["workspaceId"])


def make_connection(
    name: str, records: int = 50, interval_ms: int = 0, streams: int = 2
) -> dict[str, Any]:
    """E2E Testing source -> Local SQLite destination, every stream selected, full refresh.
    `interval_ms` slows the source down (for cancelling a running sync)."""
    workspace = workspace_id()
    source = call(
        "sources/create",
        {
            "workspaceId": workspace,
            "sourceDefinitionId": E2E_TESTING,
            "name": f"{name} source",
            "connectionConfiguration": {
                "type": "CONTINUOUS_FEED",
                "max_messages": records,
                "message_interval_ms": interval_ms,
                "mock_catalog": {
                    "type": "SINGLE_STREAM",
                    "stream_name": "data_stream",
                    "stream_duplication": streams,
                },
            },
        },
    )
    destination = call(
        "destinations/create",
        {
            "workspaceId": workspace,
            "destinationDefinitionId": LOCAL_SQLITE,
            "name": f"{name} destination",
            "connectionConfiguration": {"destination_path": f"/local/{name}.db"},
        },
    )
    discovered = call("sources/discover_schema", {"sourceId": source["sourceId"]})
    catalog = discovered["catalog"]
    for entry in catalog["streams"]:
        entry["config"].update(
            selected=True, syncMode="full_refresh", destinationSyncMode="overwrite"
        )
    return call(
        "connections/create",
        {
            "name": name,
            "sourceId": source["sourceId"],
            "destinationId": destination["destinationId"],
            "status": "active",
            "syncCatalog": catalog,
            "scheduleType": "manual",
            "namespaceDefinition": "destination",
            "prefix": f"{name}_",
        },
    )  # type: ignore[no-any-return]


def wait_for_status(job_id: int, statuses: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = call("jobs/get", {"id": job_id})["job"]
        if job["status"] in statuses or time.monotonic() > deadline:
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)


class Abort(Exception):
    """A step failed; the rest of its flow cannot run."""


class Checks:
    """Collects named checks; `done()` prints PASS/FAIL per check and returns the exit code."""

    def __init__(self, client: str) -> None:
        self.client = client
        self.failed: list[str] = []

    def check(self, name: str, condition: bool, detail: object = "") -> None:
        print(f"  {'ok  ' if condition else 'FAIL'} {name}{f': {detail}' if detail else ''}")
        if not condition:
            self.failed.append(name)

    def step(self, name: str, action: Callable[[], T]) -> T:
        """Run one client call: its exception is a FAIL line (with the call's last frames)
        and ends the flow it belongs to (raised as Abort)."""
        try:
            return action()
        except Exception as exc:  # any client error is the check's result
            frames = traceback.extract_tb(exc.__traceback__)[-2:]
            where = "; ".join(
                f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.line}" for f in frames
            )
            wire = ""
            reply = getattr(exc, "raw_response", None)  # the SDKs' HTTP errors keep the reply
            if reply is not None and getattr(reply, "request", None) is not None:
                wire = f" <{reply.request.method} {reply.request.url} -> {reply.status_code}>"
            self.check(name, False, f"{type(exc).__name__}: {str(exc)[:800]}{wire} [{where}]")
            raise Abort(name) from exc

    def done(self) -> int:
        verdict = "FAIL" if self.failed else "PASS"
        print(f"{verdict} {self.client}" + (f" ({', '.join(self.failed)})" if self.failed else ""))
        sys.stdout.flush()
        return 1 if self.failed else 0
