"""The web UI in a real browser (Debian's chromium through Playwright) against a real
`sluice serve`: sign in, set up a source and a destination through the forms drawn from their
specs, a connection, sync now, the live log reaching "succeeded" and the records count on the
connection's page; a failed check shows the connector's message in the form; no secret value in
any page's HTML; signed-out pages go to the sign-in form; signing in works from the keyboard.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    PASSWORD,
    USERNAME,
    Seen,
    browser,
    html_seen,
    local_root,
    page,
    sign_in,
    signed_in,
    ui_server,
)
from tests.support.serving import ServerProcess

pytestmark = [pytest.mark.serve, pytest.mark.slow]
__all__ = ["browser", "html_seen", "page", "signed_in", "ui_server"]  # the fixtures used here

PEOPLE = "id,name,age\n" + "".join(f"{i},person {i},{20 + i}\n" for i in range(1, 8))
SECRET = "pw-3f9a1c2e-never-shown"


def new_actor(page: Any, kind: str, connector: str, name: str) -> None:
    """From the list page to the connector's form, the name filled in."""
    page.goto(f"/{kind}s")
    page.get_by_role("link", name=f"New {kind}").click()
    page.get_by_role("link", name=connector).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"New {kind}")
    page.get_by_label(re.compile(r"^Name")).fill(name)


