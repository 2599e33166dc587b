"""API2Cart orders and their shipments (list, info, count, add, update, find; shipment add/list),
the order builders the seed shares and the address/country shapes."""
from __future__ import annotations

import copy
import re
from typing import Any

from mocks.api2cart import errors as X
from mocks.api2cart.models.base import StoreBase, listing, shape_fields
from mocks.api2cart.models.paging import date_filters, id_key, sort_items, window
from mocks.api2cart.models.params import Params, a2c_date, entries, parse_date, public, select
from mocks.api2cart.models.platforms import CURRENCY

ORDER_DEFAULT = "order_id,customer,totals,address,items,bundles,status"
SHIPMENT_DEFAULT = "id,order_id,items,tracking_numbers"
#: the order ``params`` groups of the vendor's default (address -> both addresses, items -> order_products)
ORDER_GROUPS = {"address": ("shipping_address", "billing_address"), "items": ("order_products",)}
ORDER_STATUSES = {"pending": "Pending", "processing": "Processing", "shipped": "Shipped", "complete": "Complete",
                  "canceled": "Canceled", "refunded": "Refunded", "on_hold": "On Hold"}

#: names the vendor's examples and the carts use for the sandbox's statuses (one status set for every
#: platform: docs/api2cart.md); matched without case, spaces, dashes or a "wc-" prefix
STATUS_SYNONYMS = {"completed": "complete", "cancelled": "canceled", "onhold": "on_hold", "hold": "on_hold",
                   "fulfilled": "complete", "closed": "complete", "new": "pending", "pendingpayment": "pending",
                   "inprogress": "processing", "refund": "refunded"}


def resolve_status(value: str | None) -> str | None:
    """The sandbox status id for an order status as a client sends it: the id itself, its name
    ("Complete"), or the vendor's example and the carts' names ("Completed", "wc-completed",
    "Cancelled", "On hold"); None when it is none of them."""
    if value is None:
        return None
    if value in ORDER_STATUSES:
        return value
    key = value.strip().lower()
    if key.startswith("wc-"):
        key = key[3:]
    key = key.replace(" ", "").replace("-", "").replace("_", "")
    for sid, name in ORDER_STATUSES.items():
        if key in (sid.replace("_", ""), name.lower().replace(" ", "")):
            return sid
    return STATUS_SYNONYMS.get(key)


#: the order item fields of order.add's flat form (FAQ: order_item_name_1, order_item_price_1, ...)
FLAT_ITEM = re.compile(r"(order_item_[a-z_]+?)_(\d+)")


def flat_order_items(data: dict[str, Any]) -> list[dict[str, Any]] | None:
    """``order_item_<field>_<n>`` keys as the ``order_item`` array (ordered by n), None if there are none."""
    rows: dict[int, dict[str, Any]] = {}
    for key, value in data.items():
        m = FLAT_ITEM.fullmatch(key)
        if m:
            rows.setdefault(int(m.group(2)), {})[m.group(1)] = value
    return [rows[n] for n in sorted(rows)] or None


def order_select(order: dict[str, Any], params: str | None, exclude: str | None) -> dict[str, Any]:
    wanted = [x.strip() for x in (params or ORDER_DEFAULT).split(",") if x.strip()]
    if "force_all" in wanted:
        return select(order, "force_all", exclude, ORDER_DEFAULT)
    fields: list[str] = ["id", "additional_fields"]  # additional_fields (return_status) always answers
    for w in wanted:
        fields.extend(ORDER_GROUPS.get(w, (w,)))
    if "totals" in wanted:
        fields.append("total")
    return select(order, ",".join(fields), None, ORDER_DEFAULT)


def ORDER_SHAPE(order: dict[str, Any], p: Params) -> dict[str, Any]:  # noqa: N802 (a shape, as the others)
    """Orders' shape: ``order_select`` (orders answer their own defaults and nested fields)."""
    return order_select(public(order), p.str("params"), p.str("exclude"))


