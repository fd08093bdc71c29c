"""The sync relay's throughput against the raw pipe, on the same records, printed as a table.

    python scripts/bench_relay.py [--records 1000000] [--size 200] [--rounds 3]
                                  [--destination dev-null|duckdb]

(a) raw pipe: `source-e2e-test read ... | destination-<d> write ...`, no Sluice;
(b) the same sync through Sluice's HTTP API: a real server process (`python -m server serve`,
    temporary data directory), source "E2E Testing" and destination "End-to-End Testing
    (/dev/null)" or "DuckDB" (a file under the data root, overwritten each round), process
    runner, connections/sync, jobs/get_light polled every 0.1 s until `succeeded`; the time
    runs from the sync call to the poll that sees the job succeeded;
(b') the relay alone: `server.sync.run_attempt` called in this process;
(c) the same with mappers on the stream (`MAPPERS`: field filtering, hashing, renaming and a
    row filter that keeps about 90% of the records): records/s counts the source's records.

The variants alternate for `--rounds` rounds; the best round of each is reported (the median
is shown too: other work on the machine disturbs single runs). MB/s counts the records' data
bytes (what Sluice reports as bytesSynced; 1 MB = 10^6 bytes). The server's peak memory is
its RSS high-water mark (VmHWM, reset before each sync) during the sync, and its CPU time is
what it used while the sync ran. "CPU s" adds up the CPU time of every process of a path
(median): on an idle machine with 2 cores a path cannot take less than half of it.
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOURCE_NAME = "E2E Testing"
SILENT = {"test_destination": {"test_destination_type": "SILENT"}}
# --destination: (definition name, program, configuration)
DESTINATIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "dev-null": ("End-to-End Testing (/dev/null)", "destination-dev-null", SILENT),
    "duckdb": ("DuckDB", "destination-duckdb", {"destination_path": "/local/bench.duckdb"}),
}
DESTINATION_NAME, DESTINATION, DESTINATION_CONFIG = DESTINATIONS["dev-null"]
TERMINAL = ("succeeded", "failed", "cancelled")
# The server's default admin credentials (it runs on loopback).
BASIC = "Basic " + base64.b64encode(b"airbyte:password").decode()


def source_config(records: int, size: int) -> dict[str, Any]:
    return {
        "type": "CONTINUOUS_FEED",
        "max_messages": records,
        "seed": 42,
        "record_size_bytes": size,
    }


# The mappers of row (c): field filtering + hashing + renaming + a row filter.
MAPPERS: list[dict[str, Any]] = [
    {"type": "field-filtering", "mapperConfiguration": {"targetField": "payload"}},
    {"type": "hashing", "mapperConfiguration": {"targetField": "name", "method": "SHA-256"}},
    {
        "type": "field-renaming",
        "mapperConfiguration": {"originalFieldName": "amount", "newFieldName": "total"},
    },
    {"type": "row-filtering", "mapperConfiguration": {"expression": "total > 1000"}},
]


# --- (a) the raw pipe ------------------------------------------------------------------------


def raw_pipe(work: Path, config: dict[str, Any]) -> tuple[float, float]:
    source_path, catalog_path, destination_path = (
        work / "source.json",
        work / "catalog.json",
        work / "destination.json",
    )
    source_path.write_bytes(msgspec.json.encode(config))
    destination_path.write_bytes(msgspec.json.encode(DESTINATION_CONFIG))
    if not catalog_path.exists():
        out = subprocess.run(
            ["source-e2e-test", "discover", "--config", str(source_path)],
            capture_output=True,
            check=True,
        ).stdout
        streams = msgspec.json.decode(out.splitlines()[-1])["catalog"]["streams"]
        configured = [
            {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
            for s in streams
        ]
        catalog_path.write_bytes(msgspec.json.encode({"streams": configured}))
    cpu = own_cpu()
    started = time.perf_counter()
    source = subprocess.Popen(
        ["source-e2e-test", "read", "--config", str(source_path), "--catalog", str(catalog_path)],
        stdout=subprocess.PIPE,
    )
    destination = subprocess.Popen(
        [
            DESTINATION,
            "write",
            "--config",
            str(destination_path),
            "--catalog",
            str(catalog_path),
        ],
        stdin=source.stdout,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "SLUICE_LOCAL_ROOT": str(work / "raw-local")},
    )
    assert source.stdout is not None
    source.stdout.close()  # the destination holds the read end now
    codes = (source.wait(), destination.wait())
    elapsed = time.perf_counter() - started
    assert codes == (0, 0), f"raw pipe failed: {codes}"
    return elapsed, own_cpu() - cpu


# --- (b) through the HTTP API --------------------------------------------------------------


class Api:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.base}/api/v1/{path}",
            data=msgspec.json.encode(body or {}),
            headers={"Content-Type": "application/json", "Authorization": BASIC},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=120) as reply:
            return msgspec.json.decode(reply.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_status(pid: int, field: str) -> int:
    """A `VmXXX: N kB` field of /proc/<pid>/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU time (user + system) of a process, and of its reaped children if asked."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """CPU time of this process and its reaped children."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Server:
    def __init__(self, work: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "SLUICE_LOG_LEVEL": "warning", "SLUICE_WORKER_POLL_SECONDS": "0.2"}
        env["SLUICE_LOCAL_ROOT"] = str(work / "server-local")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(work / "data"),
            ],
            cwd=ROOT,
            env=env,
        )
        self.api = Api(f"http://127.0.0.1:{self.port}")
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.api.base}/api/v1/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def connection(self, config: dict[str, Any]) -> str:
        api = self.api
        workspace = api.call("workspaces/list")["workspaces"][0]["workspaceId"]

        def definition(kind: str, name: str) -> str:
            key = "sourceDefinitions" if kind == "source" else "destinationDefinitions"
            found = api.call(f"{kind}_definitions/list")[key]
            return str(next(d for d in found if d["name"] == name)[f"{kind}DefinitionId"])

        source_id = api.call(
            "sources/create",
            {
                "workspaceId": workspace,
                "sourceDefinitionId": definition("source", SOURCE_NAME),
                "name": "bench source",
                "connectionConfiguration": config,
            },
        )["sourceId"]
        destination_id = api.call(
            "destinations/create",
            {
                "workspaceId": workspace,
                "destinationDefinitionId": definition("destination", DESTINATION_NAME),
                "name": "bench destination",
                "connectionConfiguration": DESTINATION_CONFIG,
            },
        )["destinationId"]
        catalog = api.call("sources/discover_schema", {"sourceId": source_id})["catalog"]
        for stream in catalog["streams"]:
            stream["config"] = {
                **(stream.get("config") or {}),
                "syncMode": "full_refresh",
                "destinationSyncMode": "overwrite",
                "selected": True,
            }
        return str(
            api.call(
                "connections/create",
                {
                    "name": "bench",
                    "sourceId": source_id,
                    "destinationId": destination_id,
                    "status": "active",
                    "scheduleType": "manual",
                    "syncCatalog": catalog,
                },
            )["connectionId"]
        )

    def sync(self, connection_id: str) -> dict[str, Any]:
        pid = self.process.pid
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # restart the RSS high-water mark
        rss_before = proc_status(pid, "VmRSS")
        cpu_before = cpu_seconds(pid)
        all_before = cpu_seconds(pid, children=True)
        started = time.perf_counter()
        job = self.api.call("connections/sync", {"connectionId": connection_id})["job"]
        while True:  # polled as a client would, with the light call (no logs)
            light = self.api.call("jobs/get_light", {"id": job["id"]})
            if light["job"]["status"] in TERMINAL:
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        info = self.api.call("jobs/get", {"id": job["id"]})
        attempt = info["attempts"][-1]
        if info["job"]["status"] != "succeeded":
            lines = "\n".join(attempt["logs"]["logLines"][-20:])
            raise RuntimeError(f"the sync ended {info['job']['status']}:\n{lines}")
        return {
            "seconds": elapsed,
            "records": attempt["attempt"].get("recordsSynced", 0),
            "bytes": attempt["attempt"].get("bytesSynced", 0),
            "peak_rss": proc_status(pid, "VmHWM"),
            "rss_before": rss_before,
            "cpu": cpu_seconds(pid) - cpu_before,
            "cpu_all": cpu_seconds(pid, children=True) - all_before,
        }


