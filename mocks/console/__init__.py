"""The QA console: a static page at ``/__sandbox/ui`` that drives the control plane's JSON routes.

Plain HTML, CSS and JavaScript under ``static/`` (no build step, nothing fetched from elsewhere), so
it works offline. The page reads the journal, scenarios, webhooks, data and violations from
``/__sandbox/*`` in the browser; this module only serves the files.

Access: the same rule as the control plane. The console does not re-implement it: before each
request it runs the control plane blueprint's own ``before_request`` guard, as registered on the
app, and refuses (403) if no such guard is registered.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

from mocks.core import errors as E

STATIC = Path(__file__).resolve().parent / "static"
#: the name ``mocks.core.control.build()`` gives its blueprint
CONTROL_BLUEPRINT = "sandbox_control"


def control_guard() -> Response | None:
    """Run the control plane's access check for this request (fail closed if it is missing)."""
    guards = current_app.before_request_funcs.get(CONTROL_BLUEPRINT)
    if not guards:
        raise E.Forbidden("the console needs the control plane, which is not mounted")
    for guard in guards:
        answer = guard()
        if answer is not None:
            return answer
    return None


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def build() -> Blueprint:
    bp = Blueprint("sandbox_console", __name__)
    bp.before_request(control_guard)

    @bp.get("/")
    def index() -> Response:
        return _no_store(send_from_directory(STATIC, "index.html", mimetype="text/html"))

    @bp.get("/<path:name>")
    def asset(name: str) -> Response:
        return _no_store(send_from_directory(STATIC, name))

    return bp


__all__ = ["build", "control_guard"]
