"""Processes a test looks for: those still alive whose command line mentions a text."""

from __future__ import annotations

import os
from pathlib import Path


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line mentions `text` (a job directory: its connectors)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = (entry / "stat").read_text()
        except OSError:
            continue
        if text in command and status[status.rfind(")") + 2] != "Z":
            found.append(int(entry.name))
    return found
