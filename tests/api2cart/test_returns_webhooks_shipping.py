"""Returns, webhooks (with real deliveries) and live shipping services."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from mocks.core import webhooks as core_webhooks
from tests.api2cart.conftest import API_KEY, BOL, SHOPIFY, WOO
from tests.api2cart.receiver import Receiver
from tests.api2cart.test_catalog_orders import ORDER


# -- returns --------------------------------------------------------------------------------------
def new_order(a2c, **kw):
    """A complete order (FAQ: "Only shipped goods can be returned")."""
    return a2c.ok("order.add", "POST", body={**ORDER, "order_status": "complete", **kw})["order_id"]


def test_return_round_trip(a2c):
    a2c = a2c.on(WOO)  # the generic return rules (Shopify and Bol.com: test_returns_platforms.py)
    seeded = a2c.ok("return.list")
    assert seeded["total_count"] == 1
    oid = new_order(a2c)
    body = {"order_id": oid, "return_status_id": "pending", "return_action_id": "refund",
            "return_reason_id": "defective", "order_products": [{"order_product_id": "1", "order_product_quantity": 2, "order_product_reason_id": "defective", "order_product_action_id": "refund"}]}
    rid = a2c.ok("order.return.add", "POST", body=body)["return_id"]
    ret = a2c.ok("return.info", id=rid, params="force_all")
    assert ret["order_id"] == oid and ret["status"] == {"id": "pending", "name": "Pending"}
    assert ret["order_products"][0]["quantity"] == 2 and ret["order_products"][0]["reason"]["id"] == "defective"
    assert a2c.ok("return.count", order_ids=oid) == {"returns_count": 1}
    # only 1 of the 3 units is left to return
    a2c.err(113, "order.return.add", "POST", body={**body, "order_products": [
        {"order_product_id": "1", "order_product_quantity": 2, "order_product_reason_id": "defective", "order_product_action_id": "refund"}]})
    upd = {"return_id": rid, "return_status_id": "approved",
           "order_products": [{"order_product_id": "1", "order_product_quantity": 3, "order_product_reason_id": "defective", "order_product_action_id": "refund"}]}
    assert a2c.ok("order.return.update", "PUT", body=upd) == {"updated_items": 1}
    ret = a2c.ok("return.info", id=rid, params="force_all")
    assert ret["status"]["id"] == "approved" and ret["order_products"][0]["quantity"] == 3
    assert a2c.ok("return.list", status="approved")["total_count"] == 1
    assert a2c.ok("order.return.delete", "DELETE", return_id=rid, order_id=oid) == {"deleted": True}
    a2c.err(112, "return.info", id=rid)
    a2c.err(112, "order.return.delete", "DELETE", return_id=rid, order_id=oid)


def test_only_shipped_goods_can_be_returned(a2c):
    """FAQ: "Only shipped goods can be returned." Pending, processing and canceled orders are refused;
    an order's shipments make their units returnable; shipped/complete orders return everything."""
    a2c = a2c.on(WOO)

    def ret(oid, qty=1):
        return {"order_id": oid, "return_status_id": "pending", "return_action_id": "refund",
                "return_reason_id": "defective", "order_products": [
                    {"order_product_id": "1", "order_product_quantity": qty, "order_product_reason_id": "defective",
                     "order_product_action_id": "refund"}]}

    for status in ("pending", "processing", "canceled"):
        oid = new_order(a2c, order_status=status)
        msg = a2c.err(109, "order.return.add", "POST", body=ret(oid))
        assert "Only shipped goods can be returned" in msg and status in msg
        assert a2c.ok("return.count", order_ids=oid) == {"returns_count": 0}
        assert a2c.ok("order.info", id=oid)["additional_fields"]["return_status"] == "no_return"
    oid = new_order(a2c, order_status="processing")
    a2c.ok("order.shipment.add", "POST", body={"order_id": oid, "items": [{"order_product_id": "1", "quantity": 1}]})
    assert a2c.ok("order.info", id=oid, params="status")["status"]["id"] == "processing"  # 1 of 3 shipped
    a2c.err(109, "order.return.add", "POST", body=ret(oid, 2))  # only one unit has shipped
    rid = a2c.ok("order.return.add", "POST", body=ret(oid, 1))["return_id"]
    a2c.err(109, "order.return.update", "PUT", body={"return_id": rid, "order_products": ret(oid, 2)["order_products"]})
    a2c.ok("order.shipment.add", "POST", body={"order_id": oid})  # the rest: the order is now shipped
    assert a2c.ok("order.return.update", "PUT", body={"return_id": rid, "order_products": ret(oid, 3)["order_products"]})
    for status in ("shipped", "complete"):
        a2c.ok("order.return.add", "POST", body=ret(new_order(a2c, order_status=status), 3))


