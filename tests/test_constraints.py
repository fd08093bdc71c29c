"""A fresh install is reproducible: set-up installs with the pins the tests were run with."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
FAKER_VENV = ROOT / ".venvs" / "source-faker"


def pins(name: str) -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    return dict(line.split("==", 1) for line in lines if line and not line.startswith("#"))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_pip_install_of_the_set_up_uses_the_pins() -> None:
    for script, pinned in (
        ("scripts/setup.sh", "constraints.txt"),
        ("scripts/install-faker.sh", "constraints-faker.txt"),
    ):
        text = (ROOT / script).read_text()
        # Logical lines (continuations joined) that run pip install, not echo or comment it.
        lines = text.replace("\\\n", " ").splitlines()
        installs = [
            line
            for line in lines
            if re.search(r"pip\"? install\b", line) and not line.lstrip().startswith(("#", "echo"))
        ]
        assert installs, script
        for command in installs:
            assert "-c " in command or "constraints[@]" in command, (script, command)
        assert pinned in text, script


def test_the_pins_satisfy_what_the_projects_declare() -> None:
    pinned = pins("constraints.txt")
    for project, extras in (
        (ROOT / "pyproject.toml", "test"),
        (ROOT / "connectors" / "pyproject.toml", "all"),
    ):
        meta = tomllib.loads(project.read_text())["project"]
        declared = [*meta["dependencies"], *meta.get("optional-dependencies", {}).get(extras, [])]
        for text in declared:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate():
                continue
            version = pinned.get(canonical(requirement.name))
            assert version is not None, f"{requirement.name} is not pinned in constraints.txt"
            assert requirement.specifier.contains(version, prereleases=True), (text, version)
    faker = pins("constraints-faker.txt")
    assert faker["airbyte-source-faker"] == "7.2.1"  # the version install-faker.sh installs


def test_the_pins_are_what_is_installed() -> None:
    """The tests run against exactly the pinned versions (scripts/setup.sh installs them)."""
    if not (FAKER_VENV / "bin" / "pip").exists():
        pytest.skip("scripts/install-faker.sh has not run")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update-constraints.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
