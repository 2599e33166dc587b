"""The QA console: a static page at ``/__sandbox/ui`` that drives the control plane's JSON routes.

Plain HTML, CSS and JavaScript under ``static/`` (no build step, nothing fetched from elsewhere), so
it works offline. The page reads the journal, scenarios, webhooks, data and violations from
``/__sandbox/*`` in the browser; this module only serves the files.

Access: the same rule as the control plane: its own guard (``mocks.core.control.guard``) runs
before every request of the console.
"""
from __future__ import annotations

import mimetypes

from flask import Blueprint, Response, abort

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


def build() -> Blueprint:
    bp = Blueprint("sandbox_console", __name__)
    bp.before_request(guard)

    @bp.get("/")
    def index() -> Response:
        return _file("index.html")

    @bp.get("/<path:name>")
    def asset(name: str) -> Response:
        return _file(name)

    return bp


__all__ = ["build"]
