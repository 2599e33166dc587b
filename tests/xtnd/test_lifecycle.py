"""XTND orders on the sandbox clock, reservations against available balances, and the
sandbox-only operations under /__sandbox/xtnd (move orders, set balances, edit masterdata)."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.xtnd.conftest import KEY, OTHER, READONLY, V1
from tests.xtnd.test_api import assert_error, new_order


def balance(xc, item="100002", warehouse="01", headers=KEY):
    rows = xc.get(V1 + f"/ProductAvailability?itemNumbers={item}&warehouses={warehouse}", headers=headers).json["items"]
    assert len(rows) == 1
    return rows[0]["availableBalance"]


def tick(xc, seconds):
    assert xc.post("/__sandbox/clock", json={"advance_seconds": seconds}).status_code == 200


def order(xc, number="SHOP-1001", headers=KEY):
    return xc.get(V1 + f"/CustomerOrders/{number}", headers=headers).json


def set_balance(xc, item, warehouse, value, tenant=None):
    query = f"?tenant={tenant}" if tenant else ""
    return xc.put("/__sandbox/xtnd/availability" + query,
                  json={"itemNumber": item, "warehouse": warehouse, "availableBalance": value})


def advance(xc, number, status=None):
    return xc.post(f"/__sandbox/xtnd/orders/{number}/advance", json={"status": status} if status else None)


def control_error(r, status, field=None):
    """The control plane's own error shape (the sandbox operations are not XTND's API)."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert set(r.json) >= {"error", "message"}
    if field is not None:
        fields = [e.get("field") or e.get("pointer", "").rsplit("/", 1)[-1] for e in r.json.get("errors", [])]
        assert field in fields, r.json


ONE_ROW = [{"itemNumber": "100002", "quantity": 3, "price": 19.9}]


# -- lifecycle by clock --------------------------------------------------------------------------
def test_an_order_moves_created_reserved_picked_delivered_on_the_clock(xc):
    before = balance(xc)
    assert xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW)).status_code == 201
    tick(xc, 30)
    assert order(xc)["status"] == "created" and balance(xc) == before
    tick(xc, 31)
    reserved = order(xc)
    assert reserved["status"] == "reserved" and reserved["rows"][0]["reservedQuantity"] == 3
    assert balance(xc) == before - 3
    tick(xc, 1800)
    assert order(xc)["status"] == "picked" and order(xc)["shipment"]["deliveryStatus"] == "picked"
    tick(xc, 3600)
    done = order(xc)
    assert done["status"] == "delivered"
    shipment = done["shipment"]
    assert shipment["deliveryStatus"] == "delivered" and shipment["trackingNumber"] and shipment["carrier"]
    assert shipment["deliveredRows"] == [{"rowNumber": 1, "itemNumber": "100002", "quantity": 3}]
    assert [h["status"] for h in done["statusHistory"]] == ["created", "reserved", "picked", "delivered"]
    assert balance(xc) == before - 3  # delivered: on hand and reservation both went down
    assert "SHOP-1001" in xc.get(V1 + "/CustomerOrders?status=shipped", headers=KEY).json["items"]
    tick(xc, 86_400)
    assert order(xc)["statusHistory"] == done["statusHistory"]


def test_one_big_clock_jump_walks_every_step(xc):
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    tick(xc, 7 * 86_400)
    done = order(xc)
    assert done["status"] == "delivered" and len(done["statusHistory"]) == 4
    stamps = [h["at"] for h in done["statusHistory"]]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4


def test_an_order_waits_for_stock_then_reserves(xc):
    assert set_balance(xc, "100002", "01", 2).json["availableBalance"] == 2
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    tick(xc, 120)
    assert order(xc)["status"] == "created" and balance(xc) == 2
    set_balance(xc, "100002", "01", 10)
    tick(xc, 1)
    assert order(xc)["status"] == "reserved" and balance(xc) == 7


