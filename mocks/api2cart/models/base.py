"""The state every API2Cart store (tenant) holds, and the look-ups its topics share.

:class:`StoreBase` opens the store's collections; the topic classes (catalog, orders, returns,
webhook subscriptions) extend it and :class:`mocks.api2cart.models.StoreData` combines them.
``events`` collects (entity, action, entity dict) for the webhooks the route then sends."""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterator

from mocks.api2cart import errors as X
from mocks.api2cart.models.paging import page, window
from mocks.api2cart.models.params import Params, a2c_date, entries, public, select
from mocks.core.state import Collection, TenantState

#: how a method shapes one record for its answer (``params``, ``exclude``, the method's defaults)
Shape = Callable[[dict[str, Any], Params], dict[str, Any]]


def shape_fields(default: str) -> Shape:
    """The usual shape: ``params``/``exclude`` over the public record, ``default`` when no ``params``."""
    return lambda record, p: select(public(record), p.str("params"), p.str("exclude"), default)


def listing(p: Params, items_of: Callable[[], list[dict[str, Any]]], shape: Shape, count_key: str,
            rows_key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A list method's answer: ``start``/``count`` (checked first), the records ``items_of`` finds,
    the page of them shaped, the total under ``count_key`` and the paging cursors."""
    start, count = window(p)
    items = items_of()
    chunk, pagination = page(items, start, count)
    return {count_key: len(items), rows_key: [shape(i, p) for i in chunk]}, pagination


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
    @staticmethod
    def _record(collection: Collection, entity: str, ident: str,
                keep: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """The record ``ident`` of ``collection`` (that ``keep`` accepts), else 112 naming ``entity``."""
        found = collection.lookup(ident)
        if found is None or (keep is not None and not keep(found)):
            raise X.not_found(entity, ident)
        return found

    def _product(self, pid: str) -> dict[str, Any]:
        return self._record(self.products, "Product", pid)

    @staticmethod
    def _member(items: list[dict[str, Any]], ident: str, entity: str) -> dict[str, Any]:
        """The element of a record's list (images, option items) with ``id`` ``ident``, else 112."""
        found = next((i for i in items if i["id"] == ident), None)
        if found is None:
            raise X.not_found(entity, ident)
        return found

    @staticmethod
    def _order_lines(raw: list[Any], order: dict[str, Any],
                     name: str) -> Iterator[tuple[Params, str, dict[str, Any]]]:
        """Each entry of the order-product list ``name`` (shipment items, returned products): its
        parameters, its ``order_product_id`` and the order's line (109 for an entry that is not an
        object, 114 without the id, 112 for a line the order does not have)."""
        by_id = {i["order_product_id"]: i for i in order["order_products"]}
        for ep in entries(raw, name):
            opid = ep.need("order_product_id")
            line = by_id.get(opid)
            if line is None:
                raise X.not_found("Order product", opid)
            yield ep, opid, line

    def _change(self, collection: Collection, entity: str, key: str, edit: Callable[[dict[str, Any]], Any], *,
                event: str | None = None, stamp: str = "modified_at", date: Callable[[float], Any] = a2c_date,
                keep: Callable[[dict[str, Any]], bool] | None = None, now: float | None = None) -> dict[str, Any]:
        """The one update path: ``edit`` a copy of the record (112 naming ``entity`` when it is missing
        or ``keep`` refuses it), stamp ``stamp`` and the modification time, emit ``event``.update; an
        error in ``edit`` leaves the stored record unchanged."""
        at = self.state.now() if now is None else now

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None or (keep is not None and not keep(old)):
                raise X.not_found(entity, key)
            new = copy.deepcopy(old)
            edit(new)
            new[stamp] = date(at)
            new["_ts"]["modified"] = at
            return new

        item = collection.update(key, apply)
        assert item is not None
        if event is not None:
            self.emit(event, "update", public(item))
        return item

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
        return self._record(self.orders, "Order", oid)

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
