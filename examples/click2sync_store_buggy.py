"""A Click2Sync custom storefront with realistic bugs, to see what ``verify`` reports.

    python examples/click2sync_store_buggy.py --port 5002 --key my-key
    commerce-sandbox verify click2sync --base-url http://127.0.0.1:5002 --key my-key

It looks like examples/click2sync_store.py and mostly works, but (each marked ``BUG`` below):
1. wrong itemsTotal: the order listing counts the orders left from ``offset`` on, not all of
   them, so ``itemsTotal`` shrinks from page to page;
2. missing key check: the key is checked on the product hooks only; the order hooks answer
   anyone;
3. partial update dropping fields: an update rebuilds the product from the request body, so
   every field it did not send falls back to its empty default;
4. numbers where the contract has strings: availability quantities and price numbers go out as
   JSON numbers (``5``, ``10.5``) instead of ``"5"`` and ``"10.50"``;
5. an offset off by one: the product listing treats ``offset`` as 1-based, so each page after the
   first starts one item early (the last item of a page shows up again on the next).

State is in memory: 45 products, 25 orders. Needs Flask only.
"""
from __future__ import annotations

import argparse
import datetime as dt
import threading
from typing import Any

from flask import Flask, jsonify, request

PAGE_SIZE = 20


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status: int, message: str, code: str):
    return jsonify({"success": False, "code": status, "error": message,
                    "reasons": [{"message": message, "code": code}]}), status


def product(pid: str, data: dict[str, Any]) -> dict[str, Any]:
    variations = []
    for v in data.get("variations", []):
        variations.append({
            # BUG 4: quantities and prices as numbers; the contract has integer/decimal strings
            "availabilities": [{"tag": a.get("tag", "default"), "quantity": int(a.get("quantity", 0))}
                               for a in v.get("availabilities", [])],
            "prices": [{"tag": p.get("tag", "default"), "currency": p.get("currency", "USD"),
                        "number": float(p.get("number", 0))} for p in v.get("prices", [])],
            "images": v.get("images", []), "videos": v.get("videos", []),
            "barcode": v.get("barcode", ""), "size": v.get("size", ""), "color": v.get("color", "")})
    return {"_id": pid, "sku": data.get("sku", ""), "title": data.get("title", ""), "url": data.get("url", ""),
            "brand": data.get("brand", ""), "mpn": data.get("mpn", ""), "model": data.get("model", ""),
            "description": data.get("description", ""), "tags": data.get("tags", []), "variations": variations,
            "last_updated": now()}


