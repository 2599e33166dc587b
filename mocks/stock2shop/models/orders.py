"""Stock2Shop orders: a channel's order payload turned into a Stock2Shop order (with its
customer), and the order totals."""
from __future__ import annotations

from typing import Any

from mocks.core.state import TenantState
from mocks.stock2shop import channel_orders as CO
from mocks.stock2shop.models.formats import _num, money, s2s_time
from mocks.stock2shop import errors as X
from mocks.stock2shop.models.indexes import IndexLag, by_sku, elastic_search
from mocks.stock2shop.models.sources import Catalogue

def order_totals(line_items: list[dict[str, Any]], shipping: float = 0.0, rate: float = 15.0,
                 shipping_tax: float = 0.0) -> dict[str, Any]:
    """Line and order totals; a line may carry its own ``rate`` (percent) and ``total_discount``
    (tax is charged on the discounted line)."""
    for li in line_items:
        qty = li["qty"]
        line_rate = float(li.pop("rate", rate))
        disc = float(li.get("total_discount", 0) or 0)
        sub = round(li["price"] * qty, 2)
        tax = round((sub - disc) * line_rate / 100, 2)
        li.update({"sub_total": sub, "tax": tax, "tax_per_unit": round(li["price"] * line_rate / 100, 2),
                   "total": round(sub + tax - disc, 2),
                   "tax_lines": [{"rate": f"{round(line_rate, 4):g}"}]})
        li.update({"sub_total_display": money(li["sub_total"]), "tax_display": money(li["tax"]),
                   "tax_per_unit_display": money(li["tax_per_unit"]), "total_display": money(li["total"]),
                   "price_display": money(li["price"]), "total_discount_display": money(disc)})
    sub_total = round(sum(li["sub_total"] for li in line_items), 2)
    tax = round(sum(li["tax"] for li in line_items) + shipping_tax, 2)
    discount = round(sum(float(li.get("total_discount", 0) or 0) for li in line_items), 2)
    total = round(sub_total - discount + tax + shipping, 2)
    return {"total_discount": discount, "line_item_sub_total": sub_total,
            "line_item_tax": round(tax - shipping_tax, 2), "shipping_sub_total": shipping,
            "shipping_tax": shipping_tax, "sub_total": sub_total, "tax": tax, "total": total,
            "shipping_total": round(shipping + shipping_tax, 2), "sub_total_display": money(sub_total),
            "shipping_total_display": money(shipping + shipping_tax), "shipping_tax_display": money(shipping_tax),
            "tax_display": money(tax), "total_display": money(total), "total_discount_display": money(discount)}


ADDRESS_FIELDS = ("address1", "address2", "city", "company", "country", "country_code", "first_name", "last_name",
                  "phone", "province", "province_code", "zip")


def address(data: Any) -> dict[str, Any]:
    data = data if isinstance(data, dict) else {}
    return {f: (None if data.get(f) is None else str(data.get(f))) for f in ADDRESS_FIELDS}


class Orders:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.orders = state.collection("orders")
        self.customers = state.collection("customers")

    # reading (GET /v1/orders/{id}, GET /v1/orders/search) -------------------------------------
    def one(self, user: dict[str, Any], ref: str) -> dict[str, Any]:
        """One order of the client; a trade user sees only their own customer's orders (as search)."""
        order = self.orders.lookup(ref) if ref.isdigit() else None
        if order is None or (user.get("role") == "trade" and order.get("customer_id") != (user.get("customer_id") or 0)):
            raise X.OrderNotFound(ref)
        return {"system_order": order}

    def search(self, user: dict[str, Any], status: str | None, limit: int, offset: int) -> dict[str, Any]:
        """Newest first, optionally one status: the same index (and the same trade-user filter) as
        POST /v1/orders/elastic_search, so its cost is the page's, not the catalogue's."""
        query: dict[str, Any] = {"term": {"status": status}} if status else {"match_all": {}}
        found = elastic_search(self.state, "orders", {"query": query, "from": offset, "size": limit,
                                                      "sort": [{"id": "desc"}]}, user)
        return {"system_orders": found["system_orders"], "total": found["hits"]["total"]}

    def from_channel(self, channel_id: int, payload: Any, queue_id: int, at: float | None = None) -> dict[str, Any]:
        """Turn a channel's order payload into a Stock2Shop order (``channel_orders`` maps Shopify and
        WooCommerce webhooks field by field; anything else gives a minimal order); the same
        channel_order_code on the same channel updates the order."""
        now = self.state.now() if at is None else at
        client_id = int(self.state.tenant)
        channel = Catalogue(self.state).channel(channel_id) or {}
        mapped = CO.map_order(channel.get("type"), payload)
        code = mapped["code"] or str(queue_id)
        existing = next((o for _, o in self.orders.items()
                         if o["channel_order_code"] == code and o["channel_id"] == channel_id), None)
        customer = mapped["customer"]
        customer_id = self._customer(channel_id, customer, now)
        line_items = []
        for raw in mapped["line_items"]:
            line_items.append({"id": self.state.next_id("line_item", 4_000_000), "grams": _num(raw["grams"]),
                               "price": raw["price"], "sku": raw["sku"], "total_discount": raw["total_discount"],
                               "qty": raw["qty"], "variant_id": self._variant_id(raw["sku"]), "source_id": None,
                               "title": raw["title"], "rate": raw["rate"]})
        order = {
            "id": existing["id"] if existing else self.state.next_id("order", 940_000),
            "created": existing["created"] if existing else s2s_time(now),
            "channel_order_code": code, "modified": s2s_time(now), "channel_id": channel_id,
            "client_id": client_id, "customer_id": customer_id,
            "notes": mapped["notes"], "status": "ordered",
            **order_totals(line_items, mapped["shipping"], shipping_tax=mapped["shipping_tax"]),
            "customer": customer, "sources": [], "line_items": line_items,
            "meta": [{"key": "queue_id", "value": str(queue_id)}, {"key": "channel_format", "value": mapped["channel"]},
                     *mapped["meta"]],
            "shipping_address": mapped["shipping_address"], "billing_address": mapped["billing_address"],
        }
        IndexLag(self.state).before_write("orders", str(order["id"]), self.orders.lookup(str(order["id"])), now)
        self.orders.put(str(order["id"]), order)
        return {"order_id": order["id"], "channel_order_code": code}

    def _variant_id(self, sku: str) -> int | None:
        if not sku:
            return None
        products = self.state.collection("products")
        for key in by_sku(products).get(sku):
            p = products.get(key)
            for v in (p or {}).get("variants") or ():
                if v["sku"] == sku:
                    return v["id"]
        return None

    def _customer(self, channel_id: int, c: dict[str, Any], now: float) -> int | None:
        if not c["email"]:
            return None
        for _, known in self.customers.items():
            if known["email"].lower() == c["email"].lower():
                return known["id"]
        cid = self.state.next_id("customer", 500_000)
        self.customers.put(str(cid), customer_record(cid, int(self.state.tenant), channel_id, c, now))
        return cid


def customer_record(cid: int, client_id: int, channel_id: int, c: dict[str, Any], ts: float) -> dict[str, Any]:
    return {"id": cid, "created": s2s_time(ts), "modified": s2s_time(ts), "client_id": client_id,
            "channel_id": channel_id, "channel_customer_code": c.get("channel_customer_code", ""),
            "email": c["email"], "first_name": c["first_name"], "last_name": c["last_name"],
            "accepts_marketing": False, "active": True, "addresses": [], "meta": []}
