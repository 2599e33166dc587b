"""The QA console: a static page at ``/__sandbox/ui`` that drives the control plane's JSON routes.

Plain HTML, CSS and JavaScript under ``static/`` (no build step, nothing fetched from elsewhere), so
it works offline. The page reads the journal, scenarios, webhooks, data and violations from
``/__sandbox/*`` in the browser; this module serves the files, and fills in one thing on the page
itself: the links to each mounted API's reference page (``/{prefix}/docs``, mocks.core.docspage).

Access: the same rule as the control plane: its own guard (``mocks.core.control.guard``) runs
before every request of the console.
"""
from __future__ import annotations

import html
import mimetypes

from flask import Blueprint, Response, abort, current_app, request

from mocks import resources
from mocks.core.control import guard


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _file(name: str) -> Response:
    """One file of the console (package data, read through :mod:`mocks.resources`); only the
    files that are there, so no path can reach anything else."""
    static = resources.console_static()
    if name not in {entry.name for entry in static.iterdir() if entry.is_file()}:
        abort(404)
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return _no_store(Response((static / name).read_bytes(), mimetype=mimetype))


#: where index.html takes the links to the API reference pages
DOCS_LINKS = "<!--api-docs-->"


def docs_links() -> str:
    """One link per mounted API to its reference page, in mounting order (a root mount is the same
    API again, so only prefixed mounts)."""
    gateway = current_app.extensions["gateway"]
    links = []
    for api, prefix in gateway.mounts.values():
        if prefix:
            href = html.escape(f"{request.script_root}{prefix}/docs")
            title = html.escape(f"{api.title or api.name}: its contract ({prefix}/openapi.json), browsable")
            links.append(f'<a href="{href}" title="{title}" target="_blank" rel="noopener">{html.escape(api.name)}</a>')
    return " ".join(links)


def _index() -> Response:
    page = (resources.console_static() / "index.html").read_text(encoding="utf-8")
    return _no_store(Response(page.replace(DOCS_LINKS, docs_links(), 1), mimetype="text/html"))


def build() -> Blueprint:
    bp = Blueprint("sandbox_console", __name__)
    bp.before_request(guard)

    @bp.get("/")
    def index() -> Response:
        return _index()

    @bp.get("/<path:name>")
    def asset(name: str) -> Response:
        return _index() if name == "index.html" else _file(name)

    return bp


__all__ = ["build"]
