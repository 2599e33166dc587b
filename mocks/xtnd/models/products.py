"""XTND products (masterdata; the sandbox's ERP side may change it, firing ProductChanged)."""
from __future__ import annotations

from typing import Any

from mocks.core.state import TenantState
from mocks.xtnd.models.common import (DEFAULT_PAGE_SIZE, Emit, _changed_filter, _in, change_fields, found_or_raise,
                                      iso, paged, public, reject_unknown_fields)

#: product masterdata the ERP (the control plane) may change; each change fires ProductChanged
PRODUCT_FIELDS = ("description", "extendedDescription", "productGroup", "unit", "ean", "weightKg",
                  "standardPrice", "vatPercent", "active")


class Products:
    def __init__(self, state: TenantState, emit: Emit | None = None) -> None:
        self.state = state
        self.emit = emit or (lambda event, payload: None)
        self.products = state.collection("products")

    def one(self, number: str) -> dict[str, Any]:
        return public(found_or_raise(self.products.lookup(number.upper()), "Product", number))

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
        reject_unknown_fields(data, PRODUCT_FIELDS, "product")
        self.one(number)
        doc, changed = change_fields(self.products, number.upper(), data, iso(self.state.now()), "Product", number)
        if changed:
            self.emit("ProductChanged", {"itemNumber": doc["itemNumber"], "changedFields": changed,
                                         "changed": doc["changed"]})
        return public(doc)