# --- (b') the relay alone ------------------------------------------------------------------


def direct(
    work: Path, config: dict[str, Any], round_: int, mappers: bool = False
) -> dict[str, Any]:
    from server.jobs.plan import source_catalog, stream_mappers
    from server.models.connections import AirbyteCatalog
    from server.runner import Runners
    from server.runner.base import ConnectorImage
    from server.runner.process import ProcessRunner
    from server.settings import Settings
    from server.sync import AttemptPlan, run_attempt
    from server.sync.catalog import Namespacing

    out = subprocess.run(
        ["source-e2e-test", "discover", "--config", str(work / "source.json")],
        capture_output=True,
        check=True,
    ).stdout
    streams = msgspec.json.decode(out.splitlines()[-1])["catalog"]["streams"]
    catalog = {
        "streams": [
            {
                "stream": {"name": s["name"], "jsonSchema": s["json_schema"]},
                "config": {
                    "syncMode": "full_refresh",
                    "destinationSyncMode": "overwrite",
                    "selected": True,
                    **({"mappers": MAPPERS} if mappers else {}),
                },
            }
            for s in streams
        ]
    }
    base = work / f"direct-{round_}{'-mapped' if mappers else ''}"
    protocol_catalog = source_catalog(catalog, None, round_)
    compiled = stream_mappers(msgspec.convert(catalog, AirbyteCatalog), protocol_catalog)
    assert bool(compiled) == mappers
    plan = AttemptPlan(
        job_id=round_,
        attempt_number=0,
        connection_id="bench",
        kind="sync",
        source=ConnectorImage(
            SOURCE_NAME, "process", "sluice/source-e2e-test", ("source-e2e-test",)
        ),
        destination=ConnectorImage(
            DESTINATION_NAME, "process", f"sluice/{DESTINATION}", (DESTINATION,)
        ),
        source_config=config,
        destination_config=DESTINATION_CONFIG,
        catalog=protocol_catalog,
        namespacing=Namespacing({"namespaceDefinition": "source"}, compiled),
        streams=None,
        input_state=[],
        job_dir=base / "job",
        log_path=base / "attempt.log",
    )
    cpu = own_cpu()
    started = time.perf_counter()
    result = run_attempt(
        plan,
        Runners(ProcessRunner()),
        Settings(data_dir=str(work / "direct-data"), local_root=str(work / "direct-local")),
        lambda state: None,
        lambda progress: None,
        threading.Event(),
    )
    elapsed = time.perf_counter() - started
    if not result.succeeded:
        raise RuntimeError(f"run_attempt failed: {result.failures}")
    return {
        "seconds": elapsed,
        "records": result.stats.records_emitted,
        "bytes": result.stats.bytes_emitted,
        "cpu_all": own_cpu() - cpu,
    }


