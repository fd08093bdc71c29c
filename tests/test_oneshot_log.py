"""What a short command's log keeps when a connector floods stdout with lines that are not
Airbyte messages: the first ones, as the sync relay's attempt log does, and how many were
dropped (tests/fixtures/flood_connector.py, run as a real program)."""

from __future__ import annotations

import json
from pathlib import Path

from server.runner.base import ConnectorImage
from server.runner.lines import DROPPED_LINES_LOGGED
from server.runner.oneshot import run_in_job_dir
from server.runner.process import ProcessRunner
from tests.connector_fixtures import FIXTURES

FLOOD = ConnectorImage("flood", "process", "sluice-test/flood:1", ("flood_connector.py",))
SKIPPED = "Skipped a stdout line that is not an Airbyte message"


def check(tmp_path: Path, garbage_lines: int, deep_depth: int = 0) -> list[str]:
    config = {"garbage_lines": garbage_lines, "deep_depth": deep_depth}
    files = {"config.json": json.dumps(config).encode()}
    runner = ProcessRunner([str(FIXTURES)])
    output = run_in_job_dir(runner, FLOOD, "check", tmp_path / "runs", files, timeout=60)
    assert output.connection_status is not None
    assert output.connection_status.message == "the host refused the connection"
    return output.log_lines


def test_a_flood_of_lines_that_are_not_messages_keeps_the_useful_lines_and_says_how_many(
    tmp_path: Path,
) -> None:
    lines = check(tmp_path, 200_000)
    # The useful lines on both sides of the flood are kept: before the fix, the log kept the
    # last 1000 lines only, all of them garbage but the last two, and no count.
    assert "Running check for flood" in lines[0]
    assert any(line.endswith("INFO before the flood") for line in lines)
    assert any(line.endswith("INFO after the flood") for line in lines)
    skipped = [line for line in lines if SKIPPED in line]
    assert len(skipped) == DROPPED_LINES_LOGGED == 200
    assert "garbage line 0," in skipped[0] and "garbage line 199," in skipped[-1]
    # The relay's wording (server/sync/messages.py), at the cap and at the end.
    warnings = [line for line in lines if " WARN " in line and SKIPPED not in line]
    assert [w.split(" WARN ", 1)[1] for w in warnings] == [
        "200 lines that are not Airbyte messages dropped so far; further ones are only counted",
        "dropped 199,800 more lines that are not Airbyte messages (200,000 in all)",
    ]
    assert len(lines) < DROPPED_LINES_LOGGED + 10


def test_a_few_lines_that_are_not_messages_are_all_logged_without_a_summary(
    tmp_path: Path,
) -> None:
    lines = check(tmp_path, 3)
    assert sum(SKIPPED in line for line in lines) == 3
    assert not any("dropped" in line for line in lines)


def test_a_line_nested_too_deeply_to_decode_is_skipped_not_a_crash(tmp_path: Path) -> None:
    """msgspec raises RecursionError, not DecodeError, past about 1,000 levels."""
    lines = check(tmp_path, 1, deep_depth=100_000)
    assert sum(SKIPPED in line for line in lines) == 2
