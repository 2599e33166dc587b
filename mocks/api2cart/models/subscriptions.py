"""API2Cart webhook subscriptions (``webhook.*``): which callbacks want which entity events.
Delivery (and polling for platforms without native webhooks) is :mod:`mocks.api2cart.webhooks`."""
from __future__ import annotations

import re
from typing import Any

from mocks.api2cart import errors as X
from mocks.api2cart.models.base import StoreBase
from mocks.api2cart.models.paging import page, window
from mocks.api2cart.models.params import Params, plain_date, select

WEBHOOK_DEFAULT = "id,entity,action,callback"
WEBHOOK_EVENTS = [
    ("product", "add"), ("product", "update"), ("product", "delete"),
    ("category", "add"), ("category", "update"), ("category", "delete"),
    ("customer", "add"), ("customer", "update"), ("customer", "delete"),
    ("order", "add"), ("order", "update"), ("order", "delete"), ("order", "status.update"),
    ("order.return", "add"), ("order.return", "update"), ("order.return", "delete"),
]


class Subscriptions(StoreBase):
    """One store's webhook subscriptions."""

    def webhook_create(self, p: Params) -> dict[str, Any]:
        entity, action = p.need("entity"), p.need("action")
        if (entity, action) not in WEBHOOK_EVENTS:
            raise X.A2CError(109, f"Webhook for entity '{entity}' and action '{action}' is not supported. "
                                  "See webhook.events.")
        callback = p.need("callback")
        if not re.fullmatch(r"https?://\S+", callback):
            raise X.invalid("callback", "URL")
        for other in self.webhooks.values():
            if other["entity"] == entity and other["action"] == action and other["callback"] == callback:
                raise X.exists(f"Webhook for '{entity}.{action}' with this callback already exists (id {other['id']})")
        wid = self.state.next_id("webhook", start=1)
        now = plain_date(self.state.now())
        hook = {"id": wid, "label": p.str("label", "") or "", "store_id": p.str("store_id", "1") or "1",
                "lang_id": p.str("lang_id"), "active": bool(p.bool("active", True)), "callback": callback,
                "fields": p.str("fields", "force_all") or "force_all", "response_fields": p.str("response_fields"),
                "created_at": now, "updated_at": now, "entity": entity, "action": action,
                "filtering_conditions": p.get("filtering_conditions") if isinstance(p.get("filtering_conditions"), dict) else None}
        self.webhooks.put(str(wid), hook)
        return {"id": wid}

    def _webhook_filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.webhooks.values()
        for name in ("entity", "action"):
            if name in p:
                items = [i for i in items if i[name] == p.str(name)]
        if "active" in p:
            items = [i for i in items if i["active"] == p.bool("active")]
        ids = p.ids("ids")
        if ids is not None:
            items = [i for i in items if str(i["id"]) in ids]
        return sorted(items, key=lambda i: i["id"])

    def webhook_list(self, p: Params) -> dict[str, Any]:
        start, count = window(p)
        chunk, _ = page(self._webhook_filter(p), start, count)
        return {"webhook": [select(i, p.str("params"), None, WEBHOOK_DEFAULT) for i in chunk]}

    def webhook_count(self, p: Params) -> dict[str, Any]:
        return {"webhook_count": len(self._webhook_filter(p))}

    def webhook_update(self, p: Params) -> dict[str, Any]:
        wid = p.need("id")
        if "callback" in p and not re.fullmatch(r"https?://\S+", p.str("callback") or ""):
            raise X.invalid("callback", "URL")
        now = plain_date(self.state.now())

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None:
                raise X.not_found("Webhook", wid)
            new = dict(old)
            for name in ("callback", "label", "fields", "response_fields", "lang_id"):
                if name in p:
                    new[name] = p.str(name)
            if "active" in p:
                new["active"] = p.bool("active")
            if "filtering_conditions" in p.data:
                fc = p.data["filtering_conditions"]
                new["filtering_conditions"] = fc if isinstance(fc, dict) else None
            new["updated_at"] = now
            return new

        self.webhooks.update(wid, apply)
        return {"updated": "true"}

    def webhook_delete(self, p: Params) -> dict[str, Any]:
        wid = p.need("id")
        if not self.webhooks.delete(wid):
            raise X.not_found("Webhook", wid)
        return {"deleted": "true"}

    def subscribers(self, entity: str, action: str) -> list[dict[str, Any]]:
        return [h for h in self.webhooks.values() if h["active"] and h["entity"] == entity and h["action"] == action]


def webhook_events() -> dict[str, Any]:
    return {"events": [{"webhook_name": f"{e}.{a}", "entity": e, "action": a, "filterable_fields": {}}
                       for e, a in WEBHOOK_EVENTS]}
