"""Running the `sluice` command line as a user does (a subprocess), against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.serving import ROOT, ServerProcess


def sluice(
    server: ServerProcess,
    *args: str | Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`sluice ARGS` with SLUICE_URL pointing at `server` and the admin's default credentials;
    `env` adds to (or, with a value of "", removes from) the environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    environ["SLUICE_URL"] = server.url
    # No user's ~/.config/sluice/client.toml leaks into a test.
    environ["SLUICE_CLIENT_CONFIG"] = str(server.data_dir.parent / "no-client.toml")
    for key, value in (env or {}).items():
        if value == "":
            environ.pop(key, None)
        else:
            environ[key] = value
    return subprocess.run(
        [sys.executable, "-m", "server", *map(str, args)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
