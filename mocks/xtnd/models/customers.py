"""XTND customers and their best prices (price list, discount list, campaigns) on the sandbox clock."""
from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from mocks.core.state import TenantState
from mocks.xtnd import errors as X
from mocks.xtnd.models.common import (DEFAULT_PAGE_SIZE, FOREVER, Emit, _changed_filter, _in, change_fields,
                                      found_or_raise, iso, money, paged, public, reject_unknown_fields)
from mocks.xtnd.models.products import Products

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
        return found_or_raise(self.customers.lookup(number.upper()), "Customer", number)

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
        reject_unknown_fields(data, CUSTOMER_FIELDS, "customer")
        self.get(number)
        self._check_lists(data)
        data = {k: (v.upper() if k in ("priceList", "discountList") and v else v) for k, v in data.items()}
        doc, changed = change_fields(self.customers, number.upper(), data, iso(self.state.now()), "Customer", number)
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