# --- the table -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=200, help="bytes of data per record")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--destination", choices=sorted(DESTINATIONS), default="dev-null")
    parser.add_argument("--no-direct", action="store_true", help="skip (b') run_attempt")
    parser.add_argument("--no-mappers", action="store_true", help="skip (c), with mappers")
    args = parser.parse_args()
    global DESTINATION_NAME, DESTINATION, DESTINATION_CONFIG
    DESTINATION_NAME, DESTINATION, DESTINATION_CONFIG = DESTINATIONS[args.destination]
    config = source_config(args.records, args.size)
    times: dict[str, list[float]] = {"raw": [], "api": [], "direct": [], "mapped": []}
    cpus: dict[str, list[float]] = {"raw": [], "api": [], "direct": [], "mapped": []}
    api_runs: list[dict[str, Any]] = []
    size = 0
    with tempfile.TemporaryDirectory(prefix="sluice-bench-relay-") as tmp:
        work = Path(tmp)
        server = Server(work)
        try:
            connection = server.connection(config)
            for round_ in range(args.rounds):
                seconds, cpu = raw_pipe(work, config)
                times["raw"].append(seconds)
                cpus["raw"].append(cpu)
                run = server.sync(connection)
                api_runs.append(run)
                times["api"].append(run["seconds"])
                cpus["api"].append(run["cpu_all"])
                size = run["bytes"]
                assert run["records"] == args.records, run
                done = f"round {round_ + 1}: raw {seconds:.2f} s, API {run['seconds']:.2f} s"
                if not args.no_direct:
                    alone = direct(work, config, round_)
                    times["direct"].append(alone["seconds"])
                    cpus["direct"].append(alone["cpu_all"])
                    assert alone["records"] == args.records, alone
                    done += f", run_attempt {alone['seconds']:.2f} s"
                if not args.no_mappers:
                    mapped = direct(work, config, round_, mappers=True)
                    times["mapped"].append(mapped["seconds"])
                    cpus["mapped"].append(mapped["cpu_all"])
                    assert mapped["records"] == args.records, mapped
                    done += f", with mappers {mapped['seconds']:.2f} s"
                print(done, file=sys.stderr)
        finally:
            server.stop()
    raw_best = min(times["raw"])
    rows = [
        ("(a) raw pipe, no Sluice", "raw"),
        ("(b) Sluice HTTP API, connections/sync", "api"),
        ("(b') run_attempt, in process", "direct"),
        ("(c) run_attempt with mappers (filter, hash, rename, row filter)", "mapped"),
    ]
    rows = [row for row in rows if times[row[1]]]
    print(
        f"\n{args.records:,} records, {size / args.records:.0f} bytes of data each "
        f"({size / 1e6:.0f} MB), source-e2e-test -> {DESTINATION}, best of {args.rounds}\n"
    )
    print("| path | best s | median s | records/s | MB/s | vs raw | CPU s (all processes) |")
    print("|---|---|---|---|---|---|---|")
    for name, key in rows:
        values = times[key]
        best = min(values)
        print(
            f"| {name} | {best:.2f} | {statistics.median(values):.2f} | "
            f"{args.records / best:,.0f} | {size / best / 1e6:.0f} | {raw_best / best:.0%} | "
            f"{statistics.median(cpus[key]):.2f} |"
        )
    best_api = min(api_runs, key=lambda r: r["seconds"])
    peak = max(r["peak_rss"] for r in api_runs)
    print(
        f"\nServer process: peak RSS during the sync {peak / 2**20:.0f} MiB "
        f"(before: {best_api['rss_before'] / 2**20:.0f} MiB); CPU during the fastest sync "
        f"{best_api['cpu']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
