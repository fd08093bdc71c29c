"""A real browser on a real server, for the web UI's end-to-end tests: `sluice serve` on a
loopback port with its own data directory (tests.support.serving), and Debian's `chromium`
driven by Playwright through `executable_path` (Playwright downloads no browser here).

Fixtures: `ui_server` (one server per test module, auth on with the default admin),
`browser` (one chromium per module), `page` (a fresh context per test: no cookies carried
over) and `signed_in` (a page that has signed in). `html_seen` collects the HTML of the pages a
test snaps, for the "no secret in any page" checks.

The tests skip, saying why, only when there is no chromium (Playwright is in the test extra).
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.support.serving import ServerProcess

USERNAME, PASSWORD = "airbyte", "password"  # the defaults (tests.conftest.ADMIN_AUTH)
TIMEOUT_MS = 20_000
VIEWPORT = {"width": 1280, "height": 800}


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no chromium on this machine: apt-get install chromium")
    return found


def launch(playwright: Any) -> Any:
    # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
    return playwright.chromium.launch(
        executable_path=chromium_path(), args=["--no-sandbox", "--disable-dev-shm-usage"]
    )


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("ui") / "data")
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium_path()
    with sync_playwright() as playwright:
        launched = launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


class Seen:
    """The HTML of each page a test took in (`snap` once the page has settled: a page's
    content cannot be read while it navigates)."""

    def __init__(self) -> None:
        self.pages: list[tuple[str, str]] = []

    def snap(self, page: Any) -> None:
        page.wait_for_load_state()
        self.pages.append((page.url, page.content()))

    def containing(self, text: str) -> list[str]:
        return [url for url, html in self.pages if text in html]


@pytest.fixture
def html_seen() -> Seen:
    return Seen()


@pytest.fixture
def page(browser: Any, ui_server: ServerProcess) -> Iterator[Any]:
    context = browser.new_context(base_url=ui_server.url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def sign_in(page: Any, username: str = USERNAME, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def signed_in(page: Any) -> Any:
    sign_in(page)
    return page


def local_root(server: ServerProcess) -> Path:
    """The directory connectors see as /local (the server's default: <data_dir>/local)."""
    root = server.data_dir / "local"
    root.mkdir(parents=True, exist_ok=True)
    return root