def test_seeded_orders_hold_their_status_on_the_clock(xc):
    before = {n: order(xc, n)["status"] for n in xc.get(V1 + "/CustomerOrders", headers=KEY).json["items"]}
    tick(xc, 30 * 86_400)
    after = {n: order(xc, n)["status"] for n in before}
    assert after == before and {"created", "reserved", "picked", "delivered", "cancelled"} == set(before.values())


def test_a_seeded_order_short_of_stock_stays_held(xc):
    held = order(xc, "WS500001")
    assert held["status"] == "created"
    row = held["rows"][0]
    set_balance(xc, row["itemNumber"], "01", 0)
    control_error(advance(xc, "WS500001"), 400, "rows[0].quantity")
    set_balance(xc, row["itemNumber"], "01", 500)
    tick(xc, 86_400)
    assert order(xc, "WS500001")["status"] == "created"


def test_a_move_applies_once_even_if_asked_twice(xapp, xc):
    from mocks.xtnd.models.orders import Orders
    before = balance(xc)
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    tenant = xc.get("/__sandbox/credentials").json["xtnd"]["tenant"]
    orders = Orders(xapp.extensions["sandbox"].state("xtnd", tenant))
    orders._move("SHOP-1001", "reserved")
    orders._move("SHOP-1001", "reserved")  # a second worker's late tick: no double reservation
    assert balance(xc) == before - 3 and len(order(xc)["statusHistory"]) == 2


# -- sandbox-only routes (/__sandbox/xtnd) ------------------------------------------------------
def test_advance_route_moves_and_cancels(xc):
    before = balance(xc)
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    r = advance(xc, "shop-1001")
    assert r.status_code == 200 and r.json["status"] == "reserved" and balance(xc) == before - 3
    r = advance(xc, "SHOP-1001", "cancelled")
    assert r.json["status"] == "cancelled" and r.json["shipment"]["deliveryStatus"] == "cancelled"
    assert balance(xc) == before
    control_error(advance(xc, "SHOP-1001"), 400, "status")
    tick(xc, 86_400)
    assert order(xc)["status"] == "cancelled"


def test_advance_route_to_a_target_and_its_errors(xc):
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    r = advance(xc, "SHOP-1001", "delivered")
    assert r.json["status"] == "delivered" and len(r.json["statusHistory"]) == 4
    control_error(advance(xc, "SHOP-1001", "cancelled"), 400, "status")
    control_error(advance(xc, "SHOP-1001", "shipped"), 400, "status")
    control_error(advance(xc, "NOPE"), 404)
    set_balance(xc, "100003", "01", 0)
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(number="SHOP-2", rows=[
        {"itemNumber": "100002", "quantity": 1, "price": 5}, {"itemNumber": "100003", "quantity": 1, "price": 5}]))
    control_error(advance(xc, "SHOP-2"), 400, "rows[1].quantity")
    assert order(xc, "SHOP-2")["status"] == "created"


def test_the_old_api_paths_of_the_sandbox_operations_are_gone(xc):
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    assert_error(xc.post(V1 + "/CustomerOrders/SHOP-1001/advance", headers=KEY), 404, "NotFound")
    assert_error(xc.put(V1 + "/ProductAvailability/100002/01", headers=KEY, json={"availableBalance": 1}),
                 404, "NotFound")


def test_sandbox_operations_are_guarded_and_per_tenant(xc):
    r = xc.post("/__sandbox/xtnd/orders/WS500001/advance", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert r.status_code == 403 and order(xc, "WS500001")["status"] == "created"
    other = xc.get("/__sandbox/credentials").json["xtnd"]["keys"][1]["tenant"]
    mine = xc.get(V1 + "/ProductAvailability?itemNumbers=100002&warehouses=01", headers=KEY).json["items"]
    assert set_balance(xc, "100002", "01", 4, tenant=other).status_code == 200
    assert balance(xc, headers=OTHER) == 4
    assert xc.get(V1 + "/ProductAvailability?itemNumbers=100002&warehouses=01", headers=KEY).json["items"] == mine
    control_error(set_balance(xc, "100002", "01", 4, tenant="nobody"), 404)


def test_move_every_open_order_at_once(xc):
    for n in ("SHOP-1", "SHOP-2"):
        xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(number=n, rows=ONE_ROW))
    r = xc.post("/__sandbox/xtnd/orders/advance", json={"status": "picked"})
    assert r.json["moved"] == ["SHOP-1", "SHOP-2"]
    assert {order(xc, n)["status"] for n in ("SHOP-1", "SHOP-2")} == {"picked"}
    assert order(xc, "WS500001")["status"] == "created"  # seeded orders are held unless asked for
    assert xc.post("/__sandbox/xtnd/orders/advance", json={}).json["moved"] == ["SHOP-1", "SHOP-2"]
    assert xc.post("/__sandbox/xtnd/orders/advance").json["moved"] == []


