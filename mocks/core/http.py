"""What route code may use: the parsed body, the tenant's state, JSON responses.

Routes parse, call the model and serialize; everything else happens in the gateway.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from mocks.core import jsonutil
from mocks.core.chain.context import RequestContext, current
from mocks.core.chain.validate import parse_json
from mocks.core.contracts import Contract
from mocks.core.sandbox import Sandbox
from mocks.core.scenarios.item_failures import ItemFailures
from mocks.core.state import TenantState


def sandbox() -> Sandbox:
    return current_app.extensions["sandbox"]


def context() -> RequestContext:
    """This request's typed context (what the chain found: API, tenant, principal, body, ...)."""
    return current()


def tenant() -> str:
    tid = current().tenant
    assert tid is not None, "tenant() on a route that was not authenticated"
    return tid


def principal() -> Any:
    """What the API's ``authenticate`` found besides the tenant (see ``mocks.core.api.Identity``)."""
    return current().principal


def state() -> TenantState:
    """The current tenant's state for the current API."""
    ctx = current()
    assert ctx.api is not None
    return sandbox().state(ctx.api.name, tenant())


def body(default: Any = None) -> Any:
    """The request body as the gateway parsed and validated it (JSON, or a form as a dict)."""
    ctx = current()
    if ctx.has_body:
        return ctx.body
    raw = request.get_data(cache=True)
    if not raw:
        return default
    ctx.body = parse_json(raw)
    return ctx.body


def item_failures() -> ItemFailures | None:
    """The scenario's ``item_failures`` for this bulk request (set by the scenario engine), if any."""
    return current().item_failures


def contract() -> Contract:
    """The current API's contract (``schemas/{api}/openapi.yaml``): the gateway's own matcher."""
    ctx = current()
    assert ctx.api is not None
    return current_app.extensions["gateway"].contracts[ctx.api.name]


def mount_prefix() -> str:
    """Where this request's API is mounted (``/stock2shop``, or ``""`` for ``--root-api``)."""
    return current().prefix


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonutil.dumpb(data), status=status, mimetype="application/json", headers=headers)