class Orders(StoreBase):
    """Orders and shipments of one store."""

    # -- orders --------------------------------------------------------------------------------
    def _order_filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.orders.values()
        ids = p.ids("order_ids") or p.ids("ids")
        if ids is not None:
            items = [i for i in items if i["id"] in ids or i["order_id"] in ids]
        if "since_id" in p:
            since = p.int("since_id", 0) or 0
            items = [i for i in items if id_key(i)[0] > since]
        if "customer_id" in p:
            items = [i for i in items if i["customer"]["id"] == p.str("customer_id")]
        if "customer_email" in p:
            items = [i for i in items if i["customer"]["email"].lower() == (p.str("customer_email") or "").lower()]
        if "order_status" in p:
            wanted_status = resolve_status(p.str("order_status")) or p.str("order_status")
            items = [i for i in items if i["status"]["id"] == wanted_status]
        statuses = p.get("order_status_ids")
        if statuses:
            wanted = statuses if isinstance(statuses, list) else str(statuses).split(",")
            items = [i for i in items if i["status"]["id"] in wanted]
        if "financial_status" in p:
            items = [i for i in items if i.get("_financial_status") == p.str("financial_status")]
        financial = p.get("financial_status_ids")
        if financial:
            wanted_fin = financial if isinstance(financial, list) else str(financial).split(",")
            items = [i for i in items if i.get("_financial_status") in wanted_fin]
        if "fulfillment_status" in p:
            items = [i for i in items if i.get("_fulfillment_status") == p.str("fulfillment_status")]
        if "return_status" in p:  # FAQ: order.list filters by additional_fields.return_status
            wanted = set((p.str("return_status") or "").split(","))
            items = [i for i in items if (i.get("additional_fields") or {}).get("return_status", "no_return") in wanted]
        return date_filters(items, p, "created", "modified")

    def order_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        return listing(p, lambda: sort_items(self._order_filter(p), p, "order_id", {
            "order_id": lambda i: id_key(i, "order_id"), "id": id_key,
            "create_at": lambda i: i["_ts"]["created"], "modified_at": lambda i: i["_ts"]["modified"]}),
            ORDER_SHAPE, "orders_count", "order")

    def order_info(self, p: Params) -> dict[str, Any]:
        oid = p.str("id") or p.str("order_id")
        if oid is None:
            raise X.required("order_id")
        order = self.orders.lookup(oid)
        if order is None:
            order = next((o for o in self.orders.values() if o["order_id"] == oid), None)
        if order is None:
            raise X.not_found("Order", oid)
        return ORDER_SHAPE(order, p)

    def order_count(self, p: Params) -> dict[str, Any]:
        return {"orders_count": len(self._order_filter(p))}

    def order_add(self, p: Params) -> dict[str, Any]:
        status = resolve_status(p.need("order_status")) or p.need("order_status")
        if status not in ORDER_STATUSES:
            raise X.not_allowed("order_status", ORDER_STATUSES)
        email = p.need("customer_email")
        for name in ("bill_first_name", "bill_last_name", "bill_address_1", "bill_city", "bill_postcode",
                     "bill_state", "bill_country"):
            p.need(name)
        raw_items = p.get("order_item") if "order_item" in p else flat_order_items(p.data)
        items = []
        for n, ip in enumerate(entries(raw_items, "order_item"), start=1):
            name = ip.need("order_item_name")
            model = ip.str("order_item_model")  # optional in the official OrderAdd
            price = ip.num("order_item_price")
            qty = ip.int("order_item_quantity")
            if price is None:
                raise X.required("order_item_price")
            if not qty:
                raise X.required("order_item_quantity")
            product_id = ip.str("order_item_id")
            ordered = self.products.lookup(product_id) if product_id is not None else None
            if product_id is not None and ordered is None:
                raise X.not_found("Product", product_id)
            if model is None:  # without one, the ordered product's own model (as the cart records the line)
                model = str((ordered or {}).get("u_model") or "")
            tax = ip.num("order_item_tax", 0.0) or 0.0
            items.append(order_item(str(n), product_id, name, model, price, qty, tax,
                                    ip.num("order_item_weight"), ip.str("order_item_variant_id")))
        order_id = p.str("order_id")
        if order_id is not None and any(o["order_id"] == order_id for o in self.orders.values()):
            raise X.exists(f"Order with order_id '{order_id}' already exists")
        customer = self.customer_by_email(email)
        now = self.state.now()
        if "date" in p:
            now = parse_date("date", p.str("date") or "")
        oid = str(self.state.next_id("order", start=1))
        order = new_order(oid, order_id or oid, now, status, items,
                          customer={"id": customer["id"] if customer else "", "email": email,
                                    "first_name": p.str("customer_first_name") or (customer or {}).get("first_name") or p.str("bill_first_name"),
                                    "last_name": p.str("customer_last_name") or (customer or {}).get("last_name") or p.str("bill_last_name"),
                                    "phone": p.str("customer_phone")},
                          billing=_address(p, "bill", "billing"), shipping=_address(p, "shipp", "shipping") if "shipp_address_1" in p else None,
                          shipping_price=p.num("shipping_price", 0.0) or 0.0, discount=p.num("discount", 0.0) or 0.0,
                          currency=p.str("currency", "USD") or "USD", payment=p.str("order_payment_method"),
                          shipping_method=p.str("order_shipping_method"), comment=p.str("comment"))
        if p.num("total_price") is not None:
            order["totals"]["total"] = order["total"]["total"] = p.num("total_price")
        order["_financial_status"] = p.str("financial_status", "pending")
        order["_fulfillment_status"] = p.str("fulfillment_status", "unfulfilled")
        self.orders.put(oid, order)
        self.emit("order", "add", public(order))
        return {"order_id": oid, "id": oid, "customer_id": customer["id"] if customer else None}

    def order_update(self, p: Params) -> dict[str, Any]:
        oid = p.need("order_id")
        status = resolve_status(p.str("order_status")) or p.str("order_status")
        if status is not None and status not in ORDER_STATUSES:
            raise X.not_allowed("order_status", ORDER_STATUSES)
        now = self.state.now()
        if "date_modified" in p:
            parse_date("date_modified", p.str("date_modified") or "")
        changed: list[str] = []

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None:
                raise X.not_found("Order", oid)
            new = copy.deepcopy(old)
            changed.clear()
            if status is not None and status != new["status"]["id"]:
                new["status"]["id"], new["status"]["name"] = status, ORDER_STATUSES[status]
                new["status"]["history"].append({"id": status, "name": ORDER_STATUSES[status], "modified_time": a2c_date(now),
                                                 "notify": bool(p.bool("send_notifications", False)),
                                                 "comment": p.str("comment") or ""})
                if status in ("complete", "canceled", "refunded") and new.get("finished_time") is None:
                    new["finished_time"] = a2c_date(now)
                changed.append("status")
            if "comment" in p:
                new["comment"] = p.str("comment")
                changed.append("comment")
            if "order_payment_method" in p:
                new["payment_method"] = {"name": p.str("order_payment_method")}
                changed.append("payment_method")
            for name in ("financial_status", "fulfillment_status"):
                if name in p:
                    new["_" + name] = p.str(name)
                    changed.append(name)
            for name in ("admin_comment", "admin_private_comment", "tags", "cancellation_reason"):
                if name in p:
                    new.setdefault("additional_fields", {})[name] = p.str(name)
                    changed.append(name)
            if not changed:
                return old
            new["modified_at"] = a2c_date(now)
            new["_ts"]["modified"] = now
            return new

        order = self.orders.update(oid, apply)
        assert order is not None
        if changed:
            self.emit("order", "update", public(order))
            if "status" in changed:
                self.emit("order", "status.update", public(order))
        return {"updated_items": 1 if changed else 0}

    def order_find(self, p: Params) -> dict[str, Any]:
        start, count = window(p)
        items = sorted(self._order_filter(p), key=lambda i: id_key(i, "order_id"))
        return {"order": [order_select(public(i), p.str("params"), p.str("exclude")) for i in items[start:start + count]]}


    # -- shipments -----------------------------------------------------------------------------
    def shipment_add(self, p: Params) -> dict[str, Any]:
        oid = p.need("order_id")
        order = self._order(oid)
        by_id = {i["order_product_id"]: i for i in order["order_products"]}
        shipped = self._shipped(oid)
        raw = p.get("items")
        if raw is not None and not isinstance(raw, list):
            raise X.invalid("items", "array")
        if not raw:  # no items: ship everything not shipped yet
            raw = [{"order_product_id": k, "quantity": float(v.get("quantity") or 0) - shipped.get(k, 0)}
                   for k, v in by_id.items() if float(v.get("quantity") or 0) - shipped.get(k, 0) > 0]
            if not raw:
                raise X.A2CError(109, f"Order '{oid}' has no items left to ship.")
        items = []
        for ep, opid, line in self._order_lines(raw, order, "items"):
            qty = ep.num("quantity", float(line.get("quantity") or 0) - shipped.get(opid, 0))
            left = float(line.get("quantity") or 0) - shipped.get(opid, 0)
            if qty is None or qty <= 0 or qty > left:
                raise X.A2CError(109, f"Parameter 'quantity' is not valid. {left:g} unit(s) of order product '{opid}' "
                                      "are left to ship.")
            items.append({"order_product_id": opid, "product_id": line.get("product_id"), "variant_id": line.get("variant_id"),
                          "model": line.get("model"), "name": line.get("name"), "price": line.get("price"), "quantity": qty})
        tracking = []
        raw_tracking = p.get("tracking_numbers")
        if raw_tracking is not None and not isinstance(raw_tracking, list):
            raise X.invalid("tracking_numbers", "array")
        for entry in raw_tracking or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("tracking_number"), str) or not entry["tracking_number"]:
                raise X.invalid("tracking_numbers", "array of {carrier_id, tracking_number}")
            tracking.append({"carrier_id": str(entry.get("carrier_id") or p.str("shipment_provider") or ""),
                             "tracking_number": entry["tracking_number"]})
        sid = str(self.state.next_id("shipment", start=1))
        now = self.state.now()
        shipment = {"id": sid, "order_id": oid, "name": p.str("shipping_method"), "warehouse_id": p.str("warehouse_id"),
                    "shipment_provider": p.str("shipment_provider"), "tracking_numbers": tracking,
                    "created_at": a2c_date(now), "modified_time": a2c_date(now), "items": items,
                    "is_shipped": bool(p.bool("is_shipped", True)), "delivered_at": None,
                    "additional_fields": {"tracking_link": p.str("tracking_link")}, "_ts": {"created": now, "modified": now}}
        self.shipments.put(sid, shipment)
        for item in items:
            shipped[item["order_product_id"]] = shipped.get(item["order_product_id"], 0) + item["quantity"]
        complete = all(shipped.get(k, 0) >= float(v.get("quantity") or 0) for k, v in by_id.items())

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            assert old is not None
            new = copy.deepcopy(old)
            new["_fulfillment_status"] = "fulfilled" if complete else "partially_fulfilled"
            if complete and new["status"]["id"] in ("pending", "processing", "on_hold"):
                new["status"]["id"], new["status"]["name"] = "shipped", ORDER_STATUSES["shipped"]
                new["status"]["history"].append({"id": "shipped", "name": ORDER_STATUSES["shipped"],
                                                 "modified_time": a2c_date(now),
                                                 "notify": bool(p.bool("send_notifications", False)), "comment": ""})
            new["modified_at"] = a2c_date(now)
            new["_ts"]["modified"] = now
            return new

        updated = self.orders.update(oid, apply)
        if updated is not None:
            self.emit("order", "update", public(updated))
        return {"shipment_id": sid}

    def shipment_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        def shipments() -> list[dict[str, Any]]:
            oid = p.need("order_id")
            self._order(oid)
            return sorted(date_filters([s for s in self.shipments.values() if s["order_id"] == oid], p, "created",
                                       "modified"), key=id_key)
        return listing(p, shipments, shape_fields(SHIPMENT_DEFAULT), "shipment_count", "shipment")


