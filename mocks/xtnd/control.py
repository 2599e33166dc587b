"""Sandbox-only XTND operations, mounted at ``/__sandbox/xtnd`` behind the control plane's guard.

They stand in for the ERP and the warehouse behind the real API, so they are not part of the
emulated API or its OpenAPI document; errors come in the control plane's shape
(``{"error", "message", "errors"}``). Bodies are checked against
``schemas/xtnd/sandbox-control.schema.json``. Every operation acts on one tenant: ``?tenant=ID``
(the ids in ``GET /__sandbox/credentials``), by default the first demo key's.

| route | does | webhook |
|---|---|---|
| ``POST /orders/{id}/advance`` ``{"status"?}`` | move an order one step on, on to ``status``, or cancel it | Order* |
| ``POST /orders/advance`` ``{"status"?, "includeSeeded"?}`` | move every open order (as a scenario does) | Order* |
| ``PUT /orders/{id}/delivery`` ``{"carrier"?, "trackingNumber"?, "deliveryAddress"?}`` | correct the shipment | OrderDeliveryDataChanged |
| ``PUT /availability`` ``{"itemNumber", "warehouse", "availableBalance"}`` | set a balance | AvailableBalanceChanged |
| ``PATCH /products/{id}`` | edit product masterdata | ProductChanged |
| ``PATCH /customers/{id}`` | edit customer masterdata | CustomerChanged |
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, request
from jsonschema import Draft202012Validator

from mocks import resources
from mocks.core import errors as E
from mocks.core.chain.validate import parse_json
from mocks.core.http import json_response, sandbox
from mocks.xtnd.webhooks import emitter
from mocks.xtnd.models import Availability, Customers, Orders, Products

API = "xtnd"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return resources.schema_json("xtnd", "sandbox-control.schema.json")


def checked(definition: str, required: bool = True) -> dict[str, Any]:
    """The JSON body, validated against one ``$defs`` entry (errors name the field)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise E.ValidationFailed("a JSON body is required", errors=[{"pointer": "/body", "reason": "required"}])
        return {}
    data = parse_json(raw)
    schema = {**_schema(), "$ref": f"#/$defs/{definition}"}
    problems = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        errors = [{"pointer": "/body" + "".join(f"/{p}" for p in e.absolute_path), "reason": e.message}
                  for e in problems]
        raise E.ValidationFailed(f"{errors[0]['pointer']}: {errors[0]['reason']}", errors=errors)
    return data


def tenant() -> str:
    tenants = sandbox().tenants(API)
    wanted = request.args.get("tenant")
    if wanted is None:
        return next(iter(tenants))
    if wanted not in tenants:
        raise E.NotFound(f"no XTND tenant {wanted!r}; see GET /__sandbox/credentials")
    return wanted


def models(kind: type) -> Any:
    t = tenant()
    sb = sandbox()
    state = sb.state(API, t)
    return kind(state, emitter(sb, t))


def build() -> Blueprint:
    bp = Blueprint("xtnd_control", __name__)

    @bp.post("/orders/<number>/advance")
    def advance(number: str):
        data = checked("advance", required=False)
        return json_response(models(Orders).advance(number, data.get("status")))

    @bp.post("/orders/advance")
    def advance_all():
        data = checked("advanceAll", required=False)
        moved = models(Orders).advance_open(data.get("status"), bool(data.get("includeSeeded")))
        return json_response({"moved": moved})

    @bp.put("/orders/<number>/delivery")
    def delivery(number: str):
        return json_response(models(Orders).change_delivery(number, checked("delivery")))

    @bp.put("/availability")
    def availability():
        data = checked("availability")
        answer = models(Availability).set(data["itemNumber"], data["warehouse"], data)
        models(Orders).retry_waiting(answer["itemNumber"], answer["warehouse"])  # the ERP reserves as stock arrives
        return json_response(answer)

    @bp.patch("/products/<number>")
    def product(number: str):
        return json_response(models(Products).update(number, checked("productChange")))

    @bp.patch("/customers/<number>")
    def customer(number: str):
        return json_response(models(Customers).update(number, checked("customerChange")))

    return bp
