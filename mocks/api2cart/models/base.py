"""The state every API2Cart store (tenant) holds, and the look-ups its topics share.

:class:`StoreBase` opens the store's collections; the topic classes (catalog, orders, returns,
webhook subscriptions) extend it and :class:`mocks.api2cart.models.StoreData` combines them.
``events`` collects (entity, action, entity dict) for the webhooks the route then sends."""
from __future__ import annotations

import copy
from typing import Any

from mocks.api2cart import errors as X
from mocks.api2cart.models.params import a2c_date, public
from mocks.core.state import TenantState


class StoreBase:
    """One store's collections, its pending webhook events and the look-ups its topics share."""

    def __init__(self, state: TenantState, cart_id: str = "") -> None:
        self.state = state
        self.cart_id = cart_id
        self.shipments = state.collection("shipments")
        self.products = state.collection("products")
        self.categories = state.collection("categories")
        self.customers = state.collection("customers")
        self.orders = state.collection("orders")
        self.returns = state.collection("returns")
        self.webhooks = state.collection("webhooks")
        self.shipping = state.collection("shipping_services")
        self.manufacturers = state.collection("manufacturers")
        self.tax_classes = state.collection("tax_classes")
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def emit(self, entity: str, action: str, data: dict[str, Any]) -> None:
        self.events.append((entity, action, data))

    # -- look-ups more than one topic uses ------------------------------------------------------
    def _product(self, pid: str) -> dict[str, Any]:
        product = self.products.lookup(pid)
        if product is None:
            raise X.not_found("Product", pid)
        return product

    def _set_product(self, pid: str, **fields: Any) -> dict[str, Any]:
        """Set product fields (a change stamps modified_at and is a product.update webhook)."""
        now = self.state.now()
        changed = []

        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            if old is None:
                raise X.not_found("Product", pid)
            if all(old.get(k) == v for k, v in fields.items()):
                return old
            new = copy.deepcopy(old)
            new.update(fields)
            new["modified_at"] = a2c_date(now)
            new["_ts"]["modified"] = now
            changed.append(True)
            return new

        product = self.products.update(pid, apply)
        assert product is not None
        if changed:
            self.emit("product", "update", public(product))
        return product

    def _order(self, oid: str) -> dict[str, Any]:
        order = self.orders.lookup(oid)
        if order is None:
            raise X.not_found("Order", oid)
        return order

    def _shipped(self, oid: str) -> dict[str, float]:
        """order_product_id -> units the order's shipments carried."""
        out: dict[str, float] = {}
        for s in self.shipments.values():
            if s["order_id"] == oid:
                for item in s["items"]:
                    out[item["order_product_id"]] = out.get(item["order_product_id"], 0) + float(item["quantity"] or 0)
        return out

    def customer_by_email(self, email: str) -> dict[str, Any] | None:
        return next((c for c in self.customers.values() if c["email"].lower() == email.lower()), None)