def test_set_balance_errors(xc):
    control_error(set_balance(xc, "NOPE", "01", 1), 404)
    control_error(set_balance(xc, "100002", "99", 1), 404)
    control_error(set_balance(xc, "100002", "01", "lots"), 400, "availableBalance")
    control_error(xc.put("/__sandbox/xtnd/availability", json={"itemNumber": "100002"}), 400)
    control_error(xc.put("/__sandbox/xtnd/availability", data="{", content_type="application/json"), 400)


@pytest.mark.parametrize("path,body", [
    ("/orders/WS500001/advance", {"status": "nope"}), ("/orders/advance", {"includeSeeded": "yes"}),
    ("/orders/WS500004/delivery", {}), ("/orders/WS500004/delivery", {"carrier": 5}),
    ("/products/100001", {"standardPrice": -1}), ("/products/100001", {"itemNumber": "X"}),
    ("/customers/10001", {"active": "no"}), ("/customers/10001", {"priceList": "NOPE"}),
    ("/availability", [1, 2]), ("/availability", "x")])
def test_odd_sandbox_bodies_change_nothing(xc, path, body):
    before = xc.get("/__sandbox/data/xtnd").json
    method = "PATCH" if path.startswith(("/products", "/customers")) else "PUT" if "delivery" in path or \
        path == "/availability" else "POST"
    r = xc.open("/__sandbox/xtnd" + path, method=method, json=body)
    assert 400 <= r.status_code < 500 and "error" in r.json
    assert xc.get("/__sandbox/data/xtnd").json == before


def test_availability_filters(xc):
    everything = xc.get(V1 + "/ProductAvailability?pageSize=1000", headers=KEY).json
    assert everything["totalCount"] == 80
    west = xc.get(V1 + "/ProductAvailability?warehouses=02&pageSize=1000", headers=KEY).json["items"]
    assert len(west) == 40 and {b["warehouse"] for b in west} == {"02"}
    both = xc.get(V1 + "/ProductAvailability?itemNumbers=100001&itemNumbers=100004", headers=KEY).json["items"]
    assert {(b["itemNumber"], b["warehouse"]) for b in both} == {("100001", "01"), ("100001", "02"),
                                                                 ("100004", "01"), ("100004", "02")}
    tick(xc, 10)
    changed = set_balance(xc, "100005", "02", 3).json
    since = xc.get(V1 + f"/ProductAvailability?changedSince={changed['changed']}", headers=KEY).json["items"]
    assert since == [changed]
    page = xc.get(V1 + "/ProductAvailability?pageSize=30&page=3", headers=KEY).json
    assert page["totalPages"] == 3 and len(page["items"]) == 20


def test_masterdata_edits_show_in_changed_since(xc):
    tick(xc, 5)
    r = xc.patch("/__sandbox/xtnd/products/100003", json={"standardPrice": 99.5, "description": "Renamed"})
    assert r.status_code == 200 and r.json["standardPrice"] == 99.5
    assert xc.get(V1 + f"/Products?changedSince={r.json['changed']}", headers=KEY).json["items"] == ["100003"]
    c = xc.patch("/__sandbox/xtnd/customers/10005", json={"email": "new@example.com"}).json
    assert xc.get(V1 + f"/Customers?changedSince={c['changed']}", headers=KEY).json["items"] == ["10005"]
    assert xc.get(V1 + "/Customers/10005", headers=KEY).json["email"] == "new@example.com"
    control_error(xc.patch("/__sandbox/xtnd/products/NOPE", json={"active": False}), 404)


