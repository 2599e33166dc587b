"""The storefront's catalogue and orders: paging, create, partial update.

Paging (the document's ``offset``/``pageSize``/``itemsTotal``): pages of ``PAGE_SIZE`` items in
creation order (``sortorder=asc``, the default) or reverse creation order (``desc``). Creation
order never changes when an item is updated, so a client paging while the store changes never
loses or repeats an item that existed when it started. ``next`` is an opaque step tag the store
hands out in ``paging.next``; sending it back gives the following page.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from mocks.click2sync import errors as X
from mocks.core.edge import issue_tag, read_tag
from mocks.core.state import TenantState

PAGE_SIZE = 20
PRODUCT_DEFAULTS: dict[str, Any] = {
    "url": "", "brand": "", "mpn": "", "model": "", "description": "", "tags": [], "variations": [],
}
VARIATION_DEFAULTS: dict[str, Any] = {
    "availabilities": [], "prices": [], "images": [], "videos": [], "barcode": "", "size": "", "color": "",
}
PRODUCT_FIELDS = {"sku", "title", *PRODUCT_DEFAULTS}
ORDER_FIELDS = {"orderid", "status", "dateCreated", "dateClosed", "total", "orderItems", "buyer"}
CLOSED_STATUSES = {"delivered", "closed", "cancelled"}


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- paging ---------------------------------------------------------------------------------------
def encode_cursor(offset: int, sortorder: str) -> str:
    return issue_tag({"o": offset, "s": sortorder}, "click2sync step tag")


def decode_cursor(tag: str) -> tuple[int, str]:
    """A step tag this store issued (edge.read_tag: forged or edited tags are refused)."""
    try:
        data = read_tag(tag, "click2sync step tag")
        offset, order = data["o"], data["s"]
        if type(offset) is not int or order not in ("asc", "desc"):
            raise ValueError
        return offset, order
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise X.BadCursor() from None


def page(items: list[Any], key: str, offset: int, sortorder: str, next_tag: str | None) -> dict[str, Any]:
    if next_tag is not None:
        offset, sortorder = decode_cursor(next_tag)
    ordered = items if sortorder == "asc" else items[::-1]
    chunk = ordered[offset:offset + PAGE_SIZE]
    paging: dict[str, Any] = {"pageSize": PAGE_SIZE, "itemsTotal": len(items), "offset": offset}
    if offset + PAGE_SIZE < len(items):
        paging["next"] = encode_cursor(offset + PAGE_SIZE, sortorder)
    return {"paging": paging, key: chunk}


def single(item: dict[str, Any], key: str) -> dict[str, Any]:
    return {"paging": {"pageSize": PAGE_SIZE, "itemsTotal": 1, "offset": 0}, key: [item]}


def merge_list(old: list[Any], new: list[Any]) -> list[Any]:
    """Merge lists by position: element i of ``new`` updates element i of ``old``."""
    out = []
    for i in range(max(len(old), len(new))):
        if i >= len(new):
            out.append(old[i])
        elif i >= len(old) or not isinstance(new[i], dict) or not isinstance(old[i], dict):
            out.append(new[i])
        else:
            out.append({**old[i], **new[i]})
    return out


class Listing:
    """What products and orders share: a collection paged, read by id, with one unique field."""

    collection = ""                   # "products" | "orders": also the listing's key
    unique = ""                       # the field no two items may share
    not_found: type[Exception] = X.ProductNotFound

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.items = state.collection(self.collection)

    def list(self, offset: int = 0, sortorder: str = "asc", next_tag: str | None = None) -> dict[str, Any]:
        return page(self.items.values(), self.collection, offset, sortorder, next_tag)

    def one(self, item_id: str) -> dict[str, Any]:
        item = self.items.lookup(item_id)
        if item is None:
            raise self.not_found(item_id)
        return single(item, self.collection)

    def owner(self, value: str) -> str | None:
        """The _id of the item whose unique field has this value."""
        for item_id, item in self.items.items():
            if item.get(self.unique) == value:
                return item_id
        return None


# -- products -------------------------------------------------------------------------------------
class Catalog(Listing):
    collection, unique, not_found = "products", "sku", X.ProductNotFound


    def create(self, data: dict[str, Any], product_id: str | None = None) -> dict[str, Any]:
        owner = self.owner(data["sku"])
        if owner is not None:
            raise X.DuplicateSku(data["sku"], owner)
        product_id = product_id or str(self.state.next_id("product", start=100_004_778))
        product = normalise_product({**data, "_id": product_id}, self.state.now())
        if not self.items.add(product_id, product):  # a racing create took the id
            raise X.DuplicateSku(data["sku"], product_id)
        return product

    def update(self, product_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        if "sku" in changes:
            owner = self.owner(changes["sku"])
            if owner is not None and owner != product_id:
                raise X.DuplicateSku(changes["sku"], owner)
        now = self.state.now()

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None:
                raise X.ProductNotFound(product_id)
            merged = dict(old)
            for key, value in changes.items():
                if key not in PRODUCT_FIELDS:
                    continue  # _id, last_updated and unknown fields are the store's, not the caller's
                if key == "variations":
                    value = [{**VARIATION_DEFAULTS, **v} if isinstance(v, dict) else v
                             for v in merge_list(old.get("variations", []), value)]
                merged[key] = value
            merged["last_updated"] = iso(now)
            return merged

        return self.items.update(product_id, apply)


def normalise_product(data: dict[str, Any], now: float) -> dict[str, Any]:
    product = {"_id": data["_id"], "sku": data["sku"], "title": data.get("title", "")}
    for key, default in PRODUCT_DEFAULTS.items():
        product[key] = copy.deepcopy(data.get(key, default))
    product["variations"] = [{**VARIATION_DEFAULTS, **v} for v in product["variations"]]
    product["last_updated"] = iso(now)
    return product


# -- orders ---------------------------------------------------------------------------------------
class Orders(Listing):
    collection, unique, not_found = "orders", "orderid", X.OrderNotFound


    def create(self, data: dict[str, Any], order_id: str | None = None) -> dict[str, Any]:
        owner = self.owner(data["orderid"])
        if owner is not None:
            raise X.DuplicateOrder(data["orderid"], owner)
        order_id = order_id or str(self.state.next_id("order", start=75_554_554_547))
        now = self.state.now()
        order = {
            "_id": order_id,
            "orderid": data["orderid"],
            "status": data["status"],
            "dateCreated": data.get("dateCreated") or iso(now),
            "dateClosed": data.get("dateClosed", ""),
            "total": copy.deepcopy(data.get("total") or order_total(data["orderItems"])),
            "orderItems": copy.deepcopy(data["orderItems"]),
            "buyer": {"id": "", "email": "", "phone": "", "firstName": "", "lastName": "", **data.get("buyer", {})},
        }
        if order["status"] in CLOSED_STATUSES and not order["dateClosed"]:
            order["dateClosed"] = iso(now)
        if not self.items.add(order_id, order):
            raise X.DuplicateOrder(data["orderid"], order_id)
        return order

    def update(self, order_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        if "orderid" in changes:
            owner = self.owner(changes["orderid"])
            if owner is not None and owner != order_id:
                raise X.DuplicateOrder(changes["orderid"], owner)
        now = self.state.now()

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None:
                raise X.OrderNotFound(order_id)
            merged = dict(old)
            for key, value in changes.items():
                if key not in ORDER_FIELDS:
                    continue
                if key == "orderItems":
                    value = merge_list(old.get("orderItems", []), value)
                    check_order_items(value)
                elif key in ("buyer", "total"):
                    value = {**old.get(key, {}), **value}
                merged[key] = value
            if merged["status"] in CLOSED_STATUSES and not merged.get("dateClosed"):
                merged["dateClosed"] = iso(now)
            return merged

        return self.items.update(order_id, apply)


ORDER_ITEM_FIELDS = ("id", "variation_id", "quantity", "unitPrice", "currencyId")


def check_order_items(items: list[Any]) -> None:
    """Items appended by an update (past the existing ones) must be whole items."""
    for i, item in enumerate(items):
        missing = [f for f in ORDER_ITEM_FIELDS if f not in item]
        if missing:
            raise X.IncompleteItem(i, missing)


def order_total(items: list[dict[str, Any]]) -> dict[str, Any]:
    amount = sum(float(i.get("unitPrice", 0)) * int(i.get("quantity", 0)) for i in items)
    currency = next((i.get("currencyId") for i in items if i.get("currencyId")), "USD")
    return {"amount": round(amount, 2), "currency": currency}
