"""XTND webhook subscriptions: which callbacks want which triggers (delivery is
:mod:`mocks.xtnd.webhooks`)."""
from __future__ import annotations

import secrets
from typing import Any

from mocks.core.coerce import is_blank
from mocks.core.state import TenantState
from mocks.xtnd import errors as X
from mocks.xtnd.models.common import DEFAULT_PAGE_SIZE, _changed_filter, found_or_raise, iso, paged

#: every webhook trigger, each fired by its real cause (see docs/xtnd.md)
TRIGGERS = ("AvailableBalanceChanged", "OrderCreated", "OrderReserved", "OrderPicked", "OrderCancelled",
            "OrderDeliveryDataChanged", "ProductChanged", "CustomerCreated", "CustomerChanged")
#: the guide spells the balance hook "AvaiableBalanceChanged"; subscriptions accept both
TRIGGER_ALIASES = {"AvaiableBalanceChanged": "AvailableBalanceChanged"}


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
        return found_or_raise(self.hooks.lookup(hook_id.lower()), "Webhook", hook_id)

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
        if is_blank(name):
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

        doc = found_or_raise(self.hooks.update(hook_id.lower(), apply), "Webhook", hook_id)
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
