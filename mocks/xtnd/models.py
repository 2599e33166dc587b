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
EVENTS = ("CustomerOrderStatusChanged", "AvailableBalanceChanged")
#: the guide spells the balance hook "AvaiableBalanceChanged"; subscriptions accept both
EVENT_ALIASES = {"AvaiableBalanceChanged": "AvailableBalanceChanged"}


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: str, field: str) -> str:
    """A client timestamp (ISO 8601 date or date-time; no zone means UTC) in the wire format."""
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
        else:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return iso(parsed.timestamp())
    except (ValueError, OverflowError, OSError):
        raise X.Invalid(field, f"'{value}' is not an ISO 8601 date or date-time") from None


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
class Products:
    def __init__(self, state: TenantState) -> None:
        self.state = state
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
    "organizationNumber": "", "email": "", "phone": "", "currency": "SEK", "discountPercent": 0,
    "invoiceAddress": {}, "deliveryAddress": {}, "active": True,
}


class Customers:
    def __init__(self, state: TenantState) -> None:
        self.state = state
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

    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        number = (data.get("customerNumber") or "").strip()  # kept as sent; looked up case-insensitively
        if not number:
            number = str(self.state.next_id("customer", start=20_001))
        now = iso(self.state.now())
        doc = {"customerNumber": number, "name": data["name"]}
        for key, default in CUSTOMER_DEFAULTS.items():
            doc[key] = copy.deepcopy(data.get(key, default))
        doc.update(created=now, changed=now)
        if not self.customers.add(number.upper(), doc):
            raise X.Invalid("customerNumber", f"customer {number} already exists")
        return public(doc)


class Prices:
    """Best price per item for a customer: the lowest of the standard price less the customer's
    discount, the customer's own price list, and any campaign active on the sandbox clock."""

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.price_lists = state.collection("pricelists")   # customerNumber -> {itemNumber: price}
        self.campaigns = state.collection("campaigns")      # id -> {itemNumber, price, validFrom, validTo}

    def best(self, customer_number: str, item_numbers: list[str] | None = None,
             page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> dict[str, Any]:
        customer = Customers(self.state).get(customer_number)
        wanted = _in(item_numbers)
        own = self.price_lists.lookup(customer["customerNumber"].upper()) or {}
        now = iso(self.state.now())
        campaigns: dict[str, Decimal] = {}
        for c in self.campaigns.values():
            if c["validFrom"] <= now < c["validTo"]:
                price = Decimal(str(c["price"]))
                campaigns[c["itemNumber"]] = min(price, campaigns.get(c["itemNumber"], price))
        discount = Decimal(str(customer.get("discountPercent", 0)))
        rows = []
        for product in sorted(Products(self.state).products.values(), key=lambda p: p["itemNumber"]):
            number = product["itemNumber"]
            if (wanted is not None and number not in wanted) or not product["active"]:
                continue
            standard = Decimal(str(product["standardPrice"]))
            options = [(standard, "standardPrice")]
            if discount:
                options.append((standard * (100 - discount) / 100, "discountList"))
            if number in own:
                options.append((Decimal(str(own[number])), "customerPriceList"))
            if number in campaigns:
                options.append((campaigns[number], "campaign"))
            price, source = min(options, key=lambda o: o[0])
            rows.append({"itemNumber": number, "price": money(price), "standardPrice": money(standard),
                         "priceSource": source})
        body = paged(rows, page, page_size)
        return {"customerNumber": customer["customerNumber"], "currency": customer["currency"], **body}


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
        self.emit("CustomerOrderStatusChanged", event_payload(doc, None))
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
        if to == "reserved":
            for r in doc["rows"]:
                stock.move(r["itemNumber"], doc["warehouse"], reserved=r["quantity"])
        elif to == "delivered":
            for r in doc["rows"]:
                stock.move(r["itemNumber"], doc["warehouse"], reserved=-r["quantity"], on_hand=-r["quantity"])
        elif to == "cancelled" and previous == "reserved":
            for r in doc["rows"]:
                stock.move(r["itemNumber"], doc["warehouse"], reserved=-r["quantity"])
        self.emit("CustomerOrderStatusChanged", event_payload(doc, previous))
        return doc


def hash_number(text: str) -> int:
    """A stable number from text (Python's hash() is salted per process)."""
    value = 1469598103934665603
    for ch in text.encode():
        value = ((value ^ ch) * 1099511628211) % (1 << 64)
    return value


def event_payload(doc: dict[str, Any], previous: str | None) -> dict[str, Any]:
    return {"orderNumber": doc["orderNumber"], "customerNumber": doc["customerNumber"],
            "status": doc["status"], "previousStatus": previous,
            "deliveryStatus": doc["shipment"]["deliveryStatus"],
            "trackingNumber": doc["shipment"]["trackingNumber"], "changed": doc["changed"]}


# -- webhook subscriptions ------------------------------------------------------------------------
class Webhooks:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.hooks = state.collection("webhooks")

    def list(self) -> dict[str, Any]:
        return {"items": [self.view(h) for h in self.hooks.values()]}

    def one(self, hook_id: str) -> dict[str, Any]:
        doc = self.hooks.lookup(hook_id.lower())
        if doc is None:
            raise X.ResourceNotFound("Webhook", hook_id)
        return self.view(doc)

    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        events = [EVENT_ALIASES.get(e, e) for e in (data.get("events") or list(EVENTS))]
        hook_id = f"wh-{self.state.next_id('webhook', start=1):04d}"
        now = iso(self.state.now())
        doc = {"id": hook_id, "url": data["url"], "events": sorted(set(events), key=events.index),
               "secret": data.get("secret") or secrets.token_hex(20), "active": True, "created": now}
        self.hooks.put(hook_id, doc)
        return doc  # the secret is shown once, on creation

    def delete(self, hook_id: str) -> None:
        if not self.hooks.delete(hook_id.lower()):
            raise X.ResourceNotFound("Webhook", hook_id)

    def subscribers(self, event: str) -> list[dict[str, Any]]:
        return [h for h in self.hooks.values() if h["active"] and event in h["events"]]

    @staticmethod
    def view(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k != "secret"}
