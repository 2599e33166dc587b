"""What route code may use: the parsed body, the tenant's state, JSON responses.

Routes parse, call the model and serialize; everything else happens in the gateway.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request

from mocks.core import jsonutil
from mocks.core.gateway import parse_json
from mocks.core.sandbox import Sandbox
from mocks.core.state import TenantState


def sandbox() -> Sandbox:
    return current_app.extensions["sandbox"]


def tenant() -> str:
    return g.tenant


def state() -> TenantState:
    """The current tenant's state for the current API."""
    return sandbox().state(g.api.name, g.tenant)


def body(default: Any = None) -> Any:
    """The request body as the gateway parsed and validated it (JSON, or a form as a dict)."""
    if "body" in g:
        return g.body
    raw = request.get_data(cache=True)
    if not raw:
        return default
    g.body = parse_json(raw)
    return g.body


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonutil.dumpb(data), status=status, mimetype="application/json", headers=headers)
