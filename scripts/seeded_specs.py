#!/usr/bin/env python3
"""Write the specs the server ships for its seeded connectors (server/core/shipped_specs/),
each as the connector program prints it (`<program> spec`), and their index.

    python3 scripts/seeded_specs.py          # rewrite server/core/shipped_specs/
    python3 scripts/seeded_specs.py --check  # exit 1 if they differ from the programs' output

The programs are found as the server finds them by default: Airbyte's source-faker in
.venvs/source-faker/bin (scripts/install-faker.sh), Sluice's own connectors beside this
interpreter. Run it after changing a seeded definition's version or a connector's SPEC.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.core.seeded_specs import DATA_DIR, INDEX, ShippedSpec  # noqa: E402
from server.runner.allowed import RunRules  # noqa: E402
from server.store import definitions  # noqa: E402
from server.store.db import open_db  # noqa: E402

OUT = ROOT / "server" / "core" / DATA_DIR
FAKER_BIN = ROOT / ".venvs" / "source-faker" / "bin"
SPEC_TIMEOUT_SECONDS = 120


def seeded() -> list[ShippedSpec]:
    """One entry per definition a fresh install seeds, in the order it seeds them."""
    db = open_db(None)
    found: list[ShippedSpec] = []
    for kind, listed in (
        ("source", definitions.list_source_definitions(db)),
        ("destination", definitions.list_destination_definitions(db)),
    ):
        for d in listed:
            defined = getattr(d, f"{kind}_definition_id")
            found.append(
                ShippedSpec(
                    kind=kind,  # type: ignore[arg-type]  # the loop's two literals
                    definition_id=str(defined),
                    docker_image=f"{d.docker_repository}:{d.docker_image_tag}",
                    command=list(d.command or []),
                    file=f"{d.docker_repository.rsplit('/', 1)[-1]}.json",
                )
            )
    return found


def find_program(name: str) -> str | None:
    return RunRules((FAKER_BIN,)).find_program(name)


def printed_spec(command: list[str]) -> dict[str, Any]:
    """The `spec` field of the SPEC message the program prints."""
    program = find_program(command[0])
    if program is None:
        raise SystemExit(f"{command[0]} is not installed (scripts/setup.sh, install-faker.sh)")
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(
            [program, *command[1:], "spec"],
            cwd=cwd,
            capture_output=True,
            timeout=SPEC_TIMEOUT_SECONDS,
            check=False,
        )
    for line in done.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue  # not a protocol message
        if isinstance(message, dict) and message.get("type") == "SPEC":
            spec: dict[str, Any] = message["spec"]
            return spec
    raise SystemExit(f"{program} spec printed no SPEC (exit {done.returncode})")


def rendered(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def index_value(entries: list[ShippedSpec]) -> list[dict[str, Any]]:
    return [
        {
            "kind": e.kind,
            "definitionId": e.definition_id,
            "dockerImage": e.docker_image,
            "command": e.command,
            "file": e.file,
        }
        for e in entries
    ]


def expected() -> dict[str, bytes]:
    entries = seeded()
    files = {INDEX: rendered(index_value(entries))}
    for entry in entries:
        files[entry.file] = rendered(printed_spec(entry.command))
    return files


def main(argv: list[str]) -> int:
    files = expected()
    present = {p.name: p.read_bytes() for p in OUT.glob("*.json")} if OUT.is_dir() else {}
    if "--check" in argv:
        stale = sorted(n for n in files.keys() | present.keys() if files.get(n) != present.get(n))
        for name in stale:
            print(f"{OUT.relative_to(ROOT) / name} is out of date", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(exist_ok=True)
    for name in present.keys() - files.keys():
        (OUT / name).unlink()
    for name, content in files.items():
        (OUT / name).write_bytes(content)
    print(f"wrote {len(files)} files in {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