def create_app(key: str = "example-key") -> Flask:
    app = Flask("click2sync_store_buggy")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    lock = threading.Lock()
    products: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    for n in range(45):
        products.append(product(str(1001 + n), {
            "sku": f"SKU-{n:04d}", "title": f"Example product {n}", "brand": "Example", "tags": [{"value": "x"}],
            "variations": [{"availabilities": [{"tag": "default", "quantity": str(n % 7 * 5)}],
                            "prices": [{"tag": "default", "currency": "USD", "number": f"{10 + n}.50"}]}]}))
    for n in range(25):
        orders.append({"_id": str(5001 + n), "orderid": f"ORD-{n:05d}", "status": "paid",
                       "dateCreated": "2026-01-01T10:00:00Z", "dateClosed": "",
                       "total": {"amount": 10.5, "currency": "USD"},
                       "orderItems": [{"id": str(1000 + n), "variation_id": "", "quantity": "1",
                                       "unitPrice": "10.50", "currencyId": "USD"}],
                       "buyer": {"id": str(n), "email": "", "phone": "", "firstName": "", "lastName": ""}})

    @app.after_request
    def send_key_back(response):
        response.headers["C2SKey"] = key
        return response

    def key_ok() -> bool:
        return request.headers.get("C2SKey") == key

    def offset() -> int:
        try:
            return max(int(request.args.get("offset", 0)), 0)
        except ValueError:
            return 0

    @app.get("/product")
    def list_products():
        if not key_ok():
            return error(401, "Missing or wrong C2SKey", "invalid_key")
        items = products[::-1] if request.args.get("sortorder") == "desc" else products
        if request.args.get("id"):
            found = [p for p in products if p["_id"] == request.args["id"]]
            if not found:
                return error(404, "Product not found", "not_found")
            return jsonify({"paging": {"pageSize": PAGE_SIZE, "itemsTotal": 1, "offset": 0}, "products": found})
        start = offset() - 1 if offset() > 0 else 0  # BUG 5: offset read as 1-based
        return jsonify({"paging": {"pageSize": PAGE_SIZE, "itemsTotal": len(items), "offset": offset()},
                        "products": items[start:start + PAGE_SIZE]})

    @app.post("/product")
    def create_product():
        if not key_ok():
            return error(401, "Missing or wrong C2SKey", "invalid_key")
        data = request.get_json(silent=True) or {}
        if not isinstance(data.get("sku"), str) or not data["sku"]:
            return error(400, "sku is required", "invalid_field")
        with lock:
            if any(p["sku"] == data["sku"] for p in products):
                return error(409, "duplicate sku", "duplicate")
            created = product(str(1001 + len(products)), data)
            products.append(created)
        return jsonify(created)

    @app.post("/product/<pid>")
    def update_product(pid: str):
        if not key_ok():
            return error(401, "Missing or wrong C2SKey", "invalid_key")
        data = request.get_json(silent=True) or {}
        with lock:
            for n, old in enumerate(products):
                if old["_id"] == pid:
                    # BUG 3: rebuilt from the request alone; fields it did not send are lost
                    products[n] = product(pid, {"sku": old["sku"], **data})
                    return jsonify(products[n])
        return error(404, "Product not found", "not_found")

    @app.get("/order")
    def list_orders():
        # BUG 2: no key check on the order hooks
        if request.args.get("id"):
            found = [o for o in orders if o["_id"] == request.args["id"]]
            if not found:
                return error(404, "Order not found", "not_found")
            return jsonify({"paging": {"pageSize": PAGE_SIZE, "itemsTotal": 1, "offset": 0}, "orders": found})
        items = orders[::-1] if request.args.get("sortorder") == "desc" else orders
        start = offset()
        # BUG 1: counts what is left from offset on, not every order
        total = len(items[start:])
        return jsonify({"paging": {"pageSize": PAGE_SIZE, "itemsTotal": total, "offset": start},
                        "orders": items[start:start + PAGE_SIZE]})

    @app.post("/order")
    def create_order():
        data = request.get_json(silent=True) or {}
        if not isinstance(data.get("orderid"), str):
            return error(400, "orderid is required", "invalid_field")
        with lock:
            if any(o["orderid"] == data["orderid"] for o in orders):
                return error(409, "duplicate orderid", "duplicate")
            order = {"_id": str(5001 + len(orders)), "orderid": data["orderid"], "status": data.get("status", "pending"),
                     "dateCreated": data.get("dateCreated") or now(), "dateClosed": data.get("dateClosed", ""),
                     "total": data.get("total") or {"amount": 0, "currency": "USD"},
                     "orderItems": data.get("orderItems", []),
                     "buyer": {"id": "", "email": "", "phone": "", "firstName": "", "lastName": "",
                               **data.get("buyer", {})}}
            orders.append(order)
        return jsonify(order)

    @app.post("/order/<oid>")
    def update_order(oid: str):
        data = request.get_json(silent=True) or {}
        with lock:
            for order in orders:
                if order["_id"] == oid:
                    order.update({k: v for k, v in data.items() if k != "_id"})
                    return jsonify(order)
        return error(404, "Order not found", "not_found")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5002)
    parser.add_argument("--key", default="example-key")
    args = parser.parse_args()
    create_app(args.key).run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
