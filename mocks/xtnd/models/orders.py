"""XTND Extend Commerce domain: products, warehouses and balances, customers, best prices,
customer orders and their lifecycle, webhook subscriptions.

Models take a :class:`TenantState` and an ``emit(event, payload)`` callable for webhook events;
they never touch Flask. Timestamps on the wire are ISO 8601 UTC with milliseconds
(``2024-01-01T00:00:00.000Z``); that fixed format sorts like time, so "changed since" filters
compare strings.
"""
from __future__ import annotations

import copy
import datetime as dt
import math
import secrets
from decimal import Decimal
from typing import Any, Callable

from mocks.core.errors import SandboxError
from mocks.core.state import TenantState
from mocks.xtnd import errors as X

Emit = Callable[[str, dict[str, Any]], None]

DEFAULT_PAGE_SIZE = 100
#: the order lifecycle: each status and the one that follows it on the clock
FLOW = ["created", "reserved", "picked", "delivered"]
TERMINAL = {"delivered", "cancelled"}
CANCELLABLE = {"created", "reserved"}
#: seconds an order stays in a status before the clock moves it on (options: ``lifecycle``)
DEFAULT_LIFECYCLE = {"created": 60, "reserved": 1800, "picked": 3600}
#: every webhook trigger, each fired by its real cause (see docs/xtnd.md)
TRIGGERS = ("AvailableBalanceChanged", "OrderCreated", "OrderReserved", "OrderPicked", "OrderCancelled",
            "OrderDeliveryDataChanged", "ProductChanged", "CustomerCreated", "CustomerChanged")
#: the guide spells the balance hook "AvaiableBalanceChanged"; subscriptions accept both
TRIGGER_ALIASES = {"AvaiableBalanceChanged": "AvailableBalanceChanged"}
#: the trigger of each order move (delivery is a change of the delivery data: tracking number, rows)
MOVE_TRIGGERS = {"reserved": "OrderReserved", "picked": "OrderPicked", "delivered": "OrderDeliveryDataChanged",
                 "cancelled": "OrderCancelled"}
#: open-ended validity (``validTo: null``) compares as later than any time
FOREVER = "9999-12-31T23:59:59.999Z"


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: str, field: str) -> str:
    """A client timestamp in the wire format: an ISO 8601 date (midnight UTC) or a date-time with
    a zone (``Z`` or an offset; the OpenAPI document asks for one, a zoneless one is read as UTC).
    Times beyond the first or last representable instant clamp to it (they still compare right)."""
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
        else:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise X.Invalid(field, f"'{value}' is not an ISO 8601 date or date-time") from None
    try:
        utc = parsed.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        return "0001-01-01T00:00:00.000Z" if parsed.year < 5000 else FOREVER
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
            f".{utc.microsecond // 1000:03d}Z")


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document without its internal (underscore) fields."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def paged(items: list[Any], page: int, page_size: int) -> dict[str, Any]:
    total = len(items)
    start = (page - 1) * page_size
    return {"page": page, "pageSize": page_size, "totalCount": total,
            "totalPages": max(1, math.ceil(total / page_size)), "items": items[start:start + page_size]}


def money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _changed_filter(docs: list[dict[str, Any]], since: str | None) -> list[dict[str, Any]]:
    if since is None:
        return docs
    bound = parse_time(since, "changedSince")
    return [d for d in docs if d["changed"] >= bound]


def _in(values: list[str] | None) -> set[str] | None:
    return {v.strip().upper() for v in values if v.strip()} if values else None


# -- products -------------------------------------------------------------------------------------
#: product masterdata the ERP (the control plane) may change; each change fires ProductChanged
PRODUCT_FIELDS = ("description", "extendedDescription", "productGroup", "unit", "ean", "weightKg",
                  "standardPrice", "vatPercent", "active")