def test_return_validation(a2c):
    a2c = a2c.on(WOO)  # the generic return rules (Shopify and Bol.com: test_returns_platforms.py)
    oid = new_order(a2c)
    base = {"order_id": oid, "return_status_id": "pending", "return_action_id": "refund",
            "return_reason_id": "defective", "order_products": [{"order_product_id": "1", "order_product_quantity": 1, "order_product_reason_id": "other", "order_product_action_id": "refund"}]}
    a2c.err(114, "order.return.add", "POST", body={k: v for k, v in base.items() if k != "return_reason_id"})
    a2c.err(109, "order.return.add", "POST", body={**base, "return_reason_id": "bored", "order_products": [{"order_product_id": "1", "order_product_quantity": 1, "order_product_reason_id": "bored", "order_product_action_id": "refund"}]})
    a2c.err(112, "order.return.add", "POST", body={**base, "order_id": "9999"})
    a2c.err(112, "order.return.add", "POST", body={**base, "order_products": [{"order_product_id": "7", "order_product_quantity": 1, "order_product_reason_id": "other", "order_product_action_id": "refund"}]})
    a2c.err(109, "order.return.add", "POST", body={**base, "order_products": [
        {"order_product_id": "1", "order_product_quantity": 4, "order_product_reason_id": "other", "order_product_action_id": "refund"}]})
    a2c.err(114, "order.return.update", "PUT", body={"order_products": []})
    assert a2c.ok("return.count", order_ids=oid) == {"returns_count": 0}


def test_return_paging(a2c):
    a2c = a2c.on(WOO)  # the generic return rules (Shopify and Bol.com: test_returns_platforms.py)
    oid = new_order(a2c)
    for _ in range(3):
        a2c.ok("order.return.add", "POST", body={
            "order_id": oid, "return_status_id": "pending", "return_action_id": "refund", "return_reason_id": "other",
            "order_products": [{"order_product_id": "1", "order_product_quantity": 1, "order_product_reason_id": "other", "order_product_action_id": "refund"}]})
    data = a2c.call("return.list", count=2)
    assert data["result"]["total_count"] == 4 and len(data["result"]["returns"]) == 2
    nxt = a2c.call("return.list", page_cursor=data["pagination"]["next"])
    assert len(nxt["result"]["returns"]) == 2 and nxt["pagination"]["next"] is None


# -- webhooks -------------------------------------------------------------------------------------
def test_webhook_crud(a2c):
    events = a2c.ok("webhook.events")["events"]
    assert {"webhook_name": "order.add", "entity": "order", "action": "add", "filterable_fields": {}} in events
    wid = a2c.ok("webhook.create", "POST", body={"entity": "order", "action": "add", "callback": "https://hooks.example.com/a"})["id"]
    assert isinstance(wid, int)
    a2c.err(113, "webhook.create", "POST", body={"entity": "order", "action": "add", "callback": "https://hooks.example.com/a"})
    a2c.err(109, "webhook.create", "POST", body={"entity": "order", "action": "explode", "callback": "https://h.example.com"})
    a2c.err(114, "webhook.create", "POST", body={"entity": "order", "action": "add"})
    a2c.err(114, "webhook.create", "POST", body={"action": "add", "callback": "https://h.example.com"})
    listed = a2c.ok("webhook.list")["webhook"]
    assert listed == [{"id": wid, "entity": "order", "action": "add", "callback": "https://hooks.example.com/a"}]
    assert a2c.ok("webhook.update", "PUT", body={"id": str(wid), "active": False}) == {"updated": "true"}
    assert a2c.ok("webhook.count", active=False) == {"webhook_count": 1}
    assert a2c.ok("webhook.list", store_key=WOO)["webhook"] == []  # webhooks belong to a store
    assert a2c.ok("webhook.delete", "DELETE", id=str(wid)) == {"deleted": "true"}
    a2c.err(112, "webhook.delete", "DELETE", id=str(wid))


