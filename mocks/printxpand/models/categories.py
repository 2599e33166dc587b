"""PrintXpand categories (bulk create/update/delete; a tree by parent id)."""
from __future__ import annotations

from typing import Any

from mocks.core.coerce import is_blank
from mocks.core.state import TenantState
from mocks.printxpand.models.batch import ItemError, Json, Tombstones, delete_batch, save_batch
from mocks.printxpand.models.fields import flag, id_text, required_item_id, scalar, text
from mocks.printxpand.models.messages import (CATEGORY_BAD, CATEGORY_CREATED, CATEGORY_DELETED,
                                              CATEGORY_NOT_FOUND, CATEGORY_UPDATED)


class Categories:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.categories = state.collection("categories")
        self.products = state.collection("products")

    def save_one(self, item: Any) -> tuple[int, str]:
        cid = required_item_id(item, "id", CATEGORY_BAD)
        if any(item.get(k) is not None and not scalar(item[k]) for k in ("name", "parent_id", "status")):
            raise ItemError(404, CATEGORY_BAD)
        name = text(item.get("name")).strip()
        parent = text(item.get("parent_id")).strip()
        parent = "" if parent in ("", "0") else parent
        status = flag(item.get("status"))
        if is_blank(name) or status is None or parent == cid:
            raise ItemError(404, CATEGORY_BAD)
        if parent and (id_text(parent) is None or self.categories.lookup(parent) is None):
            raise ItemError(404, CATEGORY_BAD)
        if parent and cid in self.ancestors(parent):
            raise ItemError(404, CATEGORY_BAD)  # would make a cycle
        now = self.state.now()
        existing = self.categories.get(cid)
        record = {**(existing or {}), "id": cid, "name": name, "parent_id": parent or "0", "status": status,
                  "updated_at": now}
        if existing is None:
            record.update(created_at=now, origin="api")
            self.categories.put(cid, record)
            Tombstones(self.state, "categories").forget(cid)
            return 200, CATEGORY_CREATED
        self.categories.put(cid, record)
        # the document's own answers: a category the store had before the integration (made in the
        # admin: the seed's) is "updated"; one this API created is saved again and answered
        # "created" (docs/printxpand.md, Fidelity decisions)
        return 200, CATEGORY_CREATED if existing.get("origin") == "api" else CATEGORY_UPDATED

    def ancestors(self, cid: str) -> list[str]:
        out: list[str] = []
        seen = set()
        while cid and cid != "0" and cid not in seen:
            seen.add(cid)
            out.append(cid)
            node = self.categories.lookup(cid)
            cid = node.get("parent_id", "0") if node else ""
        return out

    def subtree(self, cid: str) -> list[str]:
        children: dict[str, list[str]] = {}
        for key, node in self.categories.items():
            children.setdefault(node.get("parent_id", "0"), []).append(key)
        out, todo = [], [cid]
        while todo:
            current = todo.pop()
            out.append(current)
            todo.extend(children.get(current, []))
        return out

    def delete_one(self, raw: Any) -> tuple[int, str]:
        cid = id_text(raw)
        tombstones = Tombstones(self.state, "categories")
        if cid is not None and self.categories.lookup(cid) is None and tombstones.known(cid):
            return 200, CATEGORY_DELETED  # deleted before: gone either way
        if cid is None or self.categories.lookup(cid) is None:
            raise ItemError(404, CATEGORY_NOT_FOUND)
        gone = self.subtree(cid)  # Magento deletes a category with its children
        for key in gone:
            self.categories.delete(key)
            tombstones.remember(key)
        gone_set = set(gone)
        for pid, product in self.products.items():
            if gone_set.intersection(product.get("category_ids", [])):
                self.products.update(pid, lambda old: None if old is None else {
                    **old, "category_ids": [c for c in old.get("category_ids", []) if c not in gone_set]})
        return 200, CATEGORY_DELETED

    def create(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return save_batch(body, "category", "id", self.save_one, failures)

    def delete(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return delete_batch(body, "category", self.delete_one, failures)
