"""The Files page in a real browser (Debian's chromium through Playwright) against a real
`sluice serve`: a CSV chosen in the upload form and uploaded (multipart, streamed), its preview
(columns and first rows), then imported into a SQLite destination made through its form, the
job's live log reaching "succeeded" and the rows in the database file."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import browser, local_root, page, signed_in, ui_server
from tests.support.serving import ServerProcess

pytestmark = [pytest.mark.serve, pytest.mark.slow]
__all__ = ["browser", "page", "signed_in", "ui_server"]  # the fixtures used here

PEOPLE = "id,name,age\n" + "".join(f"{i},person {i},{20 + i}\n" for i in range(1, 6))


def test_upload_preview_and_import(
    signed_in: Any, ui_server: ServerProcess, tmp_path: Path
) -> None:
    page = signed_in
    db_file = local_root(ui_server) / "imported.db"
    page.goto("/destinations")
    page.get_by_role("link", name="New destination").click()
    page.get_by_role("link", name="Local SQLite").click()
    page.get_by_label(re.compile(r"^Name")).fill("Imports")
    page.get_by_label("Destination Path").fill("/local/imported.db")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved destination")

    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Files")
    page.get_by_label(re.compile(r"^File")).set_input_files(str(csv))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/files/[0-9a-f-]{36}$"))
    expect(page.locator(".flash")).to_contain_text("people.csv uploaded.")
    columns = page.locator("#columns")
    expect(columns.get_by_role("rowheader")).to_have_text(["id", "name", "age"])
    expect(columns).to_contain_text("integer")
    expect(page.locator("#rows tbody tr")).to_have_count(5)
    expect(page.locator("#rows")).to_contain_text("person 3")
    expect(page.locator("#row-count")).to_contain_text("5 rows")

    page.get_by_label("Destination", exact=True).select_option(label="Imports (Local SQLite)")
    page.get_by_label("Table name").fill("people")
    page.get_by_label("age becomes").fill("years")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    expect(page.locator("#job-status")).to_have_text("succeeded", timeout=90_000)
    with sqlite3.connect(db_file) as db:
        got = db.execute("SELECT id, name, years FROM people ORDER BY id").fetchall()
    assert got == [(i, f"person {i}", 20 + i) for i in range(1, 6)]
