"""XTND Extend Commerce routes, case-insensitive: ``CustomerOrders`` and ``customerorders`` are
the same resource.

Flask routing is case-sensitive, so the blueprint has one catch-all rule and dispatches here
through a table of case-insensitive patterns (the gateway has already authenticated the request
and validated it against ``schemas/xtnd/openapi.yaml``, which it matches case-insensitively too).
Parse, call the model, serialize.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from flask import Blueprint, Response, request

from mocks.core import errors as E
from mocks.core.http import body, json_response, sandbox, state, tenant
from mocks.xtnd import errors as X
from mocks.xtnd.webhooks import emitter
from mocks.xtnd.models import Availability, Customers, Orders, Prices, Products, Webhooks, paged

V1 = r"api/v1/"
Handler = Callable[..., Response]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append((method, re.compile("^" + V1 + pattern + "$", re.IGNORECASE), fn))
        return fn
    return register


# -- query parsing (values were validated by the gateway) -------------------------------------------
def arg(name: str) -> str | None:
    value = request.args.get(name)
    return value if value not in (None, "") else None


def flag(name: str) -> bool | None:
    value = arg(name)
    return None if value is None else value.lower() in ("true", "1")


def many(name: str) -> list[str] | None:
    values = [v for raw in request.args.getlist(name) for v in raw.split(",") if v.strip()]
    return values or None


def paging() -> dict[str, int]:
    return {"page": int(arg("page") or 1), "page_size": int(arg("pageSize") or 100)}


def emit():
    return emitter(sandbox(), tenant())


# -- customer orders -------------------------------------------------------------------------------
@route("GET", r"customerorders")
def list_orders():
    return json_response(Orders(state()).list(arg("changedSince"), arg("status"), arg("customerNumber"), **paging()))


@route("POST", r"customerorders")
def create_order():
    return json_response(Orders(state(), emit()).create(body()), 201)


@route("GET", r"customerorders/(?P<number>[^/]+)")
def get_order(number: str):
    return json_response(Orders(state()).one(number))


# -- availability ----------------------------------------------------------------------------------
@route("GET", r"productavailability")
def list_availability():
    return json_response(Availability(state()).list(arg("changedSince"), many("itemNumbers"), many("warehouses"),
                                                    **paging()))


@route("GET", r"warehouses")
def list_warehouses():
    docs = sorted(state().collection("warehouses").values(), key=lambda w: w["warehouse"])
    return json_response(paged(docs, **paging()))


# -- products, customers, prices -------------------------------------------------------------------
@route("GET", r"products")
def list_products():
    return json_response(Products(state()).list(arg("changedSince"), arg("productGroup"), flag("active"),
                                                many("itemNumbers"), **paging()))


@route("GET", r"products/(?P<number>[^/]+)")
def get_product(number: str):
    return json_response(Products(state()).one(number))


@route("GET", r"customers")
def list_customers():
    return json_response(Customers(state()).list(arg("changedSince"), flag("active"), **paging()))


@route("POST", r"customers")
def create_customer():
    return json_response(Customers(state(), emit()).create(body()), 201)


@route("GET", r"customers/(?P<number>[^/]+)")
def get_customer(number: str):
    return json_response(Customers(state()).one(number))


@route("GET", r"productprices")
def best_prices():
    return json_response(Prices(state()).best(request.args["customerNumber"], many("itemNumbers"), **paging()))


# -- webhooks --------------------------------------------------------------------------------------
@route("GET", r"webhooks")
def list_webhooks():
    return json_response(Webhooks(state()).list(arg("changedSince"), arg("trigger"), **paging()))


@route("POST", r"webhooks")
def create_webhook():
    return json_response(Webhooks(state()).create(body()), 201)


@route("GET", r"webhooks/(?P<hook_id>[^/]+)")
def get_webhook(hook_id: str):
    return json_response(Webhooks(state()).one(hook_id))


@route("PUT", r"webhooks/(?P<hook_id>[^/]+)")
def replace_webhook(hook_id: str):
    return json_response(Webhooks(state()).replace(hook_id, body()))


@route("DELETE", r"webhooks/(?P<hook_id>[^/]+)")
def delete_webhook(hook_id: str):
    Webhooks(state()).delete(hook_id)
    return Response(status=204)


def dispatch(rest: str) -> Response:
    method = "GET" if request.method == "HEAD" else request.method
    allowed: list[str] = []
    for verb, pattern, handler in ROUTES:
        m = pattern.match(rest)
        if m is None:
            continue
        if verb == method:
            return handler(**m.groupdict())
        allowed.append(verb)
    if allowed and method == "OPTIONS":
        verbs = sorted({*allowed, "OPTIONS", *(["HEAD"] if "GET" in allowed else [])})
        return Response(status=204, headers={"Allow": ", ".join(verbs)})
    if allowed:
        raise E.MethodNotAllowed(f"Method {request.method} is not allowed for /{rest}",
                                 headers={"Allow": ", ".join(sorted(set(allowed)))})
    raise X.RouteNotFound(request.method, "/" + rest)


def build() -> Blueprint:
    bp = Blueprint("xtnd", __name__)

    def xtnd(rest: str) -> Any:
        return dispatch(rest)

    # OPTIONS is answered per resource (Flask's automatic answer would list the catch-all's methods)
    bp.add_url_rule("/<path:rest>", view_func=xtnd, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
                    provide_automatic_options=False)

    return bp
