"""How the remote commands print: `rich` tables for a person at a terminal, tab-separated lines
with raw numbers for a script (stdout not a terminal), and the human forms of sizes, durations
and times both use."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Literal, TextIO

from rich.console import Console
from rich.table import Table

Kind = Literal["text", "count", "bytes", "seconds", "time"]
Cell = str | int | float | None


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    whole: bool = False  # never shortened at a terminal (ids are copied from it)


def interactive(stream: TextIO | None = None) -> bool:
    """A person is reading: the live display and rich tables. Otherwise plain lines."""
    stream = stream or sys.stdout
    return stream.isatty()


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def human_count(n: float) -> str:
    return f"{n:,.0f}"


def human_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def human_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _human(cell: Cell, kind: Kind) -> str:
    if cell is None:
        return "-"
    if kind == "text" or isinstance(cell, str):
        return str(cell)
    if kind == "count":
        return human_count(cell)
    if kind == "bytes":
        return human_bytes(cell)
    if kind == "seconds":
        return human_seconds(cell)
    return human_time(cell)


def _plain(cell: Cell, kind: Kind) -> str:
    """What a script reads: numbers as integers, times in UTC ISO 8601, tabs never inside."""
    if cell is None:
        return "-"
    if kind == "time" and not isinstance(cell, str):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cell))
    if isinstance(cell, float):
        return f"{cell:.1f}" if kind == "seconds" else str(int(cell))
    return str(cell).replace("\t", " ").replace("\n", " ")


def table(
    columns: list[Column], rows: list[list[Cell]], out: TextIO | None = None, title: str = ""
) -> None:
    out = out or sys.stdout
    if not interactive(out):
        print("\t".join(c.name for c in columns), file=out)
        for row in rows:
            print(
                "\t".join(_plain(cell, c.kind) for cell, c in zip(row, columns, strict=True)),
                file=out,
            )
        return
    shown = Table(title=title or None, title_justify="left", header_style="bold")
    for i, c in enumerate(columns):
        shown.add_column(
            c.name,
            justify="left" if c.kind in ("text", "time") else "right",
            no_wrap=c.whole,
            min_width=max((len(_human(r[i], c.kind)) for r in rows), default=0)
            if c.whole
            else None,
        )
    for row in rows:
        shown.add_row(*(_human(cell, c.kind) for cell, c in zip(row, columns, strict=True)))
    Console(file=out).print(shown)