def _address(p: Params, prefix: str, kind: str) -> dict[str, Any]:
    country = p.str(f"{prefix}_country", "US") or "US"
    return {"id": "", "type": kind, "first_name": p.str(f"{prefix}_first_name"), "last_name": p.str(f"{prefix}_last_name"),
            "postcode": p.str(f"{prefix}_postcode", "") or "", "address1": p.str(f"{prefix}_address_1", "") or "",
            "address2": p.str(f"{prefix}_address_2"), "phone": p.str(f"{prefix}_phone"), "phone_mobile": None,
            "city": p.str(f"{prefix}_city", "") or "", "country": country_obj(country),
            "state": {"code": p.str(f"{prefix}_state", "") or "", "name": p.str(f"{prefix}_state", "") or ""},
            "company": p.str(f"{prefix}_company"), "fax": p.str(f"{prefix}_fax"), "website": None, "gender": None,
            "region": None, "default": False, "tax_id": None, "identification_number": None, "alias": None}


COUNTRIES = {"US": ("USA", "United States"), "NL": ("NLD", "Netherlands"), "GB": ("GBR", "United Kingdom"),
             "DE": ("DEU", "Germany"), "CA": ("CAN", "Canada"), "ZA": ("ZAF", "South Africa")}


def country_obj(code: str) -> dict[str, str]:
    code2 = code.upper()[:2]
    code3, name = COUNTRIES.get(code2, (code.upper(), code))
    return {"code2": code2, "code3": code3, "name": name}