class Products:
    def __init__(self, state: TenantState, emit: Emit | None = None) -> None:
        self.state = state
        self.emit = emit or (lambda event, payload: None)
        self.products = state.collection("products")

    def one(self, number: str) -> dict[str, Any]:
        doc = self.products.lookup(number.upper())
        if doc is None:
            raise X.ResourceNotFound("Product", number)
        return public(doc)

    def list(self, changed_since: str | None = None, product_group: str | None = None,
             active: bool | None = None, item_numbers: list[str] | None = None,
             page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> dict[str, Any]:
        docs = _changed_filter(self.products.values(), changed_since)
        wanted = _in(item_numbers)
        docs = [d for d in docs
                if (product_group is None or d["productGroup"].lower() == product_group.lower())
                and (active is None or d["active"] is active)
                and (wanted is None or d["itemNumber"] in wanted)]
        docs.sort(key=lambda d: (d["changed"], d["itemNumber"]))
        return paged([d["itemNumber"] for d in docs], page, page_size)

    def update(self, number: str, data: dict[str, Any]) -> dict[str, Any]:
        """Sandbox only (the ERP edits masterdata): change fields; ProductChanged if any changed."""
        unknown = sorted(set(data) - set(PRODUCT_FIELDS))
        if unknown:
            raise X.Invalid(unknown[0], "is not a product field the sandbox can change",
                            [(u, "is not a product field the sandbox can change") for u in unknown[1:]])
        self.one(number)
        now = iso(self.state.now())
        changed: list[str] = []

        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            changed.clear()
            if old is None:
                return None
            diff = {k: v for k, v in data.items() if old.get(k) != v}
            changed.extend(sorted(diff))
            return {**old, **diff, "changed": now} if diff else old

        doc = self.products.update(number.upper(), apply)
        if doc is None:
            raise X.ResourceNotFound("Product", number)
        if changed:
            self.emit("ProductChanged", {"itemNumber": doc["itemNumber"], "changedFields": changed,
                                         "changed": doc["changed"]})
        return public(doc)


# -- availability ---------------------------------------------------------------------------------
def balance_key(item: str, warehouse: str) -> str:
    return f"{item}|{warehouse}"


def balance_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"itemNumber": doc["itemNumber"], "warehouse": doc["warehouse"],
            "availableBalance": doc["onHand"] - doc["reserved"], "changed": doc["changed"]}


class Availability:
    def __init__(self, state: TenantState, emit: Emit | None = None) -> None:
        self.state = state
        self.emit = emit or (lambda event, payload: None)
        self.balances = state.collection("balances")
        self.warehouses = state.collection("warehouses")

    def list(self, changed_since: str | None = None, item_numbers: list[str] | None = None,
             warehouses: list[str] | None = None, page: int = 1,
             page_size: int = DEFAULT_PAGE_SIZE) -> dict[str, Any]:
        docs = _changed_filter(self.balances.values(), changed_since)
        items, whs = _in(item_numbers), _in(warehouses)
        docs = [d for d in docs if (items is None or d["itemNumber"] in items)
                and (whs is None or d["warehouse"] in whs)]
        docs.sort(key=lambda d: (d["changed"], d["itemNumber"], d["warehouse"]))
        return paged([balance_view(d) for d in docs], page, page_size)

    def available(self, item: str, warehouse: str) -> int:
        doc = self.balances.lookup(balance_key(item, warehouse))
        return 0 if doc is None else doc["onHand"] - doc["reserved"]

    def set(self, item: str, warehouse: str, data: dict[str, Any]) -> dict[str, Any]:
        """Sandbox only: set the warehouse's stock so that the available balance is as given."""
        item, warehouse = item.upper(), warehouse.upper()
        if Products(self.state).products.lookup(item) is None:
            raise X.ResourceNotFound("Product", item)
        if self.warehouses.lookup(warehouse) is None:
            raise X.ResourceNotFound("Warehouse", warehouse)
        target = int(data["availableBalance"])
        now = iso(self.state.now())
        before: dict[str, int] = {}

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            doc = old or {"itemNumber": item, "warehouse": warehouse, "onHand": 0, "reserved": 0, "changed": now}
            before["available"] = doc["onHand"] - doc["reserved"] if old else None  # type: ignore[assignment]
            if old is not None and doc["onHand"] - doc["reserved"] == target:
                return doc
            return {**doc, "onHand": target + doc["reserved"], "changed": now}

        doc = self.balances.update(balance_key(item, warehouse), apply)
        if before.get("available") != target:
            self.emit("AvailableBalanceChanged", balance_view(doc))
        return balance_view(doc)

    def move(self, item: str, warehouse: str, *, reserved: int = 0, on_hand: int = 0) -> None:
        """Change reserved / on-hand quantities; fires AvailableBalanceChanged if available moved."""
        now = iso(self.state.now())

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            doc = old or {"itemNumber": item, "warehouse": warehouse, "onHand": 0, "reserved": 0, "changed": now}
            return {**doc, "onHand": doc["onHand"] + on_hand, "reserved": doc["reserved"] + reserved,
                    "changed": now if on_hand != reserved else doc["changed"]}

        doc = self.balances.update(balance_key(item, warehouse), apply)
        if on_hand != reserved:
            self.emit("AvailableBalanceChanged", balance_view(doc))


