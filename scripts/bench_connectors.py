"""Throughput of Sluice's own connectors, printed as a table.

    python scripts/bench_connectors.py [--records 1000000] [--size 200] [--only NAME ...]

1. source-e2e-test alone: `read` of N records (about --size bytes of data each) to /dev/null.
2. Each destination writing those N records: `source-e2e-test read | <destination> write`,
   full refresh into a fresh target with destination sync mode `append`. The time runs until
   both programs have exited; every STATE the source emits must come back.

MB/s counts the bytes of the source's output lines (1 MB = 10^6 bytes). File destinations
write under a temporary data root (SLUICE_LOCAL_ROOT); destination-postgres writes to a
throwaway server started with initdb/pg_ctl in a temporary directory (skipped, with the
reason, when the binaries are missing). A destination that is not installed gets a
"not installed" row.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

SOURCE = "source-e2e-test"
DESTINATIONS = [
    "destination-dev-null",
    "destination-jsonl",
    "destination-sqlite",
    "destination-duckdb",
    "destination-postgres",
]
FILE_TARGETS = {
    "destination-jsonl": "/local/bench/json_data",
    "destination-sqlite": "/local/bench/bench.sqlite",
    "destination-duckdb": "/local/bench/bench.duckdb",
}


@dataclass
class Row:
    name: str
    records: int = 0
    seconds: float = 0.0
    megabytes: float = 0.0
    note: str = ""

    def cells(self) -> list[str]:
        if not self.seconds:
            return [self.name, "-", "-", "-", "-", self.note]
        return [
            self.name,
            f"{self.records:,}",
            f"{self.seconds:.2f}",
            f"{self.records / self.seconds:,.0f}",
            f"{self.megabytes / self.seconds:,.1f}",
            self.note,
        ]


def executable(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def write_json(path: Path, value: Any) -> str:
    path.write_bytes(msgspec.json.encode(value))
    return str(path)


def catalog(source: str, config_file: str) -> dict[str, Any]:
    done = subprocess.run(
        [source, "discover", "--config", config_file], capture_output=True, check=True
    )
    message = next(
        m for m in map(msgspec.json.decode, done.stdout.splitlines()) if m["type"] == "CATALOG"
    )
    return {
        "streams": [
            {
                "stream": stream,
                "sync_mode": "full_refresh",
                "destination_sync_mode": "append",
                "cursor_field": stream["default_cursor_field"],
                "primary_key": stream["source_defined_primary_key"],
            }
            for stream in message["catalog"]["streams"]
        ]
    }


def source_alone(read: list[str], records: int, tmp: Path) -> tuple[Row, int, int]:
    """Time the source to /dev/null; measure its output once (same config, same size)."""
    sample = tmp / "source-output.jsonl"
    with sample.open("wb") as out:
        subprocess.run(read, stdout=out, check=True)
    size = sample.stat().st_size
    with sample.open("rb") as lines:
        states = sum(line.startswith(b'{"type":"STATE"') for line in lines)
    sample.unlink()
    with open(os.devnull, "wb") as devnull:
        started = time.perf_counter()
        subprocess.run(read, stdout=devnull, check=True)
        seconds = time.perf_counter() - started
    return Row(f"{SOURCE} (alone)", records, seconds, size / 1e6), size, states


def pipeline(read: list[str], write: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """source | destination; returns (seconds, states echoed, error text)."""
    started = time.perf_counter()
    with subprocess.Popen(read, stdout=subprocess.PIPE) as source:
        assert source.stdout is not None
        with subprocess.Popen(
            write, stdin=source.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        ) as dest:
            source.stdout.close()  # the destination owns the pipe now
            assert dest.stdout is not None and dest.stderr is not None
            stderr, errors = dest.stderr, [b""]
            # stderr is drained beside stdout so that neither pipe fills up and blocks.
            drain = threading.Thread(target=lambda: errors.append(stderr.read()))
            drain.start()
            echoed, failure = 0, ""
            for line in dest.stdout:
                if line.startswith(b'{"type":"STATE"'):
                    echoed += 1
                elif b'"ERROR"' in line and b'"TRACE"' in line:
                    failure = msgspec.json.decode(line)["trace"]["error"]["message"]
            dest.wait()
            drain.join()
        source.wait()
    seconds = time.perf_counter() - started
    if dest.returncode or source.returncode:
        last = errors[-1].decode(errors="replace").strip().splitlines()[-1:]
        failure = failure or (last[0] if last else "no message")
        return seconds, echoed, f"FAILED (exit {dest.returncode}): {failure[:80]}"
    return seconds, echoed, ""


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for version in sorted(Path("/usr/lib/postgresql").glob("*"), reverse=True):
        if (version / "bin" / name).exists():
            return str(version / "bin" / name)
    return None


@contextmanager
def postgres_server() -> Iterator[dict[str, Any]]:
    """A throwaway PostgreSQL server on a free loopback port; yields a destination config."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("skipped: initdb/pg_ctl not found")
    base = Path(tempfile.mkdtemp(prefix="sluice-bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, sockets = base / "data", base / "sockets"
    pwfile = base / "pw"
    pwfile.write_text("bench-secret\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], capture_output=True, check=True)

    try:
        run("mkdir", "-p", str(sockets))
        run(initdb, "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}", "--auth-local=trust",
            "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync")  # fmt: skip
        # Durable commits as a real server has them: only the start-up is shortened.
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
        run(pg_ctl, "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start")
        run("psql", "-h", str(sockets), "-p", str(port), "-U", "postgres", "-c",
            "CREATE DATABASE bench")  # fmt: skip
        yield {
            "host": "127.0.0.1",
            "port": port,
            "database": "bench",
            "schema": "public",
            "username": "postgres",
            "password": "bench-secret",
            "ssl_mode": {"mode": "disable"},
        }
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def bench_destination(
    name: str, read: list[str], cat: str, tmp: Path, size: int, states: int, records: int
) -> Row:
    program = executable(name)
    if program is None:
        return Row(name, note="not installed")
    env = {**os.environ, "SLUICE_LOCAL_ROOT": str(tmp / "root")}
    (tmp / "root").mkdir(exist_ok=True)

    def measure(config: dict[str, Any]) -> Row:
        config_file = write_json(tmp / f"{name}.json", config)
        write = [program, "write", "--config", config_file, "--catalog", cat]
        seconds, echoed, failure = pipeline(read, write, env)
        note = failure or ("" if echoed == states else f"{echoed}/{states} states echoed")
        return Row(name, records, seconds, size / 1e6, note)

    if name == "destination-postgres":
        try:
            with postgres_server() as config:
                return measure(config)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            reason = str(exc) if isinstance(exc, RuntimeError) else f"server start failed: {exc}"
            return Row(name, note=reason)
    if name in FILE_TARGETS:
        return measure({"destination_path": FILE_TARGETS[name]})
    return measure({})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=200, help="bytes of data per record")
    parser.add_argument("--state-every", type=int, default=10_000, help="records per state")
    parser.add_argument("--only", nargs="*", help="destinations to run (default: all)")
    args = parser.parse_args()
    source = executable(SOURCE)
    if source is None:
        sys.exit(f"{SOURCE} is not installed: pip install -e connectors")
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as name:
        tmp = Path(name)
        config = {
            "max_messages": args.records,
            "record_size_bytes": args.size,
            "state_checkpoint_interval": args.state_every,
            "seed": 1,
        }
        config_file = write_json(tmp / "source.json", config)
        cat = write_json(tmp / "catalog.json", catalog(source, config_file))
        read = [source, "read", "--config", config_file, "--catalog", cat]
        row, size, states = source_alone(read, args.records, tmp)
        rows = [row]
        print(
            f"{args.records:,} records, {size / args.records:.0f} bytes per line "
            f"(~{args.size} bytes of data), a state every {args.state_every:,} records",
            flush=True,
        )
        for dest in args.only or DESTINATIONS:
            rows.append(bench_destination(dest, read, cat, tmp, size, states, args.records))
            print(f"  {rows[-1].name}: done", file=sys.stderr, flush=True)
    header = ["connector", "records", "seconds", "records/s", "MB/s", "note"]
    table = [header] + [r.cells() for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    for line in table:
        pairs = enumerate(zip(line[:-1], widths, strict=True))
        cells = [c.rjust(w) if i else c.ljust(w) for i, (c, w) in pairs]
        print("  ".join([*cells, line[-1]]).rstrip())


if __name__ == "__main__":
    main()