def test_signed_out_pages_go_to_the_sign_in_form(page: Any) -> None:
    for path in ("/connections", "/sources", "/destinations/new", "/definitions", "/settings"):
        page.goto(path)
        assert re.search(r"/login\?next=", page.url), f"{path} -> {page.url}"
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_signing_in_takes_the_keyboard_only(page: Any) -> None:
    page.goto("/login?next=/sources")
    # The username field has the focus; Tab to the password, Enter submits.
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(USERNAME)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    # The path itself, not the sign-in page's `?next=/sources`.
    page.wait_for_url(re.compile(r"^[^?]*/sources$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sources")
    # A wrong password answers on the form, by keyboard too.
    page.context.clear_cookies()
    page.goto("/login")
    page.keyboard.type(USERNAME)
    page.keyboard.press("Tab")
    page.keyboard.type("wrong")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")


def test_first_sync_through_the_forms(signed_in: Any, ui_server: ServerProcess) -> None:
    page = signed_in
    (local_root(ui_server) / "people.csv").write_text(PEOPLE)

    new_actor(page, "source", "File (CSV, JSON", "People")
    page.get_by_label("URL").fill("/local/nobody.csv")
    page.get_by_role("button", name="Test the connection").click()
    # A refused field: the page the server answers says so beside it.
    expect(page.locator(".field-error")).to_have_text("This field is required.")
    expect(page.get_by_label("Dataset Name")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Dataset Name").fill("people")
    page.get_by_role("button", name="Test the connection").click()
    # The connector's own message, above the form, which keeps what was typed.
    result = page.locator("#check-result")
    expect(result).to_contain_text("The connection test failed.")
    expect(result).to_contain_text("nobody.csv")
    expect(page.get_by_label("Dataset Name")).to_have_value("people")
    page.get_by_label("URL").fill("/local/people.csv")
    page.get_by_role("button", name="Test the connection").click()
    expect(result).to_contain_text("The connection test succeeded.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved source")

    new_actor(page, "destination", "Local SQLite", "Warehouse")
    page.get_by_label("Destination Path").fill("/local/people.db")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved destination")

    page.goto("/connections/new")
    page.get_by_label("Source").select_option(
        label="People (File (CSV, JSON, Excel, Feather, Parquet))"
    )
    page.get_by_label("Destination").select_option(label="Warehouse (Local SQLite)")
    page.get_by_role("button", name="Create the connection").click()
    page.wait_for_url(re.compile(r"/connections/[0-9a-f-]{36}$"))
    connection_url = page.url

    page.get_by_role("button", name="Sync now").click()
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    # The log tails live (server-sent events) until the job's status reads succeeded.
    expect(page.locator("#job-status")).to_have_text("succeeded", timeout=90_000)
    expect(page.locator("#log")).not_to_be_empty()

    page.goto(connection_url)
    expect(page.get_by_text(re.compile(r"\b7 records\b"))).to_be_visible()


def test_no_secret_value_in_any_page(signed_in: Any, html_seen: Seen) -> None:
    """A Postgres password typed into the form: in no page afterwards (the check's reply, the
    saved form, the edit form, the lists); saved again with the field left blank, it is kept."""
    page = signed_in
    password = page.get_by_label(re.compile(r"^Password"))
    new_actor(page, "destination", "Postgres", "Secret store")
    page.get_by_label("Host").fill("127.0.0.1")
    page.get_by_label("Port").fill("1")
    page.get_by_label("DB Name").fill("d")
    page.get_by_label(re.compile(r"^User")).fill("u")
    password.fill(SECRET)
    page.get_by_role("button", name="Test the connection").click()
    expect(page.locator("#check-result")).to_contain_text("The connection test failed.")
    expect(page.locator("#check-result")).to_be_focused()
    html_seen.snap(page)
    # The test ran in the background: the form still holds what was typed (in the input, not
    # in the page's HTML).
    expect(password).to_have_value(SECRET)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved destination")
    html_seen.snap(page)
    edit_url = page.url
    expect(password).to_have_value("")
    expect(password).to_have_attribute("placeholder", re.compile("keep"))
    page.get_by_label("Host").fill("localhost")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved destination")
    html_seen.snap(page)
    for path in ("/destinations", edit_url, "/connections", "/definitions", "/settings"):
        page.goto(path)
        html_seen.snap(page)
    assert len(html_seen.pages) == 8
    assert all("<h1" in html for _, html in html_seen.pages)
    assert html_seen.containing(SECRET) == []
    # Kept, not lost: the API (Basic auth) sees a masked password, so one is stored.
    response = page.request.post(
        "/api/v1/destinations/list",
        data={"workspaceId": workspace_of(page)},
        headers={"Authorization": basic()},
    )
    stored = [d for d in response.json()["destinations"] if d["name"] == "Secret store"]
    assert stored[0]["connectionConfiguration"]["password"] == "**********"
    assert stored[0]["connectionConfiguration"]["host"] == "localhost"


def test_a_one_of_group_shows_the_chosen_options_fields(signed_in: Any) -> None:
    """Postgres' SSL modes: picking verify-ca shows its fields (the others stay hidden and are
    not posted); saved, the configuration holds that option only, its discriminator filled."""
    page = signed_in
    new_actor(page, "destination", "Postgres", "Verified")
    page.get_by_label("Host").fill("db.internal")
    page.get_by_label("DB Name").fill("d")
    page.get_by_label(re.compile(r"^User")).fill("u")
    ca = page.get_by_label("CA certificate").filter(visible=True)
    expect(ca).to_have_count(0)
    page.get_by_label("SSL modes").select_option(label="verify-ca")
    expect(ca).to_have_count(1)
    ca.fill("-----BEGIN CERTIFICATE-----")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved destination")
    expect(page.get_by_label("SSL modes")).to_have_value("4")  # shown again as chosen
    response = page.request.post(
        "/api/v1/destinations/list",
        data={"workspaceId": workspace_of(page)},
        headers={"Authorization": basic()},
    )
    stored = next(d for d in response.json()["destinations"] if d["name"] == "Verified")
    ssl_mode = stored["connectionConfiguration"]["ssl_mode"]
    assert ssl_mode == {"mode": "verify-ca", "ca_certificate": "**********"}


def test_an_optional_object_is_switched_on_to_be_filled_in(signed_in: Any) -> None:
    """The test source's fault injection: off (and its fields disabled) until ticked; then its
    fields, with their defaults, are saved."""
    page = signed_in
    new_actor(page, "source", "E2E Testing", "Faulty")
    mode = page.get_by_label(re.compile(r"^mode"))
    expect(mode).to_be_disabled()
    page.get_by_role("checkbox", name="Fault Injection").check()
    expect(mode).to_be_enabled()
    mode.select_option("crash")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved source")
    response = page.request.post(
        "/api/v1/sources/list",
        data={"workspaceId": workspace_of(page)},
        headers={"Authorization": basic()},
    )
    stored = next(s for s in response.json()["sources"] if s["name"] == "Faulty")
    fault = stored["connectionConfiguration"]["fault"]
    assert fault == {"mode": "crash", "after_records": 0, "line_bytes": 73400320}


def basic() -> str:
    return "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()


def workspace_of(page: Any) -> str:
    listed = page.request.post(
        "/api/v1/workspaces/list", data={}, headers={"Authorization": basic()}
    )
    return str(listed.json()["workspaces"][0]["workspaceId"])


def test_sign_out_ends_the_session(page: Any) -> None:
    sign_in(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    page.goto("/sources")
    assert "/login" in page.url