def test_webhook_deliveries_are_real_and_signed(app, a2c):
    with Receiver() as rx:
        a2c.ok("webhook.create", "POST", body={"entity": "order", "action": "add", "callback": rx.url + "/orders"})
        a2c.ok("webhook.create", "POST", body={"entity": "product", "action": "update", "callback": rx.url + "/products",
                                               "fields": "id,price"})
        a2c.ok("webhook.create", "POST", body={"entity": "order", "action": "update", "callback": rx.url + "/off",
                                               "active": False})
        oid = new_order(a2c, order_status="pending")
        a2c.ok("product.update", "PUT", body={"id": "1", "price": 12.5})
        a2c.ok("order.update", "PUT", order_id=oid, order_status="shipped")  # inactive hook: nothing sent
        a2c.ok("product.update", "PUT", body={"id": "1", "price": 13}, store_key=WOO)  # other store: nothing sent
        core_webhooks.deliver_due(app.extensions["sandbox"])
        assert sorted(r["path"] for r in rx.requests) == ["/orders", "/products"]
        by_path = {r["path"]: r for r in rx.requests}
        order = json.loads(by_path["/orders"]["raw"])
        assert order["id"] == oid and order["status"]["id"] == "pending"
        assert json.loads(by_path["/products"]["raw"]) == {"id": "1", "price": 12.5}
        head = by_path["/orders"]["headers"]
        assert head["X-Webhook-Entity"] == "order" and head["X-Webhook-Action"] == "add"
        assert head["X-Webhook-Cart-Id"] == "Shopify"
        signed = {k: v for k, v in sorted(head.items()) if k.lower().startswith("x-webhook-")
                  and k.lower() != "x-webhook-signature"}
        mac = hmac.new(API_KEY.encode(), json.dumps(signed, separators=(",", ":")).encode() + by_path["/orders"]["raw"],
                       hashlib.sha256).digest()
        assert head["X-Webhook-Signature"] == base64.b64encode(mac).decode()
    listed = app.test_client().get("/__sandbox/webhooks").get_json()
    assert "api2cart" in json.dumps(listed)


def test_failed_webhooks_are_listed_for_the_account(app, a2c):
    sandbox = app.extensions["sandbox"]
    with Receiver(lambda req: (500, {})) as rx:
        wid = a2c.ok("webhook.create", "POST", body={"entity": "product", "action": "add", "callback": rx.url})["id"]
        pid = a2c.ok("product.add", "POST", body={"name": "n", "model": "fail-1", "description": "d", "price": 1})[
            "product_id"]
        for _ in range(core_webhooks.MAX_ATTEMPTS + 1):
            core_webhooks.deliver_due(sandbox)
            sandbox.clock.advance(60)
        assert len(rx.requests) == core_webhooks.MAX_ATTEMPTS
    res = a2c.ok("account.failed_webhooks", store_key=None)
    assert res["all_failed_webhook"] == "1"
    assert res["webhook"][0]["webhook_id"] == wid and res["webhook"][0]["entity_id"] == pid
    from tests.api2cart.conftest import SECOND_KEY
    assert a2c.ok("account.failed_webhooks", api_key=SECOND_KEY, store_key=None)["webhook"] == []
    sandbox.clock.advance(2 * 86400)
    assert a2c.ok("account.failed_webhooks", store_key=None)["webhook"] == []
