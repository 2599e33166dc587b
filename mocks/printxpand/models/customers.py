"""PrintXpand customers (bulk create/update)."""
from __future__ import annotations

from typing import Any

from mocks.core.state import TenantState
from mocks.printxpand.models.batch import ItemError, Json, save_batch
from mocks.printxpand.models.fields import required_item_id, scalar, text
from mocks.printxpand.models.messages import (CUSTOMER_BAD_FIELD, CUSTOMER_BAD_ID, CUSTOMER_CREATED,
                                              CUSTOMER_EMAIL_TAKEN, CUSTOMER_UPDATED)


class Customers:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.customers = state.collection("customers")

    def email_owner(self, email: str) -> str | None:
        """The storefront account (one not created through this API) that holds ``email``.

        Magento's message names "an associated website": the clash is with an account shoppers
        registered on a website. Customers this API created are the integration's own, keyed by
        its ids, and do not block another of its ids (the document creates 1001 with the address
        it gave 123456 just before: docs/printxpand.md, Fidelity decisions)."""
        low = email.strip().lower()
        for cid, customer in self.customers.items():
            if customer.get("email", "").lower() == low and customer.get("origin") != "api":
                return cid
        return None

    def save_one(self, item: Any) -> tuple[int, str]:
        cid = required_item_id(item, "id", CUSTOMER_BAD_ID)
        for name in ("first_name", "last_name", "email"):  # the table: String, not required
            if item.get(name) is not None and not scalar(item[name]):
                raise ItemError(404, CUSTOMER_BAD_FIELD % name)
        now = self.state.now()
        existing = self.customers.get(cid)
        if existing is not None:
            # the document: "The 'first name' and 'last name' will only be updated."
            for name in ("first_name", "last_name"):
                if name in item:
                    existing[name] = text(item[name])
            existing["updated_at"] = now
            self.customers.put(cid, existing)
            return 200, CUSTOMER_UPDATED
        email = text(item.get("email")).strip()
        if email and self.email_owner(email) is not None:
            raise ItemError(400, CUSTOMER_EMAIL_TAKEN)
        record = {"id": cid, "first_name": text(item.get("first_name")), "last_name": text(item.get("last_name")),
                  "email": email, "created_at": now, "updated_at": now, "origin": "api"}
        if not self.customers.add(cid, record):  # a racing call created it first
            return self.save_one(item)
        return 200, CUSTOMER_CREATED

    def create(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return save_batch(body, "customer", "id", self.save_one, failures)
