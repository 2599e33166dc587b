"""Every method's result against the vendor's official OpenAPI document (a copy under schemas/).

For each emulated method one typical, successful call is made and its whole answer is validated
against the official document's 200 schema for that method (``#/components/schemas`` resolved
inside the official document itself, not the sandbox's generated copy). A second pass asks for
``params=force_all`` where the method takes ``params``, so every stored field is checked too.
The generated contract (openapi.yaml, api2cart.schema.json) is what mocks/api2cart/contract.py
makes (tests/test_contracts.py).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mocks.api2cart import contract as GEN
from mocks.api2cart import routes
from tests.api2cart.conftest import BOL, MAGENTO, SHOPIFY, WOO, good_rates
from tests.api2cart.receiver import Receiver
from tests.api2cart.test_catalog_orders import ORDER

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_PATH = ROOT / "schemas" / "api2cart" / "official" / "api2cart-openapi.json"
OFFICIAL = json.loads(OFFICIAL_PATH.read_text(encoding="utf-8"))


def official_validator(method: str) -> tuple[Draft202012Validator, set[str]]:
    item = OFFICIAL["paths"][GEN.official_path(method)]
    http, op = next((h, o) for h, o in item.items() if h in ("get", "post", "put", "delete"))
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    names = {p["name"] for p in op.get("parameters", [])}
    # the official document is the root, so "#/components/schemas/X" resolves inside it
    root = {**schema, "components": OFFICIAL["components"]}
    return Draft202012Validator(root), names


def check(method: str, answer: dict[str, Any]) -> None:
    assert answer["return_code"] == 0, (method, answer)
    validator, _ = official_validator(method)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(answer)]
    assert not problems, (method, problems[:5])


def test_every_emulated_method_is_in_the_contract_with_the_official_http_method():
    assert set(GEN.METHODS) == set(routes.METHODS)
    official = GEN.operation_ids(OFFICIAL)
    for name, (http, _scope, _fn) in routes.METHODS.items():
        assert official[name][0] == http.lower(), name


@pytest.fixture
def world(a2c):
    """A store with one order (3 units), a return and a shipment on it, plus a webhook."""
    oid = a2c.on(WOO).ok("order.add", "POST", body=ORDER)["order_id"]
    return {"oid": oid}


def calls(world: dict[str, Any], receiver_url: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(store, method, HTTP, kwargs) in an order where each call's inputs exist."""
    oid = world["oid"]
    ret = {"order_id": oid, "return_status_id": "pending", "return_action_id": "refund", "return_reason_id": "defective",
           "order_products": [{"order_product_id": "1", "order_product_quantity": 1,
                               "order_product_reason_id": "defective", "order_product_action_id": "refund"}]}
    return [
        (WOO, "account.supported_platforms", "GET", {"store_key": None}),
        (WOO, "account.cart.list", "GET", {"store_key": None}),
        (WOO, "account.failed_webhooks", "GET", {"store_key": None}),
        (WOO, "cart.list", "GET", {"store_key": None}),
        (WOO, "cart.bridge", "GET", {"store_key": None}),
        (WOO, "cart.create", "POST", {"store_key": None, "body": {
            "cart_id": "Opencart14", "store_url": "https://official-cart-create.example.com",
            "store_key": "ab37fc230bc5df63a5be1b11220949be"}}),
        (WOO, "cart.info", "GET", {}),
        (WOO, "account.config.update", "PUT", {"custom_label": "Renamed"}),
        (WOO, "product.list", "GET", {"count": 3}),
        (WOO, "product.info", "GET", {"id": "1"}),
        (WOO, "product.count", "GET", {}),
        (WOO, "product.find", "GET", {"find_value": "Bag"}),
        (WOO, "product.add", "POST", {"body": {"name": "Tent", "model": "TENT-1", "description": "d", "price": 9.5}}),
        (WOO, "product.update", "PUT", {"body": {"id": "1", "price": 11.0}}),
        (WOO, "product.variant.add", "POST", {"body": {"product_id": "1", "model": "bag_01_red", "price": 12.0}}),
        (WOO, "product.variant.list", "GET", {"product_id": "1"}),
        (WOO, "product.variant.info", "GET", {"id": "1001"}),
        (WOO, "product.variant.count", "GET", {"product_id": "1"}),
        (WOO, "product.variant.update", "PUT", {"body": {"id": "1001", "price": 13.0}}),
        (WOO, "product.variant.delete", "DELETE", {"id": "1001", "product_id": "1"}),
        (WOO, "category.list", "GET", {}),
        (WOO, "category.info", "GET", {"id": "1"}),
        (WOO, "category.count", "GET", {}),
        (WOO, "category.find", "GET", {"find_value": "Bags"}),
        (WOO, "category.add", "POST", {"name": "Sale"}),
        (WOO, "category.update", "PUT", {"id": "6", "name": "Summer sale"}),
        (WOO, "category.delete", "DELETE", {"id": "6"}),
        (WOO, "customer.list", "GET", {}),
        (WOO, "customer.info", "GET", {"id": "1"}),
        (WOO, "customer.count", "GET", {}),
        (WOO, "customer.find", "GET", {"find_value": "example.com", "find_params": "contains"}),
        (WOO, "customer.add", "POST", {"body": {"email": "new.customer@example.com", "first_name": "New"}}),
        (WOO, "customer.update", "PUT", {"body": {"id": "1", "first_name": "Jack", "last_name": "Smith"}}),
        (WOO, "category.assign", "POST", {"product_id": "1", "category_id": "2"}),
        (WOO, "product.manufacturer.add", "POST", {"product_id": "1", "manufacturer": "Samsung"}),
        (WOO, "product.image.add", "POST", {"body": {"product_id": "1", "type": "base", "image_name": "bag-gray.png",
                                                     "url": "http://docs.api2cart.com/img/logo.png"}}),
        (WOO, "product.image.update", "PUT", {"product_id": "1", "id": "1", "label": "This cool image"}),
        (WOO, "product.option.add", "POST", {"body": {"product_id": "1", "name": "Color", "type": "option_type_select",
                                                      "option_values": "green,black"}}),
        (WOO, "product.option.value.add", "POST", {"product_id": "1", "option_id": "1", "option_value": "yellow"}),
        (WOO, "product.option.assign", "POST", {"product_id": "3", "option_id": "1", "option_values": "green"}),
        (WOO, "product.option.value.assign", "POST", {"product_option_id": 2, "option_value_id": "2"}),
        (WOO, "product.option.value.update", "PUT", {"product_id": "3", "option_id": "1", "option_value_id": "2",
                                                     "price": 99.9, "quantity": 6}),
        (WOO, "product.tax.add", "POST", {"body": {"product_id": "1", "name": "ECO-Tax",
                                                   "tax_rates": [{"name": "Eco", "type": "percent", "value": 5}]}}),
        (WOO, "order.list", "GET", {}),
        (WOO, "order.info", "GET", {"order_id": oid}),
        (WOO, "order.count", "GET", {}),
        (WOO, "order.find", "GET", {"customer_email": "jane.doe@example.com"}),
        (WOO, "order.add", "POST", {"body": {**ORDER, "order_id": "EXT-1"}}),
        (WOO, "order.update", "PUT", {"order_id": oid, "order_status": "processing"}),
        (WOO, "order.status.list", "GET", {}),
        (WOO, "order.shipment.add", "POST", {"body": {"order_id": oid, "shipment_provider": "UPS",
                                                       "tracking_numbers": [{"carrier_id": "ups", "tracking_number": "1Z9"}],
                                                       "items": [{"order_product_id": "1", "quantity": 2}]}}),
        (WOO, "order.shipment.list", "GET", {"order_id": oid}),
        (WOO, "order.return.add", "POST", {"body": ret}),
        (WOO, "order.return.update", "PUT", {"body": {"return_id": "2", "return_status_id": "approved",
                                                       "order_products": ret["order_products"]}}),
        (WOO, "return.list", "GET", {}),
        (WOO, "return.info", "GET", {"id": "2"}),
        (WOO, "return.count", "GET", {}),
        (WOO, "return.reason.list", "GET", {}),
        (WOO, "return.status.list", "GET", {}),
        (WOO, "return.action.list", "GET", {}),
        (WOO, "order.return.delete", "DELETE", {"return_id": "2", "order_id": oid}),
        (WOO, "webhook.events", "GET", {}),
        (WOO, "webhook.create", "POST", {"body": {"entity": "order", "action": "add", "callback": receiver_url}}),
        (WOO, "webhook.list", "GET", {}),
        (WOO, "webhook.count", "GET", {}),
        (WOO, "webhook.update", "PUT", {"body": {"id": "1", "label": "orders"}}),
        (WOO, "webhook.delete", "DELETE", {"id": "1"}),
        (SHOPIFY, "basket.live_shipping_service.create", "POST", {"name": "Rates", "callback": receiver_url}),
        (SHOPIFY, "basket.live_shipping_service.list", "GET", {}),
        (SHOPIFY, "basket.live_shipping_service.delete", "DELETE", {"id": 1}),
        (WOO, "product.delete", "DELETE", {"id": "2"}),
        (WOO, "customer.delete", "DELETE", {"id": "2"}),
        (MAGENTO, "cart.delete", "DELETE", {}),
        (WOO, "account.cart.add", "POST", {"store_key": None, "body": {
            "cart_id": "Shopify", "store_url": "https://official-contract.myshopify.com",
            "shopify_access_token": "shpat_x"}}),
    ]


