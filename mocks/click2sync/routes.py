"""Click2Sync storefront hooks: GET/POST /api/product[/{id}], GET/POST /api/order[/{id}].

Parse, call the model, serialize. Parameters and bodies were validated by the gateway.
"""
from __future__ import annotations

from flask import Blueprint, request

from mocks.click2sync.models import Catalog, Orders
from mocks.core.cache import cacheable
from mocks.core.http import body, json_response, state


def _listing(model: Catalog | Orders):
    if request.args.get("id") is not None:
        return json_response(model.one(request.args["id"]))
    offset = int(request.args.get("offset", 0))
    return json_response(model.list(offset, request.args.get("sortorder", "asc"), request.args.get("next")))


def build() -> Blueprint:
    bp = Blueprint("click2sync", __name__)

    @bp.get("/api/product")
    @cacheable
    def list_products():
        return _listing(Catalog(state()))

    @bp.post("/api/product")
    def create_product():
        return json_response(Catalog(state()).create(body()))

    @bp.post("/api/product/<product_id>")
    def update_product(product_id: str):
        return json_response(Catalog(state()).update(product_id, body()))

    @bp.get("/api/order")
    @cacheable
    def list_orders():
        return _listing(Orders(state()))

    @bp.post("/api/order")
    def create_order():
        return json_response(Orders(state()).create(body()))

    @bp.post("/api/order/<order_id>")
    def update_order(order_id: str):
        return json_response(Orders(state()).update(order_id, body()))

    return bp
