"""XTND orders on the sandbox clock, reservations against available balances, the sandbox-only
advance and balance routes, and signed webhooks delivered to a real local HTTP server."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
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
    assert xc.put(V1 + "/ProductAvailability/100002/01", headers=KEY, json={"availableBalance": 2}).json[
        "availableBalance"] == 2
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    tick(xc, 120)
    assert order(xc)["status"] == "created" and balance(xc) == 2
    xc.put(V1 + "/productavailability/100002/01", headers=KEY, json={"availableBalance": 10})
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
    xc.put(V1 + f"/ProductAvailability/{row['itemNumber']}/01", headers=KEY, json={"availableBalance": 0})
    assert_error(xc.post(V1 + "/CustomerOrders/WS500001/advance", headers=KEY), 400, "Validation", "rows[0].quantity")
    xc.put(V1 + f"/ProductAvailability/{row['itemNumber']}/01", headers=KEY, json={"availableBalance": 500})
    tick(xc, 86_400)
    assert order(xc, "WS500001")["status"] == "created"


def test_a_move_applies_once_even_if_asked_twice(xapp, xc):
    from mocks.xtnd.models import Orders
    before = balance(xc)
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    tenant = xc.get("/__sandbox/credentials").json["xtnd"]["tenant"]
    orders = Orders(xapp.extensions["sandbox"].state("xtnd", tenant))
    orders._move("SHOP-1001", "reserved")
    orders._move("SHOP-1001", "reserved")  # a second worker's late tick: no double reservation
    assert balance(xc) == before - 3 and len(order(xc)["statusHistory"]) == 2


# -- sandbox-only routes -------------------------------------------------------------------------
def test_advance_route_moves_and_cancels(xc):
    before = balance(xc)
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    r = xc.post(V1 + "/CustomerOrders/shop-1001/advance", headers=KEY)
    assert r.status_code == 200 and r.json["status"] == "reserved" and balance(xc) == before - 3
    r = xc.post(V1 + "/CustomerOrders/SHOP-1001/advance", headers=KEY, json={"status": "cancelled"})
    assert r.json["status"] == "cancelled" and r.json["shipment"]["deliveryStatus"] == "cancelled"
    assert balance(xc) == before
    assert_error(xc.post(V1 + "/CustomerOrders/SHOP-1001/advance", headers=KEY), 400, "Validation", "status")
    tick(xc, 86_400)
    assert order(xc)["status"] == "cancelled"


def test_advance_route_to_a_target_and_its_errors(xc):
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    r = xc.post(V1 + "/CustomerOrders/SHOP-1001/advance", headers=KEY, json={"status": "delivered"})
    assert r.json["status"] == "delivered" and len(r.json["statusHistory"]) == 4
    assert_error(xc.post(V1 + "/CustomerOrders/SHOP-1001/advance", headers=KEY, json={"status": "cancelled"}),
                 400, "Validation", "status")
    assert_error(xc.post(V1 + "/CustomerOrders/SHOP-1001/advance", headers=KEY, json={"status": "shipped"}),
                 400, "Validation", "status")
    assert_error(xc.post(V1 + "/CustomerOrders/NOPE/advance", headers=KEY), 404, "NotFound")
    assert_error(xc.post(V1 + "/CustomerOrders/WS500001/advance", headers=READONLY), 403, "Authorization")
    xc.put(V1 + "/ProductAvailability/100003/01", headers=KEY, json={"availableBalance": 0})
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(number="SHOP-2", rows=[
        {"itemNumber": "100002", "quantity": 1, "price": 5}, {"itemNumber": "100003", "quantity": 1, "price": 5}]))
    assert_error(xc.post(V1 + "/CustomerOrders/SHOP-2/advance", headers=KEY), 400, "Validation", "rows[1].quantity")
    assert order(xc, "SHOP-2")["status"] == "created"


def test_set_balance_errors(xc):
    assert_error(xc.put(V1 + "/ProductAvailability/NOPE/01", headers=KEY, json={"availableBalance": 1}), 404, "NotFound")
    assert_error(xc.put(V1 + "/ProductAvailability/100002/99", headers=KEY, json={"availableBalance": 1}), 404, "NotFound")
    assert_error(xc.put(V1 + "/ProductAvailability/100002/01", headers=KEY, json={"availableBalance": "lots"}),
                 400, "Validation", "availableBalance")
    assert_error(xc.put(V1 + "/ProductAvailability/100002/01", headers=READONLY, json={"availableBalance": 1}),
                 403, "Authorization")


def test_availability_filters(xc):
    everything = xc.get(V1 + "/ProductAvailability?pageSize=1000", headers=KEY).json
    assert everything["totalCount"] == 80
    west = xc.get(V1 + "/ProductAvailability?warehouses=02&pageSize=1000", headers=KEY).json["items"]
    assert len(west) == 40 and {b["warehouse"] for b in west} == {"02"}
    both = xc.get(V1 + "/ProductAvailability?itemNumbers=100001&itemNumbers=100004", headers=KEY).json["items"]
    assert {(b["itemNumber"], b["warehouse"]) for b in both} == {("100001", "01"), ("100001", "02"),
                                                                 ("100004", "01"), ("100004", "02")}
    tick(xc, 10)
    changed = xc.put(V1 + "/ProductAvailability/100005/02", headers=KEY, json={"availableBalance": 3}).json
    since = xc.get(V1 + f"/ProductAvailability?changedSince={changed['changed']}", headers=KEY).json["items"]
    assert since == [changed]


# -- webhooks ------------------------------------------------------------------------------------
class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append(({k: v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def events(self):
        return [(h["X-XTND-Event"], json.loads(b)) for h, b in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def deliver(xc):
    return xc.post("/__sandbox/webhooks/deliver").json["attempted"]


def test_webhook_subscriptions_crud(xc):
    r = xc.post(V1 + "/Webhooks", headers=KEY, json={"url": "http://127.0.0.1:9/x", "events": ["AvaiableBalanceChanged"]})
    assert r.status_code == 201 and r.json["events"] == ["AvailableBalanceChanged"] and len(r.json["secret"]) >= 16
    hook = r.json
    assert xc.get(V1 + "/webhooks/" + hook["id"], headers=KEY).json == {k: v for k, v in hook.items() if k != "secret"}
    assert [h["id"] for h in xc.get(V1 + "/Webhooks", headers=KEY).json["items"]] == [hook["id"]]
    assert xc.get(V1 + "/Webhooks", headers=OTHER).json["items"] == []
    assert_error(xc.get(V1 + "/Webhooks/" + hook["id"], headers=OTHER), 404, "NotFound")
    assert_error(xc.post(V1 + "/Webhooks", headers=KEY, json={"url": "ftp://x"}), 400, "Validation", "url")
    assert_error(xc.post(V1 + "/Webhooks", headers=KEY, json={"url": "http://x", "events": ["Nope"]}),
                 400, "Validation", "events[0]")
    assert xc.delete(V1 + "/Webhooks/" + hook["id"], headers=KEY).status_code == 204
    assert_error(xc.delete(V1 + "/Webhooks/" + hook["id"], headers=KEY), 404, "NotFound")


def test_order_moves_and_balance_changes_are_delivered_signed(xc, receiver):
    hook = xc.post(V1 + "/Webhooks", headers=KEY, json={"url": receiver.url, "secret": "s3cret-s3cret-s3cret"}).json
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    assert deliver(xc) == 1
    tick(xc, 61)  # reserved: the control plane delivers what is due after the clock moves
    events = receiver.events()
    assert [e for e, _ in events] == ["CustomerOrderStatusChanged", "AvailableBalanceChanged", "CustomerOrderStatusChanged"]
    created, bal, reserved = (p for _, p in events)
    assert created["webhookId"] == hook["id"] and created["data"]["status"] == "created"
    assert created["data"]["previousStatus"] is None and created["data"]["orderNumber"] == "SHOP-1001"
    assert reserved["data"]["status"] == "reserved" and reserved["data"]["previousStatus"] == "created"
    assert bal["data"]["itemNumber"] == "100002" and bal["data"]["availableBalance"] == balance(xc)
    for headers, body in receiver.received:
        expected = hmac.new(b"s3cret-s3cret-s3cret", body, hashlib.sha256).hexdigest()
        assert headers["ms-signature"] == f"sha256={expected}"
        assert headers["X-XTND-Webhook-Id"] == hook["id"]
    log = xc.get("/__sandbox/webhooks?api=xtnd").json
    assert log["total"] == 3 and {d["status"] for d in log["webhooks"]} == {"delivered"}
    assert all("secret" not in d for d in log["webhooks"])


def test_subscriptions_get_only_their_events_and_tenant(xc, receiver):
    xc.post(V1 + "/Webhooks", headers=KEY, json={"url": receiver.url, "events": ["AvaiableBalanceChanged"]})
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    xc.put(V1 + "/ProductAvailability/100002/01", headers=OTHER, json={"availableBalance": 1})
    xc.put(V1 + "/ProductAvailability/100007/02", headers=KEY, json={"availableBalance": 42})
    xc.put(V1 + "/ProductAvailability/100007/02", headers=KEY, json={"availableBalance": 42})  # no change, no hook
    deliver(xc)
    assert [(e, p["data"]["itemNumber"], p["data"]["availableBalance"]) for e, p in receiver.events()] == [
        ("AvailableBalanceChanged", "100007", 42)]


def test_a_failing_receiver_is_retried(xc):
    failing = Receiver(status=500)
    try:
        xc.post(V1 + "/Webhooks", headers=KEY, json={"url": failing.url})
        xc.put(V1 + "/ProductAvailability/100007/02", headers=KEY, json={"availableBalance": 5})
        deliver(xc)
        tick(xc, 2)
        assert len(failing.received) == 2
        delivery = xc.get("/__sandbox/webhooks?api=xtnd").json["webhooks"][0]
        assert delivery["status"] == "pending" and [a["status"] for a in delivery["attempts"]] == [500, 500]
    finally:
        failing.close()


def test_the_lifecycle_on_the_sqlite_store(app_factory, tmp_path):
    xc = app_factory(apis=["xtnd"], state=f"sqlite:///{tmp_path}/xtnd.db").test_client()
    before = balance(xc)
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    tick(xc, 61)
    assert order(xc)["status"] == "reserved" and balance(xc) == before - 3
    assert order(xc)["rows"][0]["price"] == 19.9


def test_due_moves_are_applied_before_the_next_request(xapp, xc, monkeypatch):
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=ONE_ROW))
    clock = xapp.extensions["sandbox"].clock
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + 61)  # a minute of wall time, no clock advance
    assert order(xc)["status"] == "reserved"