@pytest.mark.parametrize("force_all", [False, True], ids=["default-fields", "force_all"])
def test_every_result_validates_against_the_official_document(a2c, world, force_all):
    """Every method once; in the force_all run, reading methods that take ``params`` answer every
    stored field, so all of them are checked against the official shapes."""
    with Receiver(good_rates) as rx:
        plan = calls(world, rx.url + "/hook")
        # bridge.download answers a zip, not JSON (its content: tests/api2cart/test_manual_bridge.py)
        assert {m for _, m, _, _ in plan} == set(routes.METHODS) - GEN.FILE_METHODS, "a method without a typical call"
        widened = 0
        for store, method, http, kw in plan:
            if force_all and http == "GET" and "params" in official_validator(method)[1]:
                kw, widened = {**kw, "params": "force_all"}, widened + 1
            answer = a2c.on(store).call(method, http, **kw)
            check(method, answer)
        assert widened >= 12 or not force_all


@pytest.mark.parametrize("store", [SHOPIFY, BOL])
def test_platform_specific_results_validate(a2c, store):
    """Shopify's return workflow statuses and Bol.com's reason-less returns are official shapes too."""
    c = a2c.on(store)
    orders = c.ok("order.list", return_status="open,pending", params="force_all")["order"]
    assert orders, "the seeded return's order"
    oid = orders[0]["id"]
    check("return.list", c.call("return.list", order_id=oid, params="force_all"))
    check("return.status.list", c.call("return.status.list"))
    check("order.info", c.call("order.info", id=oid, params="force_all"))
