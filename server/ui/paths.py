"""Which request paths belong to the web UI (a leaf: imports nothing of server/).

Everything outside `/api/` is the UI's, except the root aliases of the public API's token
operation that SDKs resolve their default token URL to (they keep the API's rules).
"""

from __future__ import annotations

# server/public/applications.py ROOT_ALIASES; tests/test_ui_auth.py checks they agree.
API_ROOT_PATHS = frozenset({"/v1/applications/token", "/applications/token"})
LOGIN = "/login"
LOGOUT = "/logout"
STATIC = "/static/"
SESSION_COOKIE = "sluice_session"
# Before sign-in (and when auth is off) forms carry this cookie's value as their CSRF token.
CSRF_COOKIE = "sluice_csrf"
FLASH_COOKIE = "sluice_flash"
# The scope key under which the auth middleware hands a page its live session (None: auth off).
SESSION_KEY = "sluice.ui_session"
# True in the scope when the page runs signed in (or with auth off).
SIGNED_IN_KEY = "sluice.ui_signed_in"
# Largest form body a UI page accepts (a connector configuration with a key file fits).
MAX_FORM_BYTES = 256 * 1024


def is_ui_path(path: str) -> bool:
    path = path.rstrip("/") or "/"
    return not (path == "/api" or path.startswith("/api/") or path in API_ROOT_PATHS)


def is_open(path: str) -> bool:
    """UI paths served without a session: the sign-in form and the static assets."""
    return path.rstrip("/") == LOGIN or path.startswith(STATIC)