def order_item(opid: str, product_id: str | None, name: str, model: str, price: float, qty: int, tax_pct: float,
               weight: float | None = None, variant_id: str | None = None) -> dict[str, Any]:
    total = round(price * qty, 2)
    tax = round(total * tax_pct / 100, 2)
    return {"product_id": product_id, "order_product_id": opid, "model": model, "name": name, "price": price,
            "price_inc_tax": round(price * (1 + tax_pct / 100), 2), "quantity": float(qty), "discount_amount": 0.0,
            "total_price": total, "tax_percent": tax_pct, "tax_value": tax, "tax_value_after_discount": tax,
            "options": [], "variant_id": variant_id, "weight_unit": "lb", "weight": weight,
            "barcode": None, "parent_order_product_id": None}


def new_order(oid: str, order_id: str, now: float, status: str, items: list[dict[str, Any]], *, customer: dict[str, Any],
              billing: dict[str, Any], shipping: dict[str, Any] | None, shipping_price: float = 0.0,
              discount: float = 0.0, currency: str = "USD", payment: str | None = None,
              shipping_method: str | None = None, comment: str | None = None) -> dict[str, Any]:
    subtotal = round(sum(i["total_price"] for i in items), 2)
    tax = round(sum(i["tax_value"] for i in items), 2)
    total = round(subtotal + tax + shipping_price - discount, 2)
    ship = dict(shipping or billing, type="shipping")
    return {
        "id": oid, "order_id": order_id, "basket_id": None, "channel_id": None, "customer": customer,
        "create_at": a2c_date(now),
        "currency": {**CURRENCY, "id": currency, "iso3": currency, "name": currency,
                     "symbol_left": "$" if currency == "USD" else ""},
        "shipping_address": ship, "billing_address": billing,
        "payment_method": {"name": payment or "Credit Card"},
        "shipping_method": {"name": shipping_method or "Flat Rate"}, "shipping_methods": [],
        "status": {"id": status, "name": ORDER_STATUSES[status],
                   "history": [{"id": status, "name": ORDER_STATUSES[status], "modified_time": a2c_date(now),
                                "notify": False, "comment": ""}]},
        "totals": {"total": total, "subtotal": subtotal, "shipping": shipping_price, "tax": tax, "discount": discount},
        "total": {"subtotal_ex_tax": subtotal, "wrapping_ex_tax": None, "shipping_ex_tax": shipping_price,
                  "total_discount": discount, "total_tax": tax, "total": total, "total_paid": total},
        "discounts": [], "order_products": items, "bundles": [], "modified_at": a2c_date(now),
        "finished_time": a2c_date(now) if status in ("complete", "canceled", "refunded") else None,
        "comment": comment, "store_id": "1", "warehouses_ids": [], "refunds": [], "gift_message": None,
        "order_details_url": None, "additional_fields": {"return_status": "no_return"},
        "_ts": {"created": now, "modified": now},
    }