# -- customers and prices -------------------------------------------------------------------------
CUSTOMER_DEFAULTS: dict[str, Any] = {
    "organizationNumber": "", "email": "", "phone": "", "currency": "SEK", "priceList": None,
    "discountList": None, "invoiceAddress": {}, "deliveryAddress": {}, "active": True,
}
#: customer masterdata the ERP (the control plane) may change; each change fires CustomerChanged
CUSTOMER_FIELDS = ("name", *CUSTOMER_DEFAULTS)


class Customers:
    def __init__(self, state: TenantState, emit: Emit | None = None) -> None:
        self.state = state
        self.emit = emit or (lambda event, payload: None)
        self.customers = state.collection("customers")

    def get(self, number: str) -> dict[str, Any]:
        doc = self.customers.lookup(number.upper())
        if doc is None:
            raise X.ResourceNotFound("Customer", number)
        return doc

    def one(self, number: str) -> dict[str, Any]:
        return public(self.get(number))

    def list(self, changed_since: str | None = None, active: bool | None = None,
             page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> dict[str, Any]:
        docs = _changed_filter(self.customers.values(), changed_since)
        docs = [d for d in docs if active is None or d["active"] is active]
        docs.sort(key=lambda d: (d["changed"], d["customerNumber"]))
        return paged([d["customerNumber"] for d in docs], page, page_size)

    def _check_lists(self, data: dict[str, Any]) -> None:
        problems = []
        if data.get("priceList") and self.state.collection("pricelists").lookup(str(data["priceList"]).upper()) is None:
            problems.append(("priceList", f"price list {data['priceList']} does not exist"))
        if data.get("discountList") and \
                self.state.collection("discountlists").lookup(str(data["discountList"]).upper()) is None:
            problems.append(("discountList", f"discount list {data['discountList']} does not exist"))
        if problems:
            raise X.Invalid(problems[0][0], problems[0][1], problems[1:])

    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        number = (data.get("customerNumber") or "").strip()  # kept as sent; looked up case-insensitively
        if not number:
            number = str(self.state.next_id("customer", start=20_001))
        self._check_lists(data)
        now = iso(self.state.now())
        doc = {"customerNumber": number, "name": data["name"]}
        for key, default in CUSTOMER_DEFAULTS.items():
            doc[key] = copy.deepcopy(data.get(key, default))
        for key in ("priceList", "discountList"):
            doc[key] = doc[key].upper() if doc[key] else None
        doc.update(created=now, changed=now)
        if not self.customers.add(number.upper(), doc):
            raise X.Invalid("customerNumber", f"customer {number} already exists")
        self.emit("CustomerCreated", {"customerNumber": number, "changed": now})
        return public(doc)

    def update(self, number: str, data: dict[str, Any]) -> dict[str, Any]:
        """Sandbox only (the ERP edits masterdata): change fields; CustomerChanged if any changed."""
        unknown = sorted(set(data) - set(CUSTOMER_FIELDS))
        if unknown:
            raise X.Invalid(unknown[0], "is not a customer field the sandbox can change",
                            [(u, "is not a customer field the sandbox can change") for u in unknown[1:]])
        self.get(number)
        self._check_lists(data)
        data = {k: (v.upper() if k in ("priceList", "discountList") and v else v) for k, v in data.items()}
        now = iso(self.state.now())
        changed: list[str] = []

        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            changed.clear()
            if old is None:
                return None
            diff = {k: copy.deepcopy(v) for k, v in data.items() if old.get(k) != v}
            changed.extend(sorted(diff))
            return {**old, **diff, "changed": now} if diff else old

        doc = self.customers.update(number.upper(), apply)
        if doc is None:
            raise X.ResourceNotFound("Customer", number)
        if changed:
            self.emit("CustomerChanged", {"customerNumber": doc["customerNumber"], "changedFields": changed,
                                          "changed": doc["changed"]})
        return public(doc)


def valid_at(doc: dict[str, Any], now: str) -> bool:
    """A list or campaign is valid from ``validFrom`` (inclusive) to ``validTo`` (exclusive; null: open)."""
    return (doc.get("validFrom") or "") <= now < (doc.get("validTo") or FOREVER)


class Prices:
    """The best price "right now" per item for a customer, among three sources (the guide's
    "one pricelist, one discountlist, one special campaign pricelist active at the same time"):

    * **price list**: the customer's own price list when it is valid now and has the item, else
      the standard price list (``STANDARD``: the product's ``standardPrice``);
    * **discount list**: the customer's discount list when valid now: a percentage per item
      number or product group (the item's own row wins over its group's), taken off the price
      list price;
    * **campaign**: every campaign valid now for this customer (``customerNumbers`` empty: all
      customers) that has the item; the lowest.

    The lowest wins; on a tie the earlier source in that order. Validity is evaluated on the
    sandbox clock, so moving the clock past a campaign's ``validTo`` changes the answer.
    """

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.price_lists = state.collection("pricelists")
        self.discount_lists = state.collection("discountlists")
        self.campaigns = state.collection("campaigns")

    def best(self, customer_number: str, item_numbers: list[str] | None = None,
             page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> dict[str, Any]:
        customer = Customers(self.state).get(customer_number)
        wanted = _in(item_numbers)
        now = iso(self.state.now())
        own = self.price_lists.lookup(customer["priceList"]) if customer.get("priceList") else None
        if own is not None and not valid_at(own, now):
            own = None
        discounts = self.discount_lists.lookup(customer["discountList"]) if customer.get("discountList") else None
        if discounts is not None and not valid_at(discounts, now):
            discounts = None
        campaigns = sorted((c for c in self.campaigns.values() if valid_at(c, now)
                            and (not c.get("customerNumbers")
                                 or customer["customerNumber"].upper() in {n.upper() for n in c["customerNumbers"]})),
                           key=lambda c: c["campaignId"])
        rows = []
        for product in sorted(Products(self.state).products.values(), key=lambda p: p["itemNumber"]):
            number = product["itemNumber"]
            if (wanted is not None and number not in wanted) or not product["active"]:
                continue
            standard = Decimal(str(product["standardPrice"]))
            if own is not None and number in own["prices"]:
                base, base_list = Decimal(str(own["prices"][number])), own
            else:
                base, base_list = standard, None
            candidates: list[dict[str, Any]] = [{
                "price": base, "priceSource": "priceList",
                "priceList": base_list["priceListId"] if base_list else "STANDARD",
                "validFrom": base_list["validFrom"] if base_list else None,
                "validTo": base_list["validTo"] if base_list else None}]
            if discounts is not None:
                percent = next((r["discountPercent"] for r in discounts["rows"] if r.get("itemNumber") == number), None)
                if percent is None:
                    percent = next((r["discountPercent"] for r in discounts["rows"]
                                    if r.get("productGroup") == product["productGroup"]), None)
                if percent:
                    candidates.append({"price": base * (100 - Decimal(str(percent))) / 100,
                                       "priceSource": "discountList", "discountList": discounts["discountListId"],
                                       "discountPercent": percent, "validFrom": discounts["validFrom"],
                                       "validTo": discounts["validTo"]})
            offers = [(Decimal(str(c["prices"][number])), c) for c in campaigns if number in c["prices"]]
            if offers:
                price, campaign = min(offers, key=lambda o: o[0])
                candidates.append({"price": price, "priceSource": "campaign", "campaign": campaign["campaignId"],
                                   "validFrom": campaign["validFrom"], "validTo": campaign["validTo"]})
            win = min(candidates, key=lambda c: c["price"])  # min keeps the first of equals
            rows.append({"itemNumber": number, "price": money(win["price"]), "currency": customer["currency"],
                         "priceSource": win["priceSource"], "priceList": candidates[0]["priceList"],
                         "priceListPrice": money(base), "standardPrice": money(standard),
                         "discountList": win.get("discountList"), "discountPercent": win.get("discountPercent"),
                         "campaign": win.get("campaign"), "validFrom": win["validFrom"], "validTo": win["validTo"]})
        body = paged(rows, page, page_size)
        return {"customerNumber": customer["customerNumber"], "currency": customer["currency"], "at": now, **body}


# -- orders ---------------------------------------------------------------------------------------
class Orders:
    def __init__(self, state: TenantState, emit: Emit | None = None) -> None:
        self.state = state
        self.emit = emit or (lambda event, payload: None)
        self.orders = state.collection("orders")
        lifecycle = state.options.get("lifecycle") or {}
        self.lifecycle = {**DEFAULT_LIFECYCLE, **lifecycle}

    def get(self, number: str) -> dict[str, Any]:
        doc = self.orders.lookup(number.upper())
        if doc is None:
            raise X.ResourceNotFound("CustomerOrder", number)
        return doc

    def one(self, number: str) -> dict[str, Any]:
        return public(self.get(number))

    def list(self, changed_since: str | None = None, status: str | None = None,
             customer_number: str | None = None, page: int = 1,
             page_size: int = DEFAULT_PAGE_SIZE) -> dict[str, Any]:
        docs = _changed_filter(self.orders.values(), changed_since)
        wanted = "delivered" if status == "shipped" else status
        docs = [d for d in docs if (wanted is None or d["status"] == wanted)
                and (customer_number is None or d["customerNumber"].upper() == customer_number.strip().upper())]
        docs.sort(key=lambda d: (d["changed"], d["orderNumber"]))
        return paged([d["orderNumber"] for d in docs], page, page_size)

    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        number = data["orderNumber"].strip()  # kept as sent; looked up case-insensitively
        key = number.upper()
        problems: list[tuple[str, str]] = []
        if not number:
            problems.append(("orderNumber", "must not be blank"))
        elif self.orders.lookup(key) is not None:
            problems.append(("orderNumber", f"customer order {number} already exists"))
        customer = Customers(self.state).customers.lookup(data["customerNumber"].strip().upper())
        if customer is None:
            problems.append(("customerNumber", f"customer {data['customerNumber']} does not exist"))
        warehouse = (data.get("warehouse") or "01").strip().upper()
        if self.state.collection("warehouses").lookup(warehouse) is None:
            problems.append(("warehouse", f"warehouse {warehouse} does not exist"))
        products = Products(self.state).products
        for i, row in enumerate(data["rows"]):
            if products.lookup(row["itemNumber"].strip().upper()) is None:
                problems.append((f"rows[{i}].itemNumber", f"product {row['itemNumber']} does not exist"))
        if problems:
            raise X.Invalid(problems[0][0], problems[0][1], problems[1:])
        now = self.state.now()
        rows = []
        total = Decimal(0)
        for i, row in enumerate(data["rows"]):
            rows.append({"rowNumber": i + 1, "itemNumber": row["itemNumber"].strip().upper(),
                         "description": row.get("description") or products.lookup(row["itemNumber"].strip().upper())["description"],
                         "quantity": row["quantity"], "price": row["price"],
                         "discountPercent": row.get("discountPercent", 0),
                         "reservedQuantity": 0, "deliveredQuantity": 0})
            total += Decimal(str(row["price"])) * row["quantity"] * (100 - Decimal(str(row.get("discountPercent", 0)))) / 100
        doc = {
            "orderNumber": number,
            "customerNumber": customer["customerNumber"],  # type: ignore[index]
            "status": "created",
            "currency": data.get("currency") or customer["currency"],  # type: ignore[index]
            "orderDate": data.get("orderDate") or iso(now)[:10],
            "warehouse": warehouse,
            "yourReference": data.get("yourReference", ""),
            "comment": data.get("comment", ""),
            "deliveryAddress": copy.deepcopy(data.get("deliveryAddress") or customer["deliveryAddress"]),  # type: ignore[index]
            "rows": rows,
            "orderTotal": money(total),
            "shipment": {"deliveryStatus": "notDelivered", "carrier": None, "trackingNumber": None,
                         "deliveredAt": None, "deliveredRows": []},
            "statusHistory": [{"status": "created", "at": iso(now)}],
            "created": iso(now),
            "changed": iso(now),
            "_due": now + self.lifecycle["created"],
        }
        if not self.orders.add(key, doc):
            raise X.Invalid("orderNumber", f"customer order {number} already exists")
        self.emit("OrderCreated", event_payload(doc, None))
        return public(doc)

    # -- lifecycle ---------------------------------------------------------------------------
    def advance(self, number: str, target: str | None = None) -> dict[str, Any]:
        """Sandbox only: move an order one step on (or on to ``target``, or to ``cancelled``)."""
        doc = self.get(number)
        status = doc["status"]
        if status in TERMINAL:
            raise X.Invalid("status", f"order {doc['orderNumber']} is {status}; it cannot move any more")
        if target == "cancelled":
            if status not in CANCELLABLE:
                raise X.Invalid("status", f"an order that is {status} cannot be cancelled")
            return public(self._move(doc["orderNumber"].upper(), "cancelled", frm=status))
        if target is not None and (target not in FLOW or FLOW.index(target) <= FLOW.index(status)):
            raise X.Invalid("status", f"an order that is {status} cannot move to {target}")
        goal = target or FLOW[FLOW.index(status) + 1]
        while doc["status"] != goal:
            nxt = FLOW[FLOW.index(doc["status"]) + 1]
            moved = self._move(doc["orderNumber"].upper(), nxt)
            if moved.get("status") != nxt:
                stock = Availability(self.state)
                short = next((i for i, r in enumerate(moved.get("rows", []))
                              if stock.available(r["itemNumber"], moved["warehouse"]) < r["quantity"]), None)
                if short is None or moved.get("status") != doc["status"]:
                    raise X.Invalid("status", f"the order moved meanwhile; it is {moved.get('status')} now")
                raise X.Invalid(f"rows[{short}].quantity",
                                "the available balance in the warehouse is too low to reserve this row")
            doc = moved
        return public(doc)

    def advance_open(self, target: str | None = None, include_held: bool = False) -> list[str]:
        """Scenario ``api_action: advance_orders``: move every open order one step on (or on to
        ``target``); seeded (held) orders only with ``include_held``. Orders that cannot move
        (short of stock, or ``target`` not ahead of them) stay where they are. Returns the moved."""
        moved = []
        for key, doc in sorted(self.orders.items(), key=lambda kv: kv[1]["created"]):
            if doc["status"] in TERMINAL or (doc.get("_held") and not include_held):
                continue
            if target == "cancelled" and doc["status"] not in CANCELLABLE:
                continue
            if target not in (None, "cancelled") and FLOW.index(target) <= FLOW.index(doc["status"]):
                continue
            try:
                self.advance(key, target)
            except SandboxError:
                continue
            moved.append(doc["orderNumber"])
        return moved

    def change_delivery(self, number: str, data: dict[str, Any]) -> dict[str, Any]:
        """Sandbox only (the warehouse corrects the shipment): change ``carrier``,
        ``trackingNumber`` or the order's ``deliveryAddress``; OrderDeliveryDataChanged if any changed."""
        doc = self.get(number)
        if doc["status"] == "cancelled":
            raise X.Invalid("status", f"order {doc['orderNumber']} is cancelled; it has no delivery data to change")
        now = self.state.now()
        changed: list[str] = []

        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            changed.clear()
            if old is None or old["status"] == "cancelled":
                return old
            new = copy.deepcopy(old)
            for key in ("carrier", "trackingNumber"):
                if key in data and new["shipment"][key] != data[key]:
                    new["shipment"][key] = data[key]
                    changed.append(key)
            if "deliveryAddress" in data and new["deliveryAddress"] != data["deliveryAddress"]:
                new["deliveryAddress"] = copy.deepcopy(data["deliveryAddress"])
                changed.append("deliveryAddress")
            if not changed:
                return old
            new["changed"] = iso(now)
            return new

        doc = self.orders.update(doc["orderNumber"].upper(), apply)
        if changed and doc is not None:
            self.emit("OrderDeliveryDataChanged", {**event_payload(doc, doc["status"]), "changedFields": changed})
        return public(doc or {})

    def tick(self) -> int:
        """Move every order whose time in its status is up (the sandbox clock); returns moves."""
        now = self.state.now()
        moves = 0
        for key, doc in self.orders.items():
            guard = 0
            while doc.get("_due") is not None and doc["_due"] <= now and doc["status"] not in TERMINAL and guard < 4:
                guard += 1
                nxt = FLOW[FLOW.index(doc["status"]) + 1]
                moved = self._move(key, nxt, at=doc["_due"])
                if moved.get("status") != nxt:
                    break  # waiting for stock; tried again on the next tick
                doc = moved
                moves += 1
        return moves

    def _move(self, number: str, to: str, at: float | None = None, frm: str | None = None) -> dict[str, Any]:
        now = self.state.now()
        stamp = min(at, now) if at is not None else now
        stock = Availability(self.state, self.emit)
        result: dict[str, Any] = {}

        expected = frm or FLOW[FLOW.index(to) - 1]

        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            result.clear()
            if old is None or old["status"] != expected:  # moved meanwhile (another worker's tick)
                return old
            doc = copy.deepcopy(old)
            if to == "reserved":
                if any(stock.available(r["itemNumber"], doc["warehouse"]) < r["quantity"] for r in doc["rows"]):
                    doc["_due"] = None if doc.get("_held") else now  # waits for stock
                    result.update(doc)
                    return doc
                for r in doc["rows"]:
                    r["reservedQuantity"] = r["quantity"]
            elif to == "delivered":
                for r in doc["rows"]:
                    r["deliveredQuantity"], r["reservedQuantity"] = r["quantity"], 0
                doc["shipment"] = {
                    "deliveryStatus": "delivered", "carrier": "PostNord",
                    "trackingNumber": "00" + str(abs(hash_number(doc["orderNumber"])))[:16].rjust(16, "7"),
                    "deliveredAt": iso(stamp),
                    "deliveredRows": [{"rowNumber": r["rowNumber"], "itemNumber": r["itemNumber"],
                                       "quantity": r["quantity"]} for r in doc["rows"]],
                }
            elif to == "cancelled":
                for r in doc["rows"]:
                    r["reservedQuantity"] = 0
                doc["shipment"] = {**doc["shipment"], "deliveryStatus": "cancelled"}
            elif to == "picked":
                doc["shipment"] = {**doc["shipment"], "deliveryStatus": "picked"}
            doc["_previous"] = old["status"]
            doc["status"] = to
            doc["statusHistory"] = [*doc["statusHistory"], {"status": to, "at": iso(stamp)}]
            doc["changed"] = iso(stamp)
            doc["_due"] = None if to in TERMINAL or doc.get("_held") else stamp + self.lifecycle[to]
            result.update(doc)
            return doc

        doc = self.orders.update(number, apply)
        if not result or doc is None or doc["status"] != to:
            return doc or {}
        previous = doc["_previous"]
        # the order's own event first, then the balance changes it caused
        self.emit(MOVE_TRIGGERS[to], event_payload(doc, previous))
        if to == "reserved":
            for r in doc["rows"]:
                stock.move(r["itemNumber"], doc["warehouse"], reserved=r["quantity"])
        elif to == "delivered":
            for r in doc["rows"]:
                stock.move(r["itemNumber"], doc["warehouse"], reserved=-r["quantity"], on_hand=-r["quantity"])
        elif to == "cancelled" and previous == "reserved":
            for r in doc["rows"]:
                stock.move(r["itemNumber"], doc["warehouse"], reserved=-r["quantity"])
        return doc


def hash_number(text: str) -> int:
    """A stable number from text (Python's hash() is salted per process)."""
    value = 1469598103934665603
    for ch in text.encode():
        value = ((value ^ ch) * 1099511628211) % (1 << 64)
    return value


def event_payload(doc: dict[str, Any], previous: str | None) -> dict[str, Any]:
    return {"orderNumber": doc["orderNumber"], "customerNumber": doc["customerNumber"],
            "warehouse": doc["warehouse"], "status": doc["status"], "previousStatus": previous,
            "deliveryStatus": doc["shipment"]["deliveryStatus"],
            "trackingNumber": doc["shipment"]["trackingNumber"], "changed": doc["changed"]}


# -- webhook subscriptions ------------------------------------------------------------------------
class Webhooks:
    """Subscriptions: ``name``, ``callbackUrl``, ``secret`` (HMAC key, generated when left out and
    shown only when set), ``triggers``, optional ``warehouse`` filter, ``active``."""

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.hooks = state.collection("webhooks")

    def list(self, changed_since: str | None = None, trigger: str | None = None,
             page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> dict[str, Any]:
        docs = _changed_filter(self.hooks.values(), changed_since)
        if trigger is not None:
            wanted = TRIGGER_ALIASES.get(trigger, trigger)
            docs = [d for d in docs if wanted in d["triggers"]]
        docs.sort(key=lambda d: (d["changed"], d["id"]))
        return paged([self.view(d) for d in docs], page, page_size)

    def get(self, hook_id: str) -> dict[str, Any]:
        doc = self.hooks.lookup(hook_id.lower())
        if doc is None:
            raise X.ResourceNotFound("Webhook", hook_id)
        return doc

    def one(self, hook_id: str) -> dict[str, Any]:
        return self.view(self.get(hook_id))

    def _fields(self, data: dict[str, Any]) -> dict[str, Any]:
        triggers = [TRIGGER_ALIASES.get(t, t) for t in data["triggers"]]
        triggers = sorted(set(triggers), key=triggers.index)
        warehouse = data.get("warehouse")
        if warehouse is not None:
            warehouse = warehouse.strip().upper()
            if self.state.collection("warehouses").lookup(warehouse) is None:
                raise X.Invalid("warehouse", f"warehouse {data['warehouse']} does not exist")
        name = data["name"].strip()
        if not name:
            raise X.Invalid("name", "must not be blank")
        return {"name": name, "callbackUrl": data["callbackUrl"], "triggers": triggers, "warehouse": warehouse,
                "active": data.get("active", True)}

    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        fields = self._fields(data)
        hook_id = f"wh-{self.state.next_id('webhook', start=1):04d}"
        now = iso(self.state.now())
        doc = {"id": hook_id, **fields, "secret": data.get("secret") or secrets.token_hex(20),
               "created": now, "changed": now}
        self.hooks.put(hook_id, doc)
        return doc  # the secret is shown here, and never again

    def replace(self, hook_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """PUT: the whole subscription again; the secret is kept when left out (and shown when set)."""
        self.get(hook_id)
        fields = self._fields(data)
        now = iso(self.state.now())

        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            if old is None:
                return None
            return {**old, **fields, "secret": data.get("secret") or old["secret"], "changed": now}

        doc = self.hooks.update(hook_id.lower(), apply)
        if doc is None:
            raise X.ResourceNotFound("Webhook", hook_id)
        return doc if data.get("secret") else self.view(doc)

    def delete(self, hook_id: str) -> None:
        if not self.hooks.delete(hook_id.lower()):
            raise X.ResourceNotFound("Webhook", hook_id)

    def subscribers(self, trigger: str, warehouse: str | None = None) -> list[dict[str, Any]]:
        """Active subscriptions to ``trigger``; a warehouse filter passes only that warehouse's
        events (events without a warehouse, masterdata ones, pass every filter)."""
        hooks = [h for h in self.hooks.values() if h["active"] and trigger in h["triggers"]
                 and (h.get("warehouse") is None or warehouse is None or h["warehouse"] == warehouse)]
        return sorted(hooks, key=lambda h: h["id"])

    @staticmethod
    def view(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k != "secret"}
