"""What a connector definition may run: one rule, used by the definition APIs and the runners.

Any API client can write a definition, and running one runs a program as the server's user.
So a `process` definition names its program by a bare name, looked up only in the connector
directories (SLUICE_CONNECTOR_PATH, then the built-in connectors installed beside the server),
never on $PATH, never by a path, and never a shell, interpreter or launcher that runs
whatever its arguments say. A `docker` definition's repository must match one of
SLUICE_ALLOWED_IMAGES (fnmatch patterns). The runners apply the same rule when they start a
connector, so a row stored before the rule existed cannot run a shell either.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from server.runner.base import ConnectorError, ConnectorImage, Runner, RunningConnector, RunRequest
from server.settings import Settings

DEFAULT_ALLOWED_IMAGES = ("airbyte/*", "sluice/*")

# A bare program name: no separators, no leading dot or dash (no "..", no option lookalike).
_PROGRAM_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
# From the server's own scripts directory only connectors are taken: it also holds python,
# pip and every other tool installed beside the server.
_CONNECTOR_NAME = re.compile(r"^(source|destination)-[a-z0-9][a-z0-9._-]*$")
# Programs that run whatever their arguments say. The directories are the real limit; this
# list keeps a connector directory's python, pip or sh (a virtualenv's bin has them) out.
_RUNS_ANYTHING = re.compile(
    # shells
    r"^((ba|da|z|k|mk|pdk|c|tc|a|rba|ya)?sh|fish|busybox|toybox"
    # launchers: run the program named in their arguments
    r"|env|sudo|su|doas|runuser|setpriv|nohup|nice|ionice|timeout|time|setsid|stdbuf|chroot"
    r"|unshare|nsenter|flock|xargs|parallel|watch|script|expect|strace|ltrace|gdb|ssh"
    r"|docker|podman|kubectl|git|make|g?awk|mawk|nawk|sed|find|activate.*"
    # interpreters and installers, with any version suffix (python3.11, pip3, perl5.36)
    r"|(python|pythonw|pypy|ipython|jupyter|pip|pipx|uvx?|perl|ruby|irb|php|lua|luajit|node"
    r"|nodejs|npm|npx|deno|bun|java|jshell|julia|rscript|r|tclsh|wish|pwsh|powershell)"
    r"[0-9.]*(-config)?)$"
)

Field = Literal["command", "dockerRepository"]


@dataclass(frozen=True)
class Refusal:
    """Why a definition may not run: the wire name of the field at fault, and a message."""

    field: Field
    message: str


def builtin_connector_dirs() -> tuple[Path, ...]:
    """Where the built-in connectors are installed beside the server: its environment's
    scripts directory, found from its own interpreter (not $PATH, so an unactivated
    virtualenv's `bin/sluice serve` finds them too)."""
    found: list[Path] = []
    candidates = [sysconfig.get_path("scripts")]
    if sys.executable:
        # Not resolved: a virtualenv's bin/python is a symlink to the base interpreter.
        candidates.append(str(Path(sys.executable).parent))
    for candidate in candidates:
        path = Path(candidate).absolute()
        if candidate and path not in found:
            found.append(path)
    return tuple(found)


def image_repository(docker_image: str) -> str:
    """'airbyte/source-faker:7.2.1' -> 'airbyte/source-faker' (a registry port stays)."""
    name, _, tag = docker_image.rpartition(":")
    return name if name and "/" not in tag else docker_image


class RunRules:
    """The connector directories and the image allow-list of one server."""

    def __init__(
        self,
        connector_dirs: Sequence[str | Path] = (),
        allowed_images: Sequence[str] = DEFAULT_ALLOWED_IMAGES,
        builtin_dirs: Sequence[Path] | None = None,
    ) -> None:
        # Relative directories are the server's working directory's, fixed at start-up.
        self.connector_dirs = tuple(Path(d).expanduser().resolve() for d in connector_dirs if d)
        self.builtin_dirs = tuple(
            builtin_connector_dirs() if builtin_dirs is None else builtin_dirs
        )
        self.allowed_images = tuple(p.strip() for p in allowed_images if p.strip())

    def find_program(self, name: str) -> str | None:
        """The absolute path of the connector program `name`, or None."""
        if self._name_refusal(name) is not None:
            return None
        dirs = list(self.connector_dirs)
        if _CONNECTOR_NAME.match(name):
            dirs += self.builtin_dirs
        for directory in dirs:
            found = shutil.which(name, path=str(directory))
            if found is not None:
                return str(Path(found).absolute())
        return None

    def command_refusal(self, command: Sequence[str]) -> str | None:
        if not command:
            return "A process definition needs a command: the connector program's name"
        name = command[0]
        refusal = self._name_refusal(name)
        if refusal is None and self.find_program(name) is None:
            refusal = (
                f"Program '{name}' was not found in the connector directories "
                f"({self.describe_dirs()}); install it there or add its directory to "
                f"SLUICE_CONNECTOR_PATH"
            )
        return refusal

    def image_refusal(self, repository: str) -> str | None:
        if any(fnmatch.fnmatchcase(repository, p) for p in self.allowed_images):
            return None
        allowed = ", ".join(self.allowed_images) or "none"
        return f"Image '{repository}' is not allowed: SLUICE_ALLOWED_IMAGES permits {allowed}"

    def refusal(
        self, runner: str, command: Sequence[str], docker_repository: str
    ) -> Refusal | None:
        """Why a definition with these fields may not run, or None when it may."""
        if runner == "process":
            message = self.command_refusal(command)
            return None if message is None else Refusal("command", message)
        message = self.image_refusal(docker_repository)
        return None if message is None else Refusal("dockerRepository", message)

    def check(self, connector: ConnectorImage) -> None:
        """At run time: raise ConnectorError (the run's failure) when it may not run."""
        found = self.refusal(
            connector.runner, connector.command, image_repository(connector.docker_image)
        )
        if found is not None:
            raise ConnectorError(f"Connector '{connector.name}' may not run: {found.message}")

    def describe_dirs(self) -> str:
        configured = os.pathsep.join(str(d) for d in self.connector_dirs) or "empty"
        builtin = ", ".join(str(d) for d in self.builtin_dirs) or "none"
        return f"SLUICE_CONNECTOR_PATH {configured}; built-in connectors in {builtin}"

    def _name_refusal(self, name: str) -> str | None:
        if os.path.isabs(name) or "/" in name or "\\" in name:
            return (
                f"'{name}' is a path: name the connector program only; it is looked up in the "
                f"connector directories, never elsewhere"
            )
        if not _PROGRAM_NAME.match(name):
            return f"'{name}' is not a program name"
        if _RUNS_ANYTHING.match(name.lower()):
            return (
                f"'{name}' is a shell, interpreter or launcher, which runs whatever its "
                f"arguments say; name the connector program itself"
            )
        return None


@functools.lru_cache(maxsize=16)
def rules_for(settings: Settings) -> RunRules:
    return RunRules(settings.connector_dirs, settings.allowed_image_patterns)


class AllowedImages:
    """A runner that starts only allowed connectors, then hands them to the real one."""

    def __init__(self, runner: Runner, rules: RunRules) -> None:
        self._runner = runner
        self._rules = rules

    def start(self, request: RunRequest) -> RunningConnector:
        self._rules.check(request.connector)
        return self._runner.start(request)