def test_delivery_data_can_be_corrected(xc):
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    advance(xc, "SHOP-1001", "delivered")
    r = xc.put("/__sandbox/xtnd/orders/SHOP-1001/delivery", json={"trackingNumber": "TRACK-2", "carrier": "DHL"})
    assert r.status_code == 200 and r.json["shipment"]["trackingNumber"] == "TRACK-2"
    assert order(xc)["shipment"]["carrier"] == "DHL"
    assert order(xc, "WS500006")["status"] == "cancelled"
    control_error(xc.put("/__sandbox/xtnd/orders/WS500006/delivery", json={"carrier": "X"}), 400, "status")


def test_the_lifecycle_on_the_sqlite_store(app_factory, tmp_path):
    xc = app_factory(apis=["xtnd"], state=f"sqlite:///{tmp_path}/xtnd.db").test_client()
    before = balance(xc)
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    tick(xc, 61)
    assert order(xc)["status"] == "reserved" and balance(xc) == before - 3
    assert order(xc)["rows"][0]["price"] == 19.9


def test_an_order_moves_on_by_itself_and_each_event_arrives_as_it_happens(app_factory):
    """With the scheduler running and steps of a fraction of a second, an order walks its
    lifecycle and its webhooks reach a local receiver with no client request after the create."""
    from tests.xtnd.test_webhooks import Receiver, subscribe

    app = app_factory(apis=["xtnd"], scheduler=True, options={"xtnd": {"lifecycle": 0.4}})
    receiver = Receiver()
    try:
        xc = app.test_client()
        subscribe(xc, receiver.url, triggers=["OrderCreated", "OrderReserved", "OrderPicked", "OrderDeliveryDataChanged"])
        assert xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW)).status_code == 201
        seen = app.extensions["sandbox"].store.journal()[-1]["seq"]
        deadline = time.time() + 10
        arrivals: dict[str, float] = {}
        while len(arrivals) < 4 and time.time() < deadline:
            for trigger in receiver.triggers():
                arrivals.setdefault(trigger, time.time())
            time.sleep(0.02)
        assert list(arrivals) == ["OrderCreated", "OrderReserved", "OrderPicked", "OrderDeliveryDataChanged"]
        span = arrivals["OrderDeliveryDataChanged"] - arrivals["OrderReserved"]
        assert span > 0.4, arrivals                                # two steps of 0.4 s, not all at once
        later = [e for e in app.extensions["sandbox"].store.journal(seen)]
        assert later and all(e.get("direction") == "outbound" for e in later)   # no client request since
        assert order(xc)["status"] == "delivered"
    finally:
        app.extensions["sandbox"].scheduler.stop()
        receiver.close()


def test_sandbox_operation_answers_have_the_api_shapes(xc):
    """The control plane answers with the API's own documents (order, balance, product, customer)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    from mocks.core.contracts import load_schema_files

    files = load_schema_files("xtnd")
    registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in files.values())

    def valid(name, body):
        uri = f"https://commerce-sandbox.invalid/schemas/xtnd/{name}.schema.json"
        errors = list(Draft202012Validator({"$ref": uri}, registry=registry).iter_errors(body))
        assert not errors, (name, errors[0].message)

    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    valid("order", advance(xc, "SHOP-1001", "delivered").json)
    valid("order", xc.put("/__sandbox/xtnd/orders/SHOP-1001/delivery", json={"carrier": "DHL"}).json)
    valid("availability", set_balance(xc, "100002", "02", 9).json)
    valid("product", xc.patch("/__sandbox/xtnd/products/100002", json={"active": False}).json)
    valid("customer", xc.patch("/__sandbox/xtnd/customers/10002", json={"priceList": "PL-10001"}).json)
