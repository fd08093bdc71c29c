"""The command line every connector shares, and the base classes connectors implement.

    <connector> spec
    <connector> check --config FILE
    <connector> discover --config FILE                       (sources)
    <connector> read --config FILE --catalog FILE [--state FILE]   (sources)
    <connector> write --config FILE --catalog FILE            (destinations; messages on stdin)

Failures follow the protocol: a failed `check` is a CONNECTION_STATUS FAILED with exit 0; a
failed `read`/`write` emits a TRACE ERROR and exits 1. A `ConfigError` is the user's to fix
(failure_type config_error); anything else is a system_error.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from sluice_connectors.protocol import Output


class ConfigError(Exception):
    """The configuration is wrong in a way the user must fix."""


def load_json(path: str) -> Any:
    return msgspec.json.decode(Path(path).read_bytes())


def load_state(path: str | None) -> list[dict[str, Any]]:
    """The `--state` file: a list of AirbyteStateMessage (a bare object is legacy state)."""
    if not path:
        return []
    state = load_json(path)
    if state is None:
        return []
    return state if isinstance(state, list) else [{"type": "LEGACY", "data": state}]


class Connector:
    """Shared by sources and destinations."""

    def __init__(self, output: Output | None = None) -> None:
        self.out = output or Output()

    def spec(self) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, config: dict[str, Any]) -> None:
        """Raise (ConfigError or anything else) if the configuration cannot work."""
        raise NotImplementedError


class Source(Connector):
    def discover(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        """The AirbyteStream objects this source offers."""
        raise NotImplementedError

    def read(
        self, config: dict[str, Any], catalog: dict[str, Any], state: list[dict[str, Any]]
    ) -> None:
        """Emit RECORD and STATE messages through `self.out`."""
        raise NotImplementedError


class Destination(Connector):
    def write(self, config: dict[str, Any], catalog: dict[str, Any], stdin: BinaryIO) -> None:
        """Consume the message lines on stdin; echo each STATE once what precedes it is
        durably written."""
        raise NotImplementedError


def input_lines(stdin: BinaryIO) -> Iterator[bytes]:
    """Message lines from stdin, read in large blocks."""
    yield from stdin


def _parser(is_source: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("spec")
    commands.add_parser("check").add_argument("--config", required=True)
    if is_source:
        commands.add_parser("discover").add_argument("--config", required=True)
        read = commands.add_parser("read")
        read.add_argument("--config", required=True)
        read.add_argument("--catalog", required=True)
        read.add_argument("--state")
    else:
        write = commands.add_parser("write")
        write.add_argument("--config", required=True)
        write.add_argument("--catalog", required=True)
    return parser


def run(connector: Connector, argv: list[str] | None = None) -> int:
    """Parse the command line, run the command, and map failures onto the protocol."""
    args = _parser(isinstance(connector, Source)).parse_args(argv)
    out = connector.out
    try:
        if args.command == "spec":
            out.spec(connector.spec())
        elif args.command == "check":
            try:
                connector.check(load_json(args.config))
            except Exception as exc:  # a failed check is a status, not a crash
                out.connection_status(False, f"{type(exc).__name__}: {exc}")
            else:
                out.connection_status(True)
        elif args.command == "discover":
            assert isinstance(connector, Source)
            out.catalog(connector.discover(load_json(args.config)))
        elif args.command == "read":
            assert isinstance(connector, Source)
            config, catalog = load_json(args.config), load_json(args.catalog)
            connector.read(config, catalog, load_state(args.state))
        elif args.command == "write":
            assert isinstance(connector, Destination)
            config, catalog = load_json(args.config), load_json(args.catalog)
            connector.write(config, catalog, sys.stdin.buffer)
        out.flush()
        return 0
    except BrokenPipeError:
        return 1
    except Exception as exc:
        failure = "config_error" if isinstance(exc, ConfigError) else "system_error"
        try:
            out.flush()
            out.error(f"{type(exc).__name__}: {exc}", failure, traceback.format_exc())
        except BrokenPipeError:
            pass
        print(traceback.format_exc(), file=sys.stderr)
        return 1


def main(connector_class: type[Connector]) -> None:
    """Console-script entry point: `main(MySource)`."""
    raise SystemExit(run(connector_class()))
