"""A small, correct Click2Sync custom storefront: the four hooks Click2Sync calls on a store.

    python examples/click2sync_store.py --port 5001 --key my-key
    commerce-sandbox verify click2sync --base-url http://127.0.0.1:5001 --key my-key

Hooks: ``GET/POST /product``, ``POST /product/<id>``, ``GET/POST /order``, ``POST /order/<id>``.
What the contract asks, and this store does:
- every request carries the store's key in ``C2SKey``; a missing or wrong key answers 401, and
  every response sends the key back;
- listings are pages of 20 in a stable order (creation order; ``sortorder=desc`` reverses it):
  ``paging.itemsTotal`` counts every item, ``paging.offset`` echoes the request, a page at
  ``offset`` holds the items ``offset .. offset+19``; ``id=`` answers a one-item page;
- a POST to ``/<id>`` updates only the fields it sends (variations/orderItems merge by position)
  and answers the whole stored item;
- quantities and prices are strings (``"5"``, ``"10.50"``), as the contract documents;
- errors are ``{"success": false, "code", "error", "reasons": [{"message", "code"}]}``.

State is in memory, seeded with 45 products and 25 orders (three and two pages).
Standalone on purpose: it needs Flask only, not commerce-sandbox.
"""
from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import hmac
import threading
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

PAGE_SIZE = 20
PRODUCT_DEFAULTS: dict[str, Any] = {"url": "", "brand": "", "mpn": "", "model": "", "description": "",
                                    "tags": [], "variations": []}
VARIATION_DEFAULTS: dict[str, Any] = {"availabilities": [], "prices": [], "images": [], "videos": [],
                                      "barcode": "", "size": "", "color": ""}
BUYER_DEFAULTS = {"id": "", "email": "", "phone": "", "firstName": "", "lastName": ""}
ORDER_FIELDS = ("orderid", "status", "dateCreated", "dateClosed", "total", "orderItems", "buyer")
ITEM_FIELDS = ("id", "variation_id", "quantity", "unitPrice", "currencyId")


