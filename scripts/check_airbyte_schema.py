#!/usr/bin/env python3
"""Validate Sluice's replies against Airbyte's own response schemas.

Airbyte's `config.yaml` (airbyte-api/server-api/src/main/openapi/config.yaml in
airbytehq/airbyte-platform) is not part of this repository; pass its path. The script runs the
app in-process on a temporary data directory, drives the operations both serve with real
built-in connectors, and checks every 200 reply against Airbyte's schema for that operation.

    python scripts/check_airbyte_schema.py /path/to/airbyte/config.yaml

Run it against today's document and against an early one (the 2020 version in the same
repository's history, which the early clients were written against). Exit 1 with one line per
mismatch (operation, JSON path, message), 0 when every reply validates.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402

from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402

E2E = "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a"
DEV_NULL = "a7bcc9d8-13b3-4e49-b80d-d020b90045e3"
Json = dict[str, Any]


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0 to JSON Schema: `nullable: true` becomes a `null` alternative, and so does
    every optional property, since Airbyte's server (Jackson) sends an unset field as null."""
    if isinstance(node, list):
        return [json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: json_schema(v) for k, v in node.items() if k != "nullable"}
    required = set(r) if isinstance(r := node.get("required"), list) else set()
    if isinstance(out.get("properties"), dict):
        out["properties"] = {
            k: v if k in required else {"anyOf": [v, {"type": "null"}]}
            for k, v in out["properties"].items()
        }
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


# Required names Airbyte's document spells in snake case while naming the property in camel
# case (which is what its server sends): no reply satisfies both, Airbyte's own included.
KNOWN_DEFECTS = {"AirbyteStream": "json_schema", "SourceDiscoverSchemaRead": "job_info"}


def without_known_defects(document: Json) -> Json:
    for name, field in KNOWN_DEFECTS.items():
        schema = document.get("components", {}).get("schemas", {}).get(name, {})
        if field in (schema.get("required") or []):
            schema["required"] = [r for r in schema["required"] if r != field]
    return document


_formats = jsonschema.FormatChecker()


@_formats.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


class Checker:
    def __init__(self, document: Json) -> None:
        self.document = json_schema(without_known_defects(document))
        resource = Resource.from_contents(self.document, default_specification=DRAFT7)
        self.registry: Registry[Any] = Registry().with_resource("urn:airbyte", resource)
        self.problems: list[str] = []
        self.checked: set[str] = set()

    def check(self, path: str, reply: Any, method: str = "post") -> None:
        op = self.document["paths"].get(f"/v1/{path}", {}).get(method)
        if op is None:
            return
        content = op["responses"].get("200", {}).get("content", {})
        schema = next(iter(content.values()), {}).get("schema")
        if schema is None:
            return
        self.checked.add(path)
        validator = jsonschema.Draft7Validator(
            {"$ref": f"urn:airbyte{schema['$ref']}"} if "$ref" in schema else schema,
            registry=self.registry,
            format_checker=_formats,
        )
        for error in validator.iter_errors(reply):
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
            self.problems.append(f"{path}: ${where}: {error.message[:200]}")


