"""PrintXpand orders (bulk create/update)."""
from __future__ import annotations

from typing import Any

from mocks.core.coerce import is_blank
from mocks.core.state import TenantState
from mocks.printxpand.models.batch import ItemError, Json, save_batch
from mocks.printxpand.models.fields import count, id_text, number_or_blank, required_item_id, scalar, text
from mocks.printxpand.models.messages import (ORDER_BAD, ORDER_CREATED, ORDER_FIELDS_HINT, ORDER_LENGTHS,
                                              ORDER_UPDATED)

ADDRESS_FIELDS = ("name", "address1", "address2", "phone", "city", "state", "country", "country_code", "zip")


class Orders:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.orders = state.collection("orders")

    @staticmethod
    def problems(item: dict[str, Any]) -> list[str]:
        """The fields of the order table that are missing or not of their documented type."""
        bad = []
        if not scalar(item.get("sub_total")) or text(item.get("sub_total")).strip() == "" \
                or not number_or_blank(item.get("sub_total")):
            bad.append("sub_total")
        for name in ("design_id", "item_price", "item_qty"):
            if not isinstance(item.get(name), list) or not item[name]:
                bad.append(name)
        address = item.get("shipping_address")
        if not isinstance(address, dict):
            bad.append("shipping_address")
        else:
            if not scalar(address.get("name")) or is_blank(str(address.get("name"))):
                bad.append("shipping_address.name")
            bad += [f"shipping_address.{k}" for k in ADDRESS_FIELDS
                    if k != "name" and address.get(k) is not None and not scalar(address[k])]
        if item.get("status") is not None and not scalar(item["status"]):
            bad.append("status")
        return bad

    def save_one(self, item: Any) -> tuple[int, str]:
        oid = required_item_id(item, "order_id", ORDER_BAD, ORDER_BAD + ORDER_FIELDS_HINT % "order_id")
        bad = self.problems(item)
        if bad:
            raise ItemError(404, ORDER_BAD + ORDER_FIELDS_HINT % ", ".join(bad))
        address = item["shipping_address"]
        designs, prices, qtys = item["design_id"], item["item_price"], item["item_qty"]
        if not len(designs) == len(prices) == len(qtys):
            raise ItemError(404, ORDER_LENGTHS)
        bad = [f"design_id[{i}]" for i, d in enumerate(designs) if id_text(d) is None]
        bad += [f"item_price[{i}]" for i, p in enumerate(prices)
                if not scalar(p) or text(p).strip() == "" or not number_or_blank(p)]
        bad += [f"item_qty[{i}]" for i, q in enumerate(qtys) if count(q, minimum=1) is None]
        if bad:
            raise ItemError(404, ORDER_BAD + ORDER_FIELDS_HINT % ", ".join(bad))
        now = self.state.now()
        lines = [{"design_id": id_text(d), "price": text(p).strip(), "qty": count(q, minimum=1)}
                 for d, p, q in zip(designs, prices, qtys)]
        existing = self.orders.get(oid)
        record = {**(existing or {}), "order_id": oid, "status": text(item.get("status")) or "Open",
                  "sub_total": text(item.get("sub_total")),
                  "shipping_address": {k: text(address.get(k)) for k in ADDRESS_FIELDS if k in address},
                  "items": lines, "updated_at": now}
        if existing is None:
            record["created_at"] = now
            self.orders.put(oid, record)
            return 200, ORDER_CREATED
        self.orders.put(oid, record)
        return 200, ORDER_UPDATED

    def create(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return save_batch(body, "order", "order_id", self.save_one, failures)
