"""XTND warehouses' balances: on hand and reserved per item and warehouse; the available balance
is their difference and every change of it fires AvailableBalanceChanged."""
from __future__ import annotations

from typing import Any

from mocks.core.state import TenantState
from mocks.xtnd.models.common import DEFAULT_PAGE_SIZE, Emit, _changed_filter, _in, found_or_raise, iso, paged
from mocks.xtnd.models.products import Products

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
        found_or_raise(Products(self.state).products.lookup(item), "Product", item)
        found_or_raise(self.warehouses.lookup(warehouse), "Warehouse", warehouse)
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
