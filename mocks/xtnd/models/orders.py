"""XTND customer orders and their lifecycle: created, reserved, picked, delivered (or cancelled),
moved on by the sandbox clock or by hand, reserving and releasing stock as they go.

An order's ``_due`` is when it moves on (the tenant's sandbox clock). Whenever it is set, the
model asks for a scheduler timer (``state.due("order:<NUMBER>", at)``); the scheduler calls
:meth:`Orders.tick_one` then (through ``Xtnd.run_due``), with no client request: the order moves
and its webhook is sent as it happens.
"""
from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from mocks.core.errors import SandboxError
from mocks.core.state import TenantState
from mocks.xtnd import errors as X
from mocks.xtnd.models.availability import Availability
from mocks.xtnd.models.common import DEFAULT_PAGE_SIZE, Emit, _changed_filter, found_or_raise, iso, money, paged, public
from mocks.xtnd.models.customers import Customers
from mocks.xtnd.models.products import Products

#: the order lifecycle: each status and the one that follows it on the clock
FLOW = ["created", "reserved", "picked", "delivered"]
TERMINAL = {"delivered", "cancelled"}
CANCELLABLE = {"created", "reserved"}
#: seconds an order stays in a status before the clock moves it on (options: ``lifecycle``)
DEFAULT_LIFECYCLE = {"created": 60, "reserved": 1800, "picked": 3600}
#: the scheduler ref of an order's next move: "order:<ORDERNUMBER>"
ORDER_JOB = "order:"
#: an order short of stock tries to reserve again this often (seconds on the sandbox clock)
STOCK_RETRY_S = 5.0
#: the trigger of each order move (delivery is a change of the delivery data: tracking number, rows)
MOVE_TRIGGERS = {"reserved": "OrderReserved", "picked": "OrderPicked", "delivered": "OrderDeliveryDataChanged",
                 "cancelled": "OrderCancelled"}


class Orders:
    def __init__(self, state: TenantState, emit: Emit | None = None) -> None:
        self.state = state
        self.emit = emit or (lambda event, payload: None)
        self.orders = state.collection("orders")
        lifecycle = state.options.get("lifecycle") or {}
        if isinstance(lifecycle, (int, float)) and not isinstance(lifecycle, bool):  # one number: every step
            lifecycle = dict.fromkeys(DEFAULT_LIFECYCLE, lifecycle)
        self.lifecycle = {**DEFAULT_LIFECYCLE, **lifecycle}

    def get(self, number: str) -> dict[str, Any]:
        return found_or_raise(self.orders.lookup(number.upper()), "CustomerOrder", number)

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
        self.state.due(ORDER_JOB + key, doc["_due"])
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
        return sum(self.tick_one(key)[0] for key, _ in self.orders.items())

    def retry_waiting(self, item: str, warehouse: str) -> list[str]:
        """Stock arrived: orders in ``warehouse`` waiting to reserve ``item`` try again now."""
        now = self.state.now()

        def waiting(doc: dict[str, Any] | None) -> bool:
            return bool(doc and doc["status"] == "created" and doc.get("_due") is not None and doc["_due"] > now
                        and doc["warehouse"] == warehouse and any(r["itemNumber"] == item for r in doc["rows"]))

        retried = []
        for key, doc in self.orders.items():
            if waiting(doc):
                self.orders.update(key, lambda old: {**old, "_due": now} if waiting(old) else old)
                self.state.due(ORDER_JOB + key, now)
                retried.append(key)
        return retried

    def tick_one(self, key: str) -> tuple[int, float | None]:
        """Move one order as far as its time is up: (moves, when it is due next or None)."""
        now = self.state.now()
        doc = self.orders.lookup(key)
        moves = guard = 0
        while doc and doc.get("_due") is not None and doc["_due"] <= now and doc["status"] not in TERMINAL and guard < 4:
            guard += 1
            nxt = FLOW[FLOW.index(doc["status"]) + 1]
            moved = self._move(key, nxt, at=doc["_due"])
            if moved.get("status") != nxt:
                doc = moved
                break  # waiting for stock (due again STOCK_RETRY_S later), or moved meanwhile
            doc = moved
            moves += 1
        if not doc or doc["status"] in TERMINAL or doc.get("_due") is None:
            return moves, None
        return moves, float(doc["_due"])

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
                    doc["_due"] = None if doc.get("_held") else now + STOCK_RETRY_S  # waits for stock
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
        if result and doc is not None and doc.get("_due") is not None:
            self.state.due(ORDER_JOB + number, doc["_due"])
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