class Problem(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_by_position(old: list[Any], new: list[Any]) -> list[Any]:
    out = []
    for i in range(max(len(old), len(new))):
        if i >= len(new):
            out.append(old[i])
        elif i < len(old) and isinstance(old[i], dict) and isinstance(new[i], dict):
            out.append({**old[i], **new[i]})
        else:
            out.append(new[i])
    return out


class Listing:
    """Items in creation order, one unique field, paged by offset."""

    def __init__(self, key: str, unique: str, first_id: int) -> None:
        self.key, self.unique = key, unique
        self.items: dict[str, dict[str, Any]] = {}  # insertion order is creation order
        self.next_id = first_id
        self.lock = threading.Lock()

    def page(self, offset: int, sortorder: str) -> dict[str, Any]:
        with self.lock:
            ordered = list(self.items.values())
        if sortorder == "desc":
            ordered.reverse()
        paging: dict[str, Any] = {"pageSize": PAGE_SIZE, "itemsTotal": len(ordered), "offset": offset}
        if offset + PAGE_SIZE < len(ordered):
            paging["next"] = encode_tag(offset + PAGE_SIZE, sortorder)
        return {"paging": paging, self.key: ordered[offset:offset + PAGE_SIZE]}

    def one(self, item_id: str) -> dict[str, Any]:
        with self.lock:
            item = self.items.get(item_id)
        if item is None:
            raise Problem(404, f"{self.key[:-1].title()} {item_id} not found", "not_found")
        return {"paging": {"pageSize": PAGE_SIZE, "itemsTotal": 1, "offset": 0}, self.key: [item]}

    def owner(self, value: str) -> str | None:
        return next((i for i, item in self.items.items() if item.get(self.unique) == value), None)

    def add(self, item: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            existing = self.owner(item[self.unique])
            if existing is not None:
                raise Problem(409, f"{self.unique} {item[self.unique]} already exists (_id {existing})", "duplicate")
            item["_id"] = str(self.next_id)
            self.next_id += 1
            self.items[item["_id"]] = item
            return item

    def change(self, item_id: str, changes: dict[str, Any], apply: Any) -> dict[str, Any]:
        with self.lock:
            old = self.items.get(item_id)
            if old is None:
                raise Problem(404, f"{self.key[:-1].title()} {item_id} not found", "not_found")
            if self.unique in changes:
                existing = self.owner(changes[self.unique])
                if existing not in (None, item_id):
                    raise Problem(409, f"{self.unique} {changes[self.unique]} already exists (_id {existing})",
                                  "duplicate")
            new = apply(copy.deepcopy(old), changes)
            self.items[item_id] = new
            return new


def encode_tag(offset: int, sortorder: str) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{sortorder}".encode()).decode().rstrip("=")


def decode_tag(tag: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(tag + "=" * (-len(tag) % 4)).decode()
        offset, sortorder = raw.split(":")
        if sortorder in ("asc", "desc") and offset.isdigit():
            return int(offset), sortorder
    except (ValueError, UnicodeDecodeError):
        pass
    raise Problem(400, "next is not a step tag this store handed out", "invalid_next")


# -- products and orders ------------------------------------------------------------------------
def new_product(data: dict[str, Any]) -> dict[str, Any]:
    product = {"_id": "", "sku": data["sku"], "title": data.get("title", "")}
    for name, default in PRODUCT_DEFAULTS.items():
        product[name] = copy.deepcopy(data.get(name, default))
    product["variations"] = [{**VARIATION_DEFAULTS, **v} for v in product["variations"]]
    product["last_updated"] = now()
    return product


def update_product(old: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for name, value in changes.items():
        if name == "variations":
            value = [{**VARIATION_DEFAULTS, **v} for v in merge_by_position(old["variations"], value)]
        if name in PRODUCT_DEFAULTS or name in ("sku", "title"):
            old[name] = value
    old["last_updated"] = now()
    return old


def order_total(items: list[dict[str, Any]]) -> dict[str, Any]:
    amount = sum(float(i["unitPrice"]) * int(i["quantity"]) for i in items)
    return {"amount": round(amount, 2), "currency": items[0]["currencyId"] if items else "USD"}


def new_order(data: dict[str, Any]) -> dict[str, Any]:
    order = {"_id": "", "orderid": data["orderid"], "status": data["status"],
             "dateCreated": data.get("dateCreated") or now(), "dateClosed": data.get("dateClosed", ""),
             "total": copy.deepcopy(data.get("total") or order_total(data["orderItems"])),
             "orderItems": copy.deepcopy(data["orderItems"]), "buyer": {**BUYER_DEFAULTS, **data.get("buyer", {})}}
    return order


def update_order(old: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for name, value in changes.items():
        if name == "orderItems":
            value = merge_by_position(old["orderItems"], value)
            for n, item in enumerate(value):
                missing = [f for f in ITEM_FIELDS if f not in item]
                if missing:
                    raise Problem(400, f"orderItems/{n} is new and lacks {', '.join(missing)}", "incomplete_item")
        elif name in ("buyer", "total"):
            value = {**old[name], **value}
        if name in ORDER_FIELDS:
            old[name] = value
    return old


def seed(products: Listing, orders: Listing) -> None:
    colors = ["red", "green", "blue", "black", "white"]
    for n in range(45):
        products.add(new_product({
            "sku": f"SKU-{n:04d}", "title": f"Example product {n}", "brand": "Example", "description": f"Item {n}",
            "tags": [{"value": colors[n % 5]}],
            "variations": [{"availabilities": [{"tag": "default", "quantity": str(n % 7 * 5)}],
                            "prices": [{"tag": "default", "currency": "USD", "number": f"{10 + n}.50"}],
                            "color": colors[n % 5]}]}))
    for n in range(25):
        items = [{"id": str(1000 + n), "variation_id": "", "quantity": str(1 + n % 3), "unitPrice": f"{10 + n}.50",
                  "currencyId": "USD"}]
        orders.add(new_order({"orderid": f"ORD-{n:05d}", "status": ["pending", "paid", "shipped"][n % 3],
                              "dateCreated": "2026-01-01T10:00:00Z", "orderItems": items,
                              "buyer": {"id": str(n), "email": f"buyer{n}@example.com", "firstName": "Ann"}}))


# -- the app ------------------------------------------------------------------------------------
def create_app(key: str = "example-key") -> Flask:
    app = Flask("click2sync_store")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    products = Listing("products", "sku", 1001)
    orders = Listing("orders", "orderid", 5001)
    seed(products, orders)

    @app.before_request
    def check_key():
        given = request.headers.get("C2SKey", "")
        if not hmac.compare_digest(given.encode(), key.encode()):
            raise Problem(401, "Missing or wrong C2SKey", "invalid_key")

    @app.after_request
    def send_key_back(response):
        response.headers["C2SKey"] = key
        return response

    @app.errorhandler(Problem)
    def problem(exc: Problem):
        body = {"success": False, "code": exc.status, "error": exc.message,
                "reasons": [{"message": exc.message, "code": exc.code}]}
        return jsonify(body), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return problem(Problem(exc.code or 500, exc.description or exc.name, exc.name.lower().replace(" ", "_")))

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise Problem(400, "the body must be a JSON object", "invalid_body")
        return data

    def listing(model: Listing):
        if request.args.get("id") is not None:
            return jsonify(model.one(request.args["id"]))
        if request.args.get("next"):
            offset, sortorder = decode_tag(request.args["next"])
        else:
            try:
                offset = int(request.args.get("offset", 0))
            except ValueError:
                raise Problem(400, "offset must be an integer", "invalid_field") from None
            sortorder = request.args.get("sortorder", "asc")
            if offset < 0 or sortorder not in ("asc", "desc"):
                raise Problem(400, "offset must be >= 0 and sortorder asc or desc", "invalid_field")
        return jsonify(model.page(offset, sortorder))

    def need(data: dict[str, Any], name: str, kind: type) -> None:
        if not isinstance(data.get(name), kind) or (kind is str and not data[name]):
            raise Problem(400, f"{name} is required ({kind.__name__})", "invalid_field")

    @app.get("/product")
    def list_products():
        return listing(products)

    @app.post("/product")
    def create_product():
        data = body()
        need(data, "sku", str)
        return jsonify(products.add(new_product(data)))

    @app.post("/product/<product_id>")
    def change_product(product_id: str):
        return jsonify(products.change(product_id, body(), update_product))

    @app.get("/order")
    def list_orders():
        return listing(orders)

    @app.post("/order")
    def create_order():
        data = body()
        need(data, "orderid", str)
        need(data, "status", str)
        need(data, "orderItems", list)
        return jsonify(orders.add(new_order(data)))

    @app.post("/order/<order_id>")
    def change_order(order_id: str):
        return jsonify(orders.change(order_id, body(), update_order))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--key", default="example-key", help="the C2SKey Click2Sync sends")
    args = parser.parse_args()
    create_app(args.key).run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
