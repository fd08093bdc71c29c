"""The relay's mapper work alone: source-e2e-test's output, cut into the blocks the relay
reads, through `SourcePump._block` with bench_relay's mappers, in this process (no pipes,
no destination), timed in CPU seconds per million records.

    python scripts/bench_mappers.py [--records 200000] [--size 200] [--rounds 5] [--profile]

Rows: the pump's byte path (the stream without mappers) and the same stream with
`bench_relay.MAPPERS`. `--profile` prints cProfile's top functions for the mapped path
instead (cProfile's own cost per call inflates the functions called per record). Other
work on the machine disturbs single runs: the median and the best of the rounds are
printed, the variants interleaved.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_relay import MAPPERS, source_config  # noqa: E402

from server.jobs.plan import source_catalog, stream_mappers  # noqa: E402
from server.models.connections import AirbyteCatalog  # noqa: E402
from server.sync.catalog import Namespacing  # noqa: E402
from server.sync.checkpoints import Checkpoints  # noqa: E402
from server.sync.chunks import CHUNK_BYTES  # noqa: E402
from server.sync.messages import Observations  # noqa: E402
from server.sync.pump import SourcePump  # noqa: E402


def source_output(work: Path, records: int, size: int) -> tuple[bytes, list[dict[str, Any]]]:
    config = work / "source.json"
    config.write_bytes(msgspec.json.encode(source_config(records, size)))
    found = subprocess.run(
        ["source-e2e-test", "discover", "--config", str(config)], capture_output=True, check=True
    ).stdout
    streams = msgspec.json.decode(found.splitlines()[-1])["catalog"]["streams"]
    catalog = work / "catalog.json"
    configured = [
        {
            "stream": s,
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
        }
        for s in streams
    ]
    catalog.write_bytes(msgspec.json.encode({"streams": configured}))
    out = subprocess.run(
        ["source-e2e-test", "read", "--config", str(config), "--catalog", str(catalog)],
        capture_output=True,
        check=True,
    ).stdout
    return out, streams


def blocks_of(output: bytes) -> list[bytes]:
    """The records and states cut as the relay's reads cut them (whole lines, ~1 MiB)."""
    lines = [line for line in output.splitlines() if b'"type":"TRACE"' not in line]
    blocks: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        current.append(line)
        size += len(line) + 1
        if size >= CHUNK_BYTES:
            blocks.append(b"\n".join(current) + b"\n")
            current, size = [], 0
    if current:
        blocks.append(b"\n".join(current) + b"\n")
    return blocks


def pump_for(streams: list[dict[str, Any]], mappers: bool) -> SourcePump:
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
    protocol_catalog = source_catalog(catalog, None, 1)
    compiled = stream_mappers(msgspec.convert(catalog, AirbyteCatalog), protocol_catalog)
    namespacing = Namespacing({"namespaceDefinition": "source"}, compiled)
    checkpoints = Checkpoints([], namespacing)
    log = _NoLog()
    return SourcePump(
        None,  # type: ignore[arg-type]  # _block never reads the source
        None,  # type: ignore[arg-type]  # nor writes the destination
        checkpoints,
        Observations(log),  # type: ignore[arg-type]  # only write() is called
        namespacing,
        1 << 24,
    )


class _NoLog:
    def write(self, *args: Any) -> None:
        pass


def run_blocks(pump: SourcePump, blocks: list[bytes]) -> tuple[float, int]:
    """CPU seconds for the blocks, and the bytes the pump would send."""
    started = time.process_time()
    sent = 0
    for block in blocks:
        out = pump._block(memoryview(block))
        if out is not None:
            sent += len(out)
    return time.process_time() - started, sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sluice-bench-mappers-") as tmp:
        output, streams = source_output(Path(tmp), args.records, args.size)
    blocks = blocks_of(output)
    per_million = 1e6 / args.records
    if args.profile:
        pump = pump_for(streams, True)
        profiler = cProfile.Profile()
        profiler.enable()
        run_blocks(pump, blocks)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
        return 0
    variants: dict[str, Callable[[], tuple[float, int]]] = {
        "byte path (no mappers)": lambda: run_blocks(pump_for(streams, False), blocks),
        "with mappers": lambda: run_blocks(pump_for(streams, True), blocks),
    }
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    sent: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, variant in variants.items():
            seconds, size = variant()
            cpu[name].append(seconds * per_million)
            sent[name] = size
    print(f"\n{args.records:,} records of ~{args.size} bytes, {len(blocks)} blocks\n")
    print("| pump._block | CPU s per 1M records, median | best | bytes sent |")
    print("|---|---|---|---|")
    for name, values in cpu.items():
        print(f"| {name} | {statistics.median(values):.3f} | {min(values):.3f} | {sent[name]:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
