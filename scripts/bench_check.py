#!/usr/bin/env python3
"""How long a cold `check_connection` of Airbyte's source-faker takes, per runner.

For each runner (docker: the image from scripts/build-faker-image.sh; process: the program
from scripts/install-faker.sh) and each run, a fresh server (new data directory, nothing
cached) answers, through its HTTP API:
  * `scheduler/sources/check_connection` on a new configuration: the connector runs twice
    (`spec`, needed to validate and to mask secrets, then `check`): the first call a user makes;
  * `sources/check_connection` on the source then created: the spec is cached, so this is one
    connector start plus its check (the cost of every later check).

    python scripts/bench_check.py [--runs 3] [--runner docker|process|both]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402

FAKER_DOCKER = "dfd88b22-b603-4c3d-aad7-3701784586b1"  # the seeded "Sample Data (Faker)"
FAKER_BIN = ROOT / ".venvs" / "source-faker" / "bin"


async def call(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"/api/v1/{path}", json=body)
    r.raise_for_status()
    reply: dict[str, Any] = r.json()
    return reply


async def one_run(runner: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(data_dir=data_dir, connector_path=str(FAKER_BIN)))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", auth=("airbyte", "password")
            ) as client:
                workspace = (await call(client, "workspaces/list", {}))["workspaces"][0]
                definition_id = FAKER_DOCKER
                if runner == "process":
                    created = await call(
                        client,
                        "source_definitions/create_custom",
                        {
                            "workspaceId": workspace["workspaceId"],
                            "sourceDefinition": {
                                "name": "Faker (local program)",
                                "dockerRepository": "airbyte/source-faker",
                                "dockerImageTag": "7.2.1",
                                "documentationUrl": "https://docs.airbyte.com/integrations/sources/faker",
                                "runner": "process",
                                "command": ["source-faker"],
                            },
                        },
                    )
                    definition_id = created["sourceDefinitionId"]
                config = {"count": 100}
                started = time.perf_counter()
                first = await call(
                    client,
                    "scheduler/sources/check_connection",
                    {"sourceDefinitionId": definition_id, "connectionConfiguration": config},
                )
                cold = time.perf_counter() - started
                if first["status"] != "succeeded":
                    raise SystemExit(f"{runner}: check failed: {first.get('message')}")
                source = await call(
                    client,
                    "sources/create",
                    {
                        "workspaceId": workspace["workspaceId"],
                        "sourceDefinitionId": definition_id,
                        "name": "bench",
                        "connectionConfiguration": config,
                    },
                )
                started = time.perf_counter()
                second = await call(
                    client, "sources/check_connection", {"sourceId": source["sourceId"]}
                )
                warm_spec = time.perf_counter() - started
                if second["status"] != "succeeded":
                    raise SystemExit(f"{runner}: check failed: {second.get('message')}")
                return cold, warm_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--runner", choices=["docker", "process", "both"], default="both")
    args = parser.parse_args()
    runners = ["docker", "process"] if args.runner == "both" else [args.runner]
    print(f"source-faker 7.2.1, cold check_connection, {args.runs} runs each (seconds)")
    for runner in runners:
        results = [asyncio.run(one_run(runner)) for _ in range(args.runs)]
        for label, values in (
            ("first check (spec + check)", [r[0] for r in results]),
            ("stored source (check only)", [r[1] for r in results]),
        ):
            shown = " ".join(f"{v:.2f}" for v in values)
            print(
                f"  {runner:7s} {label:28s} median {statistics.median(values):5.2f}  "
                f"min {min(values):5.2f}  max {max(values):5.2f}  [{shown}]"
            )


if __name__ == "__main__":
    main()
