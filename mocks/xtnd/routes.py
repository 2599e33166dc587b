"""XTND Extend Commerce routes, case-insensitive: ``CustomerOrders`` and ``customerorders`` are
the same resource.

Flask routing is case-sensitive, so the blueprint has one catch-all rule; the urls are the
contract's (``schemas/xtnd/openapi.yaml``): the gateway's own matcher (``Contract.match``, which
matches XTND's paths case-insensitively) finds the operation, and :data:`ROUTES` maps its
``operationId`` to a handler here. The chain has already authenticated the request and validated
it against the same operation. Parse, call the model, serialize.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, request

from mocks.core import errors as E
from mocks.core.cache import cacheable
from mocks.core.http import body, contract, json_response, sandbox, state, tenant
from mocks.xtnd import errors as X
from mocks.xtnd.webhooks import emitter
from mocks.xtnd.models import Availability, Customers, Orders, Prices, Products, Webhooks, paged

Handler = Callable[..., Response]
#: operationId (schemas/xtnd/openapi.yaml) -> handler, called with the path parameters (``id``)
ROUTES: dict[str, Handler] = {}


def route(operation_id: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES[operation_id] = fn
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
@route("listCustomerOrders")
def list_orders():
    return json_response(Orders(state()).list(arg("changedSince"), arg("status"), arg("customerNumber"), **paging()))


@route("createCustomerOrder")
def create_order():
    return json_response(Orders(state(), emit()).create(body()), 201)


@route("getCustomerOrder")
def get_order(id: str):
    return json_response(Orders(state()).one(id))


# -- availability ----------------------------------------------------------------------------------
@route("listProductAvailability")
def list_availability():
    return json_response(Availability(state()).list(arg("changedSince"), many("itemNumbers"), many("warehouses"),
                                                    **paging()))


@route("listWarehouses")
def list_warehouses():
    docs = sorted(state().collection("warehouses").values(), key=lambda w: w["warehouse"])
    return json_response(paged(docs, **paging()))


# -- products, customers, prices -------------------------------------------------------------------
@route("listProducts")
def list_products():
    return json_response(Products(state()).list(arg("changedSince"), arg("productGroup"), flag("active"),
                                                many("itemNumbers"), **paging()))


@route("getProduct")
def get_product(id: str):
    return json_response(Products(state()).one(id))


@route("listCustomers")
def list_customers():
    return json_response(Customers(state()).list(arg("changedSince"), flag("active"), **paging()))


@route("createCustomer")
def create_customer():
    return json_response(Customers(state(), emit()).create(body()), 201)


@route("getCustomer")
def get_customer(id: str):
    return json_response(Customers(state()).one(id))


@route("listProductPrices")
def best_prices():
    return json_response(Prices(state()).best(request.args["customerNumber"], many("itemNumbers"), **paging()))


# -- webhooks --------------------------------------------------------------------------------------
@route("listWebhooks")
def list_webhooks():
    return json_response(Webhooks(state()).list(arg("changedSince"), arg("trigger"), **paging()))


@route("createWebhook")
def create_webhook():
    return json_response(Webhooks(state()).create(body()), 201)


@route("getWebhook")
def get_webhook(id: str):
    return json_response(Webhooks(state()).one(id))


@route("replaceWebhook")
def replace_webhook(id: str):
    return json_response(Webhooks(state()).replace(id, body()))


@route("deleteWebhook")
def delete_webhook(id: str):
    Webhooks(state()).delete(id)
    return Response(status=204)


def dispatch(rest: str) -> Response:
    method = "GET" if request.method == "HEAD" else request.method
    path = "/" + rest
    api = contract()
    op = api.match(method, path) if method != "OPTIONS" else None
    if op is not None and op.operation_id in ROUTES:
        return ROUTES[op.operation_id](**op.path_values(path))
    allowed = api.path_allowed_methods(path)  # every operation of the contract has its handler (tested)
    if allowed and method == "OPTIONS":
        verbs = sorted({*allowed, "OPTIONS", *(["HEAD"] if "GET" in allowed else [])})
        return Response(status=204, headers={"Allow": ", ".join(verbs)})
    if allowed:
        raise E.MethodNotAllowed(f"Method {request.method} is not allowed for /{rest}",
                                 headers={"Allow": ", ".join(sorted(set(allowed)))})
    raise X.RouteNotFound(request.method, "/" + rest)


def build() -> Blueprint:
    bp = Blueprint("xtnd", __name__)

    @cacheable  # every GET operation (listProductPrices reads the clock, so its answers are never kept)
    def xtnd(rest: str) -> Any:
        return dispatch(rest)

    # OPTIONS is answered per resource (Flask's automatic answer would list the catch-all's methods)
    bp.add_url_rule("/<path:rest>", view_func=xtnd, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
                    provide_automatic_options=False)

    return bp
