"""A webshop integration written from the guide, against the sandbox on a real HTTP port:
create an order, react to signed webhooks (received on a real local server) by fetching the
order, poll availability by changed-since, fetch a customer's prices."""
from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.xtnd.test_webhooks import SECRET, Receiver

KEY = "xtnd-demo-key"


class Webshop:
    """What the guide tells a webshop to do, with nothing but HTTP."""

    def __init__(self, base: str) -> None:
        self.api = base + "/xtnd/api/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {KEY}"
        self.balances: dict[tuple[str, str], int] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.last_sync: str | None = None

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(self.api + path, params=params, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def subscribe(self, callback: str) -> None:
        r = self.http.post(self.api + "/Webhooks", timeout=10, json={
            "name": "webshop", "callbackUrl": callback, "secret": SECRET,
            "triggers": ["OrderCreated", "OrderReserved", "OrderPicked", "OrderDeliveryDataChanged",
                         "OrderCancelled", "AvaiableBalanceChanged"]})
        assert r.status_code == 201, r.text

    def sync_availability(self) -> int:
        """Everything changed since the last sync, page by page ("changed since a timestamp")."""
        page, seen = 1, 0
        params: dict[str, Any] = {"pageSize": 25}
        if self.last_sync:
            params["changedSince"] = self.last_sync
        while True:
            body = self.get("/ProductAvailability", page=page, **params)
            for row in body["items"]:
                self.balances[(row["itemNumber"], row["warehouse"])] = row["availableBalance"]
                self.last_sync = max(self.last_sync or "", row["changed"])
                seen += 1
            if page >= body["totalPages"]:
                return seen
            page += 1

    def create_order(self, number: str) -> None:
        r = self.http.post(self.api + "/CustomerOrders", timeout=10, json={
            "orderNumber": number, "customerNumber": "10002",
            "rows": [{"itemNumber": "100002", "quantity": 2, "price": 123.45}]})
        assert r.status_code == 201, r.text

    def on_hook(self, payload: dict[str, Any]) -> None:
        """The guide: use the hook as a trigger, then call us."""
        if payload["trigger"] == "AvailableBalanceChanged":
            self.sync_availability()
        else:
            number = payload["data"]["orderNumber"]
            self.orders[number] = self.get(f"/customerorders/{number}")


@pytest.fixture
def sandbox_url(shared_app, serve):
    return serve(shared_app(apis=["xtnd"]))


def test_a_webshop_written_from_the_guide(sandbox_url):
    receiver = Receiver()
    try:
        shop = Webshop(sandbox_url)
        shop.subscribe(receiver.url)
        assert shop.sync_availability() == 80
        shop.create_order("WEB-1")
        handled = 0
        for seconds in (0, 61, 1800, 3600):  # the warehouse works; the sandbox clock moves
            requests.post(sandbox_url + "/__sandbox/clock", json={"advance_seconds": seconds}, timeout=10)
            requests.post(sandbox_url + "/__sandbox/webhooks/deliver", timeout=10)
            for payload in receiver.verified()[handled:]:  # signatures checked with the secret
                shop.on_hook(payload)
                handled += 1
        order = shop.orders["WEB-1"]
        assert order["status"] == "delivered" and order["rows"][0]["price"] == 123.45
        assert order["shipment"]["trackingNumber"] and order["shipment"]["deliveredRows"][0]["quantity"] == 2
        assert receiver.triggers() == ["OrderCreated", "OrderReserved", "AvailableBalanceChanged", "OrderPicked",
                                       "OrderDeliveryDataChanged"]
        truth = shop.get("/ProductAvailability", itemNumbers="100002", warehouses="01")["items"][0]
        assert shop.balances[("100002", "01")] == truth["availableBalance"]
        assert shop.sync_availability() == 1  # changedSince is inclusive: only the last change again
        prices = shop.get("/ProductPrices", customerNumber="10002", itemNumbers="100001,100002")
        assert [p["priceSource"] for p in prices["items"]] == ["discountList", "discountList"]
        r = shop.http.get(shop.api + "/ProductPrices", timeout=10)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "customerNumber"
    finally:
        receiver.close()
