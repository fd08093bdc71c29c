"""The UI's static assets (CSS, the one script): read once at import, served from memory.

Their URLs carry a hash of their content (`/static/sluice.css?v=<hash>`), so a reply may be
cached for a year (`immutable`): a changed file gets a new URL. Each reply has an ETag too, for
a request without the current hash.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DIRECTORY = Path(__file__).parent / "static"
TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
YEAR = 365 * 24 * 3600


class Asset:
    def __init__(self, path: Path) -> None:
        self.body = path.read_bytes()
        self.hash = hashlib.sha256(self.body).hexdigest()[:16]
        self.media_type = TYPES.get(path.suffix, "application/octet-stream")


ASSETS: dict[str, Asset] = {
    p.name: Asset(p) for p in sorted(DIRECTORY.iterdir()) if p.is_file() and p.suffix in TYPES
}


def static_url(name: str) -> str:
    """The URL of an asset with its content hash (for templates: `{{ static('x.css') }}`)."""
    return f"/static/{name}?v={ASSETS[name].hash}"


async def asset(request: Request) -> Response:
    found = ASSETS.get(request.path_params["name"])
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    etag = f'"{found.hash}"'
    current = request.query_params.get("v") == found.hash
    headers = {
        "etag": etag,
        "cache-control": f"public, max-age={YEAR}, immutable" if current else "no-cache",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


ROUTES = [Route("/static/{name:str}", asset, methods=["GET", "HEAD"])]
