"""Signing in to the web UI: the form, the session cookie and its flags, sign-out, pages sent
to the sign-in form when signed out, CSRF tokens on every form, the API never taking the
cookie, and the security headers of pages and assets."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.auth.middleware import TOKEN_PATHS
from server.core import ui_sessions
from server.public.applications import ROOT_ALIASES
from server.settings import Settings
from server.ui import paths
from server.ui.login import safe_next
from server.ui.static import ASSETS, static_url
from tests.conftest import running
from tests.support.ui import browser, csrf_of, sign_in, submit

PAGES = ["/connections", "/connections/new", "/jobs/1", f"/connections/{'0' * 8}/jobs", "/"]


async def test_a_signed_out_page_is_sent_to_the_sign_in_form(app: Starlette) -> None:
    async with running(app), browser(app) as b:
        for page in PAGES:
            r = await b.get(page + "?x=1")
            assert r.status_code == 303, page
            assert r.headers["location"] == "/login?" + urlencode({"next": page + "?x=1"}), page
        # A POST too, and nothing was done.
        r = await b.post("/connections/new", data={"csrf_token": "x"})
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        # The form and the assets are open.
        assert (await b.get("/login")).status_code == 200
        assert (await b.get(static_url("sluice.css"))).status_code == 200


async def test_a_path_that_is_no_page_is_a_404(app: Starlette) -> None:
    async with running(app), browser(app) as b:
        # Signed out: the app's JSON 404, as before the UI (no redirect to sign in first).
        r = await b.get("/no/such/page")
        assert r.status_code == 404 and r.headers["content-type"] == "application/json"
        await sign_in(b)
        r = await b.get("/no/such/page")
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "There is no such page." in r.text
        # API paths keep their JSON replies, signed in or not.
        r = await b.get("/api/v2/x")
        assert r.status_code == 401 and r.headers["content-type"] == "application/json"


async def test_sign_in_sets_a_session_cookie_with_its_flags_and_sign_out_ends_it(
    app: Starlette,
) -> None:
    async with running(app), browser(app) as b:
        r = await sign_in(b)
        assert r.status_code == 303 and r.headers["location"] == "/connections"
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie")
        assert cookie.startswith(paths.SESSION_COOKIE + "=")
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "path=/", "samesite=lax"} <= flags
        assert "secure" not in flags  # plain http here
        token = b.cookies[paths.SESSION_COOKIE]
        page = await b.get("/connections")
        assert page.status_code == 200 and "Sign out" in page.text
        # The store holds the token's digest, never the token.
        db = app.state.ctx.store
        rows = await db.read(lambda d: d.execute("SELECT digest FROM ui_sessions").fetchall())
        assert len(rows) == 1 and rows[0][0] != token and len(rows[0][0]) == 64

        r = await submit(b, "/connections", "/logout")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert (await db.read(lambda d: d.execute("SELECT count(*) FROM ui_sessions").fetchone()))[
            0
        ] == 0
        b.cookies.set(paths.SESSION_COOKIE, token)  # the old cookie, kept by someone
        assert (await b.get("/connections")).status_code == 303


async def test_the_cookie_is_secure_over_https(app: Starlette) -> None:
    async with running(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="https://localhost") as b:
            r = await sign_in(b)
            cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie")
            assert "secure" in cookie.lower()


async def test_wrong_credentials_show_the_form_again_without_a_session(app: Starlette) -> None:
    async with running(app), browser(app) as b:
        for user, password in (("airbyte", "wrong"), ("nobody", "password"), ("", "")):
            r = await sign_in(b, user, password)
            assert r.status_code == 401 and "Wrong username or password" in r.text
            assert "www-authenticate" not in r.headers  # no browser Basic dialog
            assert paths.SESSION_COOKIE not in b.cookies
        assert (await b.get("/connections")).status_code == 303


async def test_a_form_without_its_csrf_token_is_refused(app: Starlette) -> None:
    async with running(app), browser(app) as b:
        await sign_in(b)
        for data in ({}, {"csrf_token": ""}, {"csrf_token": "forged"}):
            r = await b.post("/logout", data=data)
            assert r.status_code == 403, data
            assert "did not come from this site" in r.text
        assert (await b.get("/connections")).status_code == 200  # still signed in
        # The sign-in form needs its token too (no sign-in forced from another site).
        b.cookies.clear()
        r = await b.post("/login", data={"username": "airbyte", "password": "password"})
        assert r.status_code == 403


async def test_a_page_of_another_site_cannot_post_a_form(app: Starlette) -> None:
    async with running(app), browser(app) as b:
        await sign_in(b)
        page = await b.get("/connections")
        r = await b.post(
            "/logout",
            data={"csrf_token": csrf_of(page)},
            headers={"origin": "http://evil.example"},
        )
        assert r.status_code == 403


async def test_the_api_never_takes_the_session_cookie(app: Starlette) -> None:
    async with running(app), browser(app) as b:
        await sign_in(b)
        assert paths.SESSION_COOKIE in b.cookies
        for path in ("/api/v1/workspaces/list", "/api/v1/no/such/thing"):
            r = await b.post(path, json={})
            assert r.status_code == 401, path
        r = await b.get("/api/public/v1/workspaces")
        assert r.status_code == 401
        # And a Basic credential does not open a page.
        async with browser(app) as other:
            r = await other.get("/connections", auth=("airbyte", "password"))
            assert r.status_code == 303


async def test_pages_take_forms_only_and_the_api_json_only(app: Starlette) -> None:
    async with running(app), browser(app) as b:
        await sign_in(b)
        r = await b.post("/logout", json={"csrf_token": "x"})
        assert r.status_code == 415
        r = await b.post(
            "/logout",
            content=b"a" * (paths.MAX_FORM_BYTES + 1),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 413
        r = await b.post(
            "/api/v1/workspaces/list",
            content=b"a=b",
            headers={"content-type": "application/x-www-form-urlencoded"},
            auth=("airbyte", "password"),
        )
        assert r.status_code == 415


async def test_pages_and_assets_have_their_headers(app: Starlette) -> None:
    async with running(app), browser(app) as b:
        await sign_in(b)
        page = await b.get("/connections")
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert page.headers["cache-control"] == "no-store"
        # Under no-referrer a browser posts a page's forms with `Origin: null`, which the edge
        # refuses; same-origin keeps the Origin on the site's own requests only.
        assert page.headers["referrer-policy"] == "same-origin"
        api = await b.get("/api/v1/health")
        assert api.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in api.headers["content-security-policy"]
        # Under no-referrer, browsers post the page's forms with `Origin: null` (refused).
        assert page.headers["referrer-policy"] == "same-origin"
        assert "<script>" not in page.text and " style=" not in page.text  # nothing inline
        for name, asset in ASSETS.items():
            r = await b.get(static_url(name))
            assert r.status_code == 200 and r.content == asset.body
            assert "immutable" in r.headers["cache-control"]
            assert r.headers["etag"] == f'"{asset.hash}"'
            again = await b.get(static_url(name), headers={"if-none-match": r.headers["etag"]})
            assert again.status_code == 304
            stale = await b.get(f"/static/{name}?v=old")
            assert "immutable" not in stale.headers["cache-control"]
        assert sum(len(a.body) for a in ASSETS.values()) < 32 * 1024  # small


async def test_with_auth_off_no_sign_in_is_needed_and_forms_still_need_their_token(
    tmp_path: Path,
) -> None:
    app = create_app(Settings(data_dir=str(tmp_path / "d"), scheduler_tick_seconds=0, auth="none"))
    async with running(app), browser(app) as b:
        page = await b.get("/connections")
        assert page.status_code == 200 and "Sign out" not in page.text
        assert (await b.get("/login")).status_code == 303
        r = await b.post("/connections/new", data={"source": "x"})
        assert r.status_code == 403
        # The token a page's forms carry: the double-submit cookie's value.
        token = b.cookies[paths.CSRF_COOKIE]
        r = await b.post("/connections/new", data={"csrf_token": token, "source": "x"})
        assert r.status_code == 400 and "Choose a source" in r.text


def test_after_sign_in_only_a_path_of_this_site() -> None:
    assert safe_next("/connections/x?y=1") == "/connections/x?y=1"
    for bad in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil",
        "evil",
        "",
        None,
        "/login?next=/x",
        "/x\r\nSet-Cookie: a=b",
    ):
        assert safe_next(bad) == "/connections", bad


def test_the_ui_and_the_api_agree_on_which_paths_are_the_apis() -> None:
    assert {p for p in TOKEN_PATHS if not p.startswith("/api/")} == paths.API_ROOT_PATHS
    assert set(ROOT_ALIASES) == paths.API_ROOT_PATHS
    assert not paths.is_ui_path("/api/v1/x") and not paths.is_ui_path("/api")
    assert paths.is_ui_path("/") and paths.is_ui_path("/apixyz")


@pytest.mark.parametrize("limit", [3])
async def test_sign_in_attempts_are_rate_limited_per_address(tmp_path: Path, limit: int) -> None:
    app = create_app(
        Settings(data_dir=str(tmp_path / "d"), scheduler_tick_seconds=0, rate_limit=limit)
    )
    async with running(app), browser(app) as b:
        codes = []
        for _ in range(limit + 1):
            r = await b.post("/login", data={"username": "airbyte", "password": "guess"})
            codes.append(r.status_code)
        assert codes[-1] == 429 and "retry-after" in r.headers


async def test_a_session_ends_when_idle_too_long_and_at_its_end(app: Starlette) -> None:
    async with running(app), browser(app) as b:
        ctx = app.state.ctx
        start = ctx.clock()
        await sign_in(b)
        # Used within the idle limit, again and again: it lives on, up to its end.
        for step in range(1, 8):
            ctx.clock = lambda step=step: start + step * (ui_sessions.IDLE_SECONDS - 60)
            r = await b.get("/connections")
            if ctx.now() < start + ui_sessions.SESSION_SECONDS:
                assert r.status_code == 200, step
            else:
                assert r.status_code == 303, step
        await sign_in(b)
        signed_in = ctx.clock()
        ctx.clock = lambda: signed_in + ui_sessions.IDLE_SECONDS + 1
        assert (await b.get("/connections")).status_code == 303