def drive(client: TestClient, checker: Checker) -> None:
    def call(path: str, body: Json) -> Json:
        r = client.post(f"/api/v1/{path}", json=body)
        assert r.status_code in (200, 204), f"{path}: {r.status_code} {r.text}"
        reply: Json = r.json() if r.status_code == 200 else {}
        checker.check(path, reply)
        return reply

    health = client.get("/api/v1/health")
    checker.check("health", health.json(), "get")
    ws = call("workspaces/list", {})["workspaces"][0]
    wid = ws["workspaceId"]
    call("workspaces/get", {"workspaceId": wid})
    call("workspaces/get_by_slug", {"slug": ws["slug"]})
    call("workspaces/update", {"workspaceId": wid, "onboardingComplete": True})
    other = call("workspaces/create", {"name": "other", "email": "a@example.com"})
    call("workspaces/delete", {"workspaceId": other["workspaceId"]})
    call("source_definitions/list", {})
    call("source_definitions/get", {"sourceDefinitionId": E2E})
    call("destination_definitions/list", {})
    call("destination_definitions/get", {"destinationDefinitionId": DEV_NULL})
    call("source_definition_specifications/get", {"sourceDefinitionId": E2E, "workspaceId": wid})
    call(
        "destination_definition_specifications/get",
        {"destinationDefinitionId": DEV_NULL, "workspaceId": wid},
    )
    config = {"max_messages": 10}
    source = call(
        "sources/create",
        {
            "workspaceId": wid,
            "sourceDefinitionId": E2E,
            "name": "s",
            "connectionConfiguration": config,
        },
    )
    sid = source["sourceId"]
    call("sources/get", {"sourceId": sid})
    call("sources/list", {"workspaceId": wid})
    call("sources/update", {"sourceId": sid, "name": "s2", "connectionConfiguration": config})
    call("sources/check_connection", {"sourceId": sid})
    call("source_definition_specifications/get_for_source", {"sourceId": sid})
    call("scheduler/sources/check_connection", {"sourceDefinitionId": E2E, **_cfg(config)})
    discovered = call("sources/discover_schema", {"sourceId": sid})
    dest = call(
        "destinations/create",
        {
            "workspaceId": wid,
            "destinationDefinitionId": DEV_NULL,
            "name": "d",
            "connectionConfiguration": {},
        },
    )
    did = dest["destinationId"]
    call("destinations/get", {"destinationId": did})
    call("destinations/list", {"workspaceId": wid})
    call("destinations/check_connection", {"destinationId": did})
    call("destination_definition_specifications/get_for_destination", {"destinationId": did})
    manual = call(
        "connections/create",
        {"sourceId": sid, "destinationId": did, "syncCatalog": discovered["catalog"]},
    )
    cron = call(
        "connections/create",
        {
            "sourceId": sid,
            "destinationId": did,
            "scheduleType": "cron",
            "scheduleData": {"cron": {"cronExpression": "0 0 12 * * ?", "cronTimeZone": "UTC"}},
        },
    )
    for conn in (manual, cron):
        cid = conn["connectionId"]
        call("connections/get", {"connectionId": cid})
        call("web_backend/connections/get", {"connectionId": cid})
    call("connections/list", {"workspaceId": wid})
    call("web_backend/connections/list", {"workspaceId": wid})
    call("connections/update", {"connectionId": cron["connectionId"], "name": "renamed"})
    call(
        "web_backend/describe_cron_expression",
        {"cronExpression": "0 0 12 * * ?", "cronTimeZone": "UTC"},
    )
    cid = manual["connectionId"]
    job = call("connections/sync", {"connectionId": cid})["job"]
    for _ in range(120):
        got = call("jobs/get", {"id": job["id"]})
        if got["job"]["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.5)
    call("jobs/get_light", {"id": job["id"]})
    call("jobs/get_without_logs", {"id": job["id"]})
    call("jobs/list", {"configTypes": ["sync"], "configId": cid})
    call("jobs/get_last_replication_job", {"connectionId": cid})
    call("state/get", {"connectionId": cid})
    call("operations/list", {"connectionId": cid})
    call("connections/reset", {"connectionId": cid})


def _cfg(config: Json) -> Json:
    return {"connectionConfiguration": config}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    checker = Checker(yaml.safe_load(Path(argv[0]).read_text()))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=str(Path(tmp) / "data"), scheduler_tick_seconds=0)
        app = create_app(settings)
        with TestClient(app, base_url="http://localhost") as client:
            # The instance admin's credentials, where the server asks for them.
            if hasattr(settings, "username"):
                client.auth = (settings.username, settings.password)
            drive(client, checker)
    for line in checker.problems:
        print(line)
    print(f"{len(checker.checked)} operations checked, {len(checker.problems)} mismatches")
    return 1 if checker.problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
