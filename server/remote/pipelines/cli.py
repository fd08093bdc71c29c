"""`sluice apply`, `sluice diff` and `sluice export`: pipelines as code, over the HTTP API.

Exit codes: 0 done (`diff --exit-code`: 1 when something would change), 1 the server refused
a change (what was applied before it is listed), 2 a document or usage error, or a
configuration its connector's spec rejects, 4 the server is unreachable or refused the
credential.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO, cast

from server.remote import client as remote_client
from server.remote.client import RemoteError
from server.remote.pipelines import document, export, plan
from server.remote.pipelines.apply import Applier, checks
from server.remote.pipelines.remote import Remote

COMMANDS = ("apply", "diff", "export")
MARKS = {"create": "+", "update": "~", "delete": "-", "unchanged": "="}


def add_parsers(commands: Any) -> None:
    apply = commands.add_parser(
        "apply",
        help="make a server match pipeline documents (YAML or JSON)",
        description="Plan, check every configuration against its connector's spec, then "
        "create, update (and with --prune delete) through the API. Exit codes: 0 applied, "
        "1 the server refused a change, 2 a bad document, 4 server unreachable or auth error.",
    )
    apply.add_argument("-f", "--file", type=Path, help="a document, or a directory of them")
    apply.add_argument("--dry-run", action="store_true", help="plan and check; change nothing")
    apply.add_argument(
        "--prune",
        action="store_true",
        help="delete what the document's workspaces hold and it does not name",
    )
    apply.add_argument(
        "--update-secrets",
        action="store_true",
        help="send every secret again, even with no other change",
    )
    apply.add_argument(
        "--schema", action="store_true", help="print the documents' JSON Schema and exit"
    )
    remote_client.add_arguments(apply)

    diff = commands.add_parser("diff", help="print what `apply` would change (no checks)")
    diff.add_argument("-f", "--file", type=Path, required=True, help="a document or a directory")
    diff.add_argument(
        "--prune", action="store_true", help="include the deletions --prune would make"
    )
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when something would change")
    remote_client.add_arguments(diff)

    exp = commands.add_parser("export", help="write documents for what a server holds")
    exp.add_argument(
        "--workspace", action="append", metavar="NAME", help="only this workspace (repeatable)"
    )
    exp.add_argument("-o", "--output", type=Path, help="the file to write (default stdout)")
    remote_client.add_arguments(exp)


class _Reader(io.TextIOBase):
    """The output, for as long as someone reads it: `sluice apply | head` must not stop an
    apply half-way when `head` has seen enough, so once the pipe closes the rest is dropped."""

    def __init__(self, out: TextIO) -> None:
        self._out: TextIO | None = out

    def write(self, text: str) -> int:
        if self._out is not None:
            try:
                self._out.write(text)
                self._out.flush()
            except BrokenPipeError:
                # No error at exit either, when Python flushes stdout.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                self._out = None
        return len(text)


def run(
    args: argparse.Namespace, env: Mapping[str, str] | None = None, out: TextIO | None = None
) -> int:
    env = os.environ if env is None else env
    out = out or cast(TextIO, _Reader(sys.stdout))
    if args.command == "apply" and args.schema:
        out.write(document.schema_text())
        return 0
    if args.command in ("apply", "diff") and args.file is None:
        print("sluice: -f/--file is required", file=sys.stderr)
        return 2
    try:
        with remote_client.from_args(args, env) as client:
            if args.command == "export":
                return _export(args, Remote.read(client, args.workspace), out)
            doc = document.load(args.file, env)
            return _plan_and_apply(args, client, doc, out)
    except document.DocumentError as exc:
        print(f"sluice: the document has errors:\n{exc}", file=sys.stderr)
        return 2
    except RemoteError as exc:
        print(f"sluice: {exc.message}", file=sys.stderr)
        return 4 if exc.unreachable or exc.auth else 1


def _export(args: argparse.Namespace, remote: Remote, out: TextIO) -> int:
    missing = set(args.workspace or ()) - set(remote.workspaces)
    if missing:
        print(f"sluice: no workspace named {', '.join(sorted(missing))}", file=sys.stderr)
        return 2
    text = export.dump(export.document(remote))
    if args.output is None:
        out.write(text)
    else:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=out)
    return 0


def render(p: plan.Plan, out: TextIO) -> None:
    counts = p.counts()
    print(
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['unchanged']} unchanged.",
        file=out,
    )
    for step in p.steps:
        print(f"  {MARKS[step.action]} {step.title}", file=out)
        for change in step.changes:
            print(f"      {change}", file=out)
    if p.secrets_unverified:
        print(f"Note: {plan.SECRETS_NOTE}.", file=out)


def _plan_and_apply(
    args: argparse.Namespace, client: remote_client.Client, doc: document.Document, out: TextIO
) -> int:
    remote = Remote.read(client, doc.workspaces)
    the_plan = plan.make(
        doc, remote, prune=args.prune, update_secrets=getattr(args, "update_secrets", False)
    )
    if the_plan.problems:
        raise document.DocumentError(the_plan.problems)
    render(the_plan, out)
    if args.command == "diff":
        return 1 if args.exit_code and the_plan.pending() else 0
    problems = list(checks(the_plan, remote))
    if problems:
        print("sluice: configurations that do not match their connector's spec:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(
            "Dry run: every configuration matches its connector's spec; nothing changed.", file=out
        )
        return 0
    if not the_plan.pending():
        print("Nothing to do.", file=out)
        return 0
    try:
        applied = Applier(client, remote, lambda line: print(f"  {line}", file=out)).run(the_plan)
    except RemoteError as exc:
        done = exc.details.get("applied") or []
        print(f"sluice: {exc.details.get('failed')}: {exc.message}", file=sys.stderr)
        print(
            f"applied before it: {len(done)} change(s){': ' if done else ''}{'; '.join(done)}",
            file=sys.stderr,
        )
        return 4 if exc.unreachable or exc.auth else 1
    print(f"Applied {len(applied)} change(s).", file=out)
    return 0
