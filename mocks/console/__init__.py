"""The QA console: a static page at ``/__sandbox/ui`` that drives the control plane's JSON routes.

Plain HTML, CSS and JavaScript under ``static/`` (no build step, nothing fetched from elsewhere), so
it works offline. The page reads the journal, scenarios, webhooks, data and violations from
``/__sandbox/*`` in the browser; this module only serves the files.

Access: the same rule as the control plane: its own guard (``mocks.core.control.guard``) runs
before every request of the console.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from mocks.core.control import guard

STATIC = Path(__file__).resolve().parent / "static"
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def build() -> Blueprint:
    bp = Blueprint("sandbox_console", __name__)
    bp.before_request(guard)

    @bp.get("/")
    def index() -> Response:
        return _no_store(send_from_directory(STATIC, "index.html", mimetype="text/html"))

    @bp.get("/<path:name>")
    def asset(name: str) -> Response:
        return _no_store(send_from_directory(STATIC, name))

    return bp


__all__ = ["build"]
