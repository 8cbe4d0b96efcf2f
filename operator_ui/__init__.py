"""The pages the engine serves: home, widget demo, operator console, supervisor view, and the
visitor widget script.

Plain HTML pages and ES modules, no build step and no CDN: everything ships in this package.
``mount(app)`` adds the page routes, ``/widget.js`` (the one-line embed a site adds) and the static
files under ``/ui``. Nothing here imports the engine; the pages talk to it over REST and WebSocket
(docs/architecture.md), so this package is the engine's first API client.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["PAGES", "STATIC_DIR", "mount"]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
PAGES = {
    "/": "home.html",
    "/demo": "demo.html",
    "/operator": "operator.html",
    "/supervisor": "supervisor.html",
    "/admin": "admin.html",
    "/reports": "reports.html",
}
# The pages load only their own scripts and styles: an injected <script> or inline handler never runs.
# img-src blob: shows attachments, fetched with the page's token (operator_ui/static/js/files.js)
PAGE_POLICY = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _page(name: str) -> FileResponse:
    response = FileResponse(HERE / "pages" / name, media_type="text/html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def mount(app: FastAPI) -> None:
    """Add the pages, ``/widget.js`` and ``/ui`` (static files) to ``app``.

    Call it before any other route for ``/``: the first route that matches a path serves it."""
    for path, name in PAGES.items():
        app.add_api_route(path, lambda name=name: _page(name), methods=["GET", "HEAD"],
                          include_in_schema=False, response_class=FileResponse)

    def widget_script() -> Response:
        # Sites embed it from their own pages; the loader finds the engine's origin from its own URL and
        # imports the widget from there (the engine's CORS setting decides which sites may).
        response = FileResponse(STATIC_DIR / "widget-loader.js", media_type="text/javascript")
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    app.add_api_route("/widget.js", widget_script, methods=["GET", "HEAD"], include_in_schema=False,
                      response_class=FileResponse)

    def favicon() -> Response:
        # browsers ask for /favicon.ico whatever the page links: answer rather than log a 404 per visit
        response = FileResponse(STATIC_DIR / "img" / "favicon.ico", media_type="image/x-icon")
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    app.add_api_route("/favicon.ico", favicon, methods=["GET", "HEAD"], include_in_schema=False,
                      response_class=FileResponse)
    app.mount("/ui", StaticFiles(directory=STATIC_DIR), name="operator_ui")
