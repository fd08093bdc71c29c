"""The web UI: server-rendered pages at `/`, another face on the core (like `server/api/` and
`server/public/`: it calls `server.core`, never the store).

How a page module plugs in:

- A module `server/ui/<name>.py` exports `ROUTES: list[Route]`, built with
  `server.ui.frame.route(path, endpoint, methods=[...])` (an endpoint is
  `async def view(request: Request) -> Response`). `server/ui/pages.py` lists the modules;
  their routes are mounted at `/` by `server/app.py`, after the APIs'.
- Templates live in `server/ui/templates/` (a page module's own under a directory of its name,
  e.g. `templates/actors/`); each extends `base.html` and fills its blocks: `title` (the
  page's name, before " - Sluice"), `main` (the page's content, inside `<main id="main">`),
  optionally `head` (more `<link>`s in `<head>`). Autoescape is on for every template; the
  `static('name.css')` global gives an asset's URL with its content hash.
- Render with `frame.page(request, "actors/list.html", {...})`; it adds `csrf_token`, `flash`,
  `auth` and `path` to the values.
- Forms: every `<form method="post">` carries
  `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`; the endpoint reads the
  body with `data = await frame.form(request)`, which checks the token (403 page otherwise),
  and `frame.field(data, "name")` for a string field. After a change, answer
  `frame.back(request, url, "Saved.")` (303 with a flash message; `kind="error"` for one that
  failed, with the core's `exc.message`).
- Who is signed in: `frame.principal(request)` (the instance admin; the session itself is
  `frame.session(request)`, None when SLUICE_AUTH=none); the core's context is
  `frame.context(request)`.
- Errors: raise `frame.PageError(status, message)`; a core `NotFound` becomes a 404 page and
  any other core error a 400 page with its message, never a traceback.

Signing in (`login.py`), the session check (`server/auth/middleware.py`, by the cookie on UI
paths only: `/api/` never takes it), CSRF and flash messages are in `frame.py`; which paths are
the UI's is `paths.py`.
"""
