"""Per-platform return rules (FAQ, "Returns"): Shopify's workflow, Bol.com's handling status,
and the orders' additional_fields.return_status."""
from __future__ import annotations

from tests.api2cart.conftest import BOL, SHOPIFY, WOO
from tests.api2cart.test_catalog_orders import ORDER as PENDING_ORDER

ORDER = {**PENDING_ORDER, "order_status": "complete"}  # FAQ: "Only shipped goods can be returned"


def product(opid="1", qty=1, **extra):
    """An order_products entry with what the official schema requires (reason and action ids)."""
    return {"order_product_id": opid, "order_product_quantity": qty, "order_product_reason_id": "defective",
            "order_product_action_id": "refund", **extra}


def test_orders_carry_return_status_and_order_list_filters_by_it(a2c):
    c = a2c.on(WOO)
    oid = c.ok("order.add", "POST", body=ORDER)["order_id"]
    assert c.ok("order.info", id=oid)["additional_fields"] == {"return_status": "no_return"}
    before = c.ok("order.count")["orders_count"]
    no_return = c.ok("order.list", return_status="no_return", count=250)["orders_count"]
    assert no_return == before - 1  # the seeded return's order is the one exception
    rid = c.ok("order.return.add", "POST", body={
        "order_id": oid, "return_status_id": "pending", "return_action_id": "refund", "return_reason_id": "defective",
        "order_products": [product(order_product_reason_id="defective", order_product_action_id="refund")]})["return_id"]
    assert c.ok("order.info", id=oid)["additional_fields"]["return_status"] == "pending"
    assert oid in [o["id"] for o in c.ok("order.list", return_status="pending", count=250)["order"]]
    c.ok("order.return.update", "PUT", body={"return_id": rid, "return_status_id": "approved",
                                             "order_products": [product()]})
    assert c.ok("order.info", id=oid)["additional_fields"]["return_status"] == "approved"
    c.ok("order.return.delete", "DELETE", return_id=rid, order_id=oid)
    assert c.ok("order.info", id=oid)["additional_fields"]["return_status"] == "no_return"
    assert c.ok("order.list", return_status="no_return", count=250)["orders_count"] == no_return


def test_shopify_return_list_needs_an_order(a2c):
    c = a2c.on(SHOPIFY)
    assert "order_id" in c.err(114, "return.list")
    c.err(114, "return.count")
    oid = c.ok("order.list", return_status="open")["order"][0]["id"]
    assert c.ok("return.list", order_id=oid)["total_count"] == 1
    assert c.ok("return.list", order_ids=f"{oid},999")["total_count"] == 1
    assert c.ok("return.count", order_id=oid) == {"returns_count": 1}


def test_shopify_statuses_follow_shopifys_workflow(a2c):
    c = a2c.on(SHOPIFY)
    assert [s["id"] for s in c.ok("return.status.list")["return_statuses"]] == \
        ["requested", "open", "closed", "declined", "canceled"]
    oid = c.ok("order.add", "POST", body=ORDER)["order_id"]
    base = {"order_id": oid, "return_action_id": "refund", "return_reason_id": "defective",
            "order_products": [product(order_product_reason_id="defective", order_product_action_id="refund")]}
    assert "requested or open" in c.err(109, "order.return.add", "POST", body={**base, "return_status_id": "closed"})
    c.err(109, "order.return.add", "POST", body={**base, "return_status_id": "pending"})  # not a Shopify status
    rid = c.ok("order.return.add", "POST", body={**base, "return_status_id": "requested"})["return_id"]

    def move(to):
        return c.call("order.return.update", "PUT", body={"return_id": rid, "return_status_id": to,
                                                          "order_products": [product()]})

    assert move("closed")["return_code"] == 109          # a request must be approved (open) first
    assert move("open")["return_code"] == 0
    assert move("requested")["return_code"] == 109       # no way back to a request
    assert move("closed")["return_code"] == 0
    assert move("open")["return_code"] == 0               # reopen
    assert move("canceled")["return_code"] == 0
    msg = move("open")["return_message"]
    assert "final status" in msg                           # canceled is final
    assert c.ok("return.info", id=rid, params="status")["status"]["id"] == "canceled"


def test_bol_needs_handling_status_and_takes_no_reason_ids(a2c):
    c = a2c.on(BOL)
    oid = c.ok("order.add", "POST", body=ORDER)["order_id"]
    base = {"order_id": oid, "return_status_id": "pending", "return_action_id": "refund", "return_reason_id": "defective"}
    assert "order_product_handling_status" in c.err(114, "order.return.add", "POST", body={
        **base, "order_products": [product()]})
    msg = c.err(109, "order.return.add", "POST", body={**base, "order_products": [product(order_product_handling_status="LOST")]})
    assert "RETURN_RECEIVED" in msg and "EXCHANGE_PRODUCT" in msg  # FAQ: possible values in the error text
    c.err(115, "return.reason.list")  # FAQ: reason ids are not supported on Bol.com
    rid = c.ok("order.return.add", "POST", body={**base, "order_products": [
        product(order_product_handling_status="RETURN_RECEIVED", order_product_reason="Arrived broken")]})["return_id"]
    got = c.ok("return.info", id=rid, params="force_all")["order_products"][0]
    assert got["reason"] == {"id": "", "name": "Arrived broken"}  # a text, never an id
    assert got["additional_fields"] == {"handling_status": "RETURN_RECEIVED"}
    c.ok("order.return.update", "PUT", body={"return_id": rid, "order_products": [
        product(order_product_handling_status="EXCHANGE_PRODUCT", order_product_reason_id="wrong size")]})
    got = c.ok("return.info", id=rid, params="force_all")["order_products"][0]
    assert got["additional_fields"] == {"handling_status": "EXCHANGE_PRODUCT"}
    assert got["reason"] == {"id": "", "name": "wrong size"}
    # elsewhere the handling status is Bol.com's only
    w = a2c.on(WOO)
    woid = w.ok("order.add", "POST", body=ORDER)["order_id"]
    w.err(109, "order.return.add", "POST", body={**base, "order_id": woid, "order_products": [
        product(order_product_handling_status="RETURN_RECEIVED", order_product_reason_id="other", order_product_action_id="refund")]})


def test_return_reference_lists(a2c):
    c = a2c.on(WOO)
    assert {r["id"] for r in c.ok("return.reason.list")["return_reasons"]} >= {"defective", "other"}
    assert [s["id"] for s in c.ok("return.status.list")["return_statuses"]] == ["pending", "approved", "rejected", "completed"]
    assert {a["id"] for a in c.ok("return.action.list")["return_actions"]} == {"refund", "replace", "store_credit"}
