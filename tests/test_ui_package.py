"""The wheel ships the web UI: every template and static asset of server/ui/ is in it, so a
`pip install` of the package serves the pages without the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "server" / "ui"


@pytest.mark.slow
def test_the_wheel_holds_every_template_and_asset(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("sluice-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        str(p.relative_to(ROOT))
        for folder in ("templates", "static")
        for p in (UI / folder).rglob("*")
        if p.is_file()
    }
    assert wanted and {"server/ui/templates/base.html", "server/ui/static/sluice.css"} <= wanted
    assert wanted - names == set()
