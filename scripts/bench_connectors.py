"""Throughput of Sluice's destinations against their engines' own bulk loads, as a table.

    python scripts/bench_connectors.py [--records 1000000] [--size 200] [--rounds 3]
                                       [--only NAME ...]

`source-e2e-test` output (N records of about --size bytes of data, a state every
--state-every records) is saved to a file once. Then, for each destination and round, back to
back on the same file: the destination program alone (`<destination> write < file`, full
refresh into a fresh target, destination sync mode `append`; every STATE must come back), and
the engine's own bulk load of the same records (scripts/bench_baselines.py: DuckDB `read_json`
into a typed table, SQLite msgspec + `executemany`, PostgreSQL `COPY FROM STDIN`; for DuckDB
also the destination's own typing statement run alone over the file). The table
gives the best round of each, the ratio of those (and the ratio's range over the rounds: the
machine is shared), and each process's peak RSS. The load average is printed before and after.

File destinations write under a temporary data root (SLUICE_LOCAL_ROOT); destination-postgres
writes to a throwaway server started with initdb/pg_ctl in a temporary directory (skipped, with
the reason, when the binaries are missing).
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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    seconds: list[float] = field(default_factory=list)  # the program, per round
    baseline: list[float] = field(default_factory=list)  # the engine's own load, per round
    rss: int = 0  # peak RSS of the program, bytes (highest round)
    baseline_rss: int = 0
    note: str = ""

    def cells(self, records: int) -> list[str]:
        if not self.seconds:
            return [self.name, "-", "-", "-", "-", "-", self.note]
        best = min(self.seconds)
        cells = [self.name, f"{best:.2f}", f"{records / best:,.0f}"]
        if self.baseline:
            ratios = [p / b for p, b in zip(self.seconds, self.baseline, strict=True)]
            ratio = f"{best / min(self.baseline):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
            cells += [f"{min(self.baseline):.2f}", ratio]
        else:
            cells += ["-", "-"]
        rss = f"{self.rss / 2**20:.0f}" if self.rss else "-"
        if self.baseline_rss:
            rss += f" / {self.baseline_rss / 2**20:.0f}"
        return [*cells, rss, self.note]


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


def timed(command: list[str], stdin: Path, env: dict[str, str]) -> tuple[float, int, bytes, str]:
    """Run a program with a file on stdin: (seconds, peak RSS bytes, stdout, stderr tail)."""
    with (
        stdin.open("rb") as source,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=source, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read().decode(errors="replace")
    if process.returncode:
        last = stderr.strip().splitlines()[-1:] or ["no message"]
        for line in stdout.splitlines():
            if line.startswith(b'{"type":"TRACE"') and b'"ERROR"' in line:
                last = [msgspec.json.decode(line)["trace"]["error"]["message"]]
        raise RuntimeError(f"{command[0]} failed (exit {process.returncode}): {last[0][:200]}")
    return seconds, usage.ru_maxrss * 1024, stdout, stderr


class Bench:
    def __init__(self, tmp: Path, source_file: Path, catalog_file: str, states: int) -> None:
        self.tmp = tmp
        self.source_file = source_file
        self.catalog_file = catalog_file
        self.states = states
        self.root = tmp / "root"
        self.env = {**os.environ, "SLUICE_LOCAL_ROOT": str(self.root)}

    def fresh(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir()

    def program(self, row: Row, name: str, config: dict[str, Any]) -> None:
        program = executable(name)
        if program is None:
            raise RuntimeError("not installed")
        config_file = write_json(self.tmp / f"{name}.json", config)
        command = [program, "write", "--config", config_file, "--catalog", self.catalog_file]
        seconds, rss, stdout, _ = timed(command, self.source_file, self.env)
        echoed = sum(line.startswith(b'{"type":"STATE"') for line in stdout.splitlines())
        if echoed != self.states:
            row.note = f"{echoed}/{self.states} states echoed"
        row.seconds.append(seconds)
        row.rss = max(row.rss, rss)

    def baseline(self, row: Row, engine: str, config: dict[str, Any], *extra: str) -> None:
        config_file = write_json(self.tmp / f"baseline-{engine}.json", config)
        command = [sys.executable, str(Path(__file__).with_name("bench_baselines.py")), engine]
        command += ["--input", str(self.source_file), "--catalog", self.catalog_file]
        command += ["--config", config_file, *extra]
        _, rss, stdout, _ = timed(command, self.source_file, self.env)
        row.baseline.append(float(stdout.decode().split()[-1]))
        row.baseline_rss = max(row.baseline_rss, rss)


def bench_file_destination(bench: Bench, name: str, rounds: int) -> list[Row]:
    row = Row(name)
    engine = name.removeprefix("destination-")
    # DuckDB also runs the destination's own typing statement alone, so the table shows what
    # the program costs beyond DuckDB's share of the same work; it shares the program's times.
    same_work = Row(f"{name} vs the same statement in DuckDB alone", row.seconds)
    target = {"destination_path": FILE_TARGETS[name].replace("bench.", "baseline.")}
    try:
        for _ in range(rounds):
            bench.fresh()
            bench.program(row, name, {"destination_path": FILE_TARGETS[name]})
            if engine in ("duckdb", "sqlite"):
                bench.fresh()
                bench.baseline(row, engine, target)
            if engine == "duckdb":
                bench.fresh()
                bench.baseline(same_work, "duckdb-typed", target)
    except RuntimeError as exc:
        row.note = str(exc)
    same_work.rss = row.rss
    return [row, same_work] if same_work.baseline else [row]


def bench_postgres(bench: Bench, rounds: int) -> Row:
    row = Row("destination-postgres")
    try:
        import psycopg
    except ImportError:
        return Row(row.name, note="psycopg is not installed")
    try:
        with postgres_server() as config:
            dsn = {k: config[k] for k in ("host", "port", "password")}
            dsn.update(dbname=config["database"], user=config["username"])
            copy_file = bench.tmp / "rows.copy"
            for _ in range(rounds):
                with psycopg.connect(**dsn, autocommit=True) as conn:
                    conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
                    conn.execute("DROP SCHEMA IF EXISTS baseline CASCADE")
                    conn.execute("CREATE SCHEMA public")
                bench.program(row, "destination-postgres", config)
                if not copy_file.exists():  # the same rows, as COPY text
                    with psycopg.connect(**dsn) as conn, copy_file.open("wb") as out:
                        table = conn.execute(
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                        ).fetchone()
                        assert table is not None
                        with conn.cursor().copy(f'COPY public."{table[0]}" TO STDOUT') as copy:
                            for block in copy:
                                out.write(block)
                bench.baseline(row, "postgres", config, "--copy-file", str(copy_file))
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        row.note = str(exc) if isinstance(exc, RuntimeError) else f"server start failed: {exc}"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=200, help="bytes of data per record")
    parser.add_argument("--state-every", type=int, default=10_000, help="records per state")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="destinations to run (default: all)")
    args = parser.parse_args()
    source = executable(SOURCE)
    if source is None:
        sys.exit(f"{SOURCE} is not installed: pip install -e connectors")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
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
        source_file = tmp / "source-output.jsonl"
        read = [source, "read", "--config", config_file, "--catalog", cat]
        with source_file.open("wb") as out:
            started = time.perf_counter()
            subprocess.run(read, stdout=out, check=True)
            alone = Row(f"{SOURCE} read (to a file)", [time.perf_counter() - started])
        with source_file.open("rb") as lines:
            states = sum(line.startswith(b'{"type":"STATE"') for line in lines)
        size = source_file.stat().st_size
        print(
            f"{args.records:,} records, {size / args.records:.0f} bytes per line "
            f"(~{args.size} bytes of data), a state every {args.state_every:,} records, "
            f"best of {args.rounds} rounds",
            flush=True,
        )
        bench = Bench(tmp, source_file, cat, states)
        rows = [alone]
        for dest in args.only or DESTINATIONS:
            if dest == "destination-postgres":
                rows.append(bench_postgres(bench, args.rounds))
            elif dest in FILE_TARGETS:
                rows += bench_file_destination(bench, dest, args.rounds)
            else:
                row = Row(dest)
                try:
                    for _ in range(args.rounds):
                        bench.program(row, dest, {})
                except RuntimeError as exc:
                    row.note = str(exc)
                rows.append(row)
            print(f"  {rows[-1].name}: done", file=sys.stderr, flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    header = ["connector", "program s", "records/s", "engine s", "ratio (range)", "peak RSS MiB"]
    print("| " + " | ".join([*header, "note"]) + " |")
    print("|" + " --- |" * (len(header) + 1))
    for row in rows:
        print("| " + " | ".join(row.cells(args.records)) + " |")


if __name__ == "__main__":
    main()
