"""PrintXpand products (bulk create/update/delete): simple and configurable, prices, tier prices,
images and custom options."""
from __future__ import annotations

from typing import Any

from mocks.core.coerce import is_blank
from mocks.core.state import TenantState
from mocks.printxpand.models.batch import ItemError, Json, Tombstones, delete_batch, save_batch
from mocks.printxpand.models.fields import (PRODUCT_TYPES, check_custom_options, check_images,
                                            check_tier_prices, flag, id_text, number_or_blank, scalar,
                                            split_ids, text)
from mocks.printxpand.models.messages import (PRODUCT_BAD, PRODUCT_BAD_DESIGNER, PRODUCT_BAD_PRICE,
                                              PRODUCT_BAD_SPECIAL_PRICE, PRODUCT_BAD_STATUS,
                                              PRODUCT_BAD_VARIATIONS,
                                              PRODUCT_CREATED, PRODUCT_DELETED, PRODUCT_NOT_FOUND,
                                              PRODUCT_UPDATED)


class Products:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.products = state.collection("products")
        self.categories = state.collection("categories")

    def categories_of(self, item: dict[str, Any]) -> list[str]:
        """The product's categories that the store has.

        The document: "sync category first either product is not assigned in the category": sync
        the categories first, or else the product is not assigned to them. The product itself is
        saved (with the documented success message) and assigned to the categories that exist; a
        category the store does not have is left out (docs/printxpand.md, Fidelity decisions).
        The table names ``category_ids``, the examples send ``category_id``; both are read.
        """
        raw = item.get("category_ids", item.get("category_id", ""))
        if raw is not None and not scalar(raw) and not (isinstance(raw, list) and all(scalar(v) for v in raw)):
            raise ItemError(404, "Please pass vaild category_ids: category ids separated by commas.")
        wanted = list(dict.fromkeys(split_ids(raw)))
        return [c for c in wanted if id_text(c) is not None and self.categories.lookup(c) is not None]

    @staticmethod
    def check_prices(item: dict[str, Any]) -> None:
        if not number_or_blank(item.get("price")):
            raise ItemError(404, PRODUCT_BAD_PRICE)
        if not number_or_blank(item.get("special_price")):
            raise ItemError(404, PRODUCT_BAD_SPECIAL_PRICE)

    @staticmethod
    def variations_of(item: dict[str, Any]) -> list[dict[str, Any]]:
        """Configurable: ``attribute_names`` ("Size,Color") and ``variations`` keyed by id, each with
        an ``id`` and ``attributes`` [{name, option}] naming every attribute exactly once, no two
        variations with the same combination. Their price, status, images, tier_price and
        custom_options follow the parent's rules."""
        raw = item.get("variations")
        names = [n.strip().lower() for n in text(item.get("attribute_names")).split(",") if n.strip()]
        if not isinstance(raw, dict) or not raw or not names:
            raise ItemError(404, PRODUCT_BAD_VARIATIONS)
        out, combos = [], set()
        for _, child in raw.items():
            if not isinstance(child, dict) or id_text(child.get("id")) is None:
                raise ItemError(404, PRODUCT_BAD_VARIATIONS)
            attributes = child.get("attributes")
            if not isinstance(attributes, list) or not attributes:
                raise ItemError(404, PRODUCT_BAD_VARIATIONS)
            values: dict[str, str] = {}
            for attribute in attributes:
                if not isinstance(attribute, dict):
                    raise ItemError(404, PRODUCT_BAD_VARIATIONS)
                name, option = text(attribute.get("name")).strip(), text(attribute.get("option")).strip()
                if not name or not option or name.lower() not in names:
                    raise ItemError(404, PRODUCT_BAD_VARIATIONS)
                values[name.lower()] = option
            combo = tuple(values.get(n, "") for n in names)
            if set(values) != set(names) or combo in combos:
                raise ItemError(404, PRODUCT_BAD_VARIATIONS)
            combos.add(combo)
            if len(attributes) != len(values):  # one attribute named twice
                raise ItemError(404, PRODUCT_BAD_VARIATIONS)
            Products.check_prices(child)
            status = flag(child.get("status"))
            if status is None:
                raise ItemError(404, PRODUCT_BAD_STATUS)
            out.append({"id": id_text(child.get("id")), "status": status,
                        "price": text(child.get("price")), "special_price": text(child.get("special_price")),
                        "images": check_images(child.get("images")),
                        "tier_price": check_tier_prices(child.get("tier_price")),
                        "custom_options": check_custom_options(child.get("custom_options")),
                        "attributes": [{"name": text(a.get("name")).strip(), "option": text(a.get("option")).strip()}
                                       for a in attributes]})
        return out

    def save_one(self, item: Any) -> tuple[int, str]:
        if not isinstance(item, dict):
            raise ItemError(404, PRODUCT_BAD, show_id=False)
        pid = id_text(item.get("id"))
        kind = text(item.get("type")).strip().lower() if scalar(item.get("type")) else ""
        name = item.get("name")
        if pid is None or not scalar(name) or is_blank(str(name)) or kind not in PRODUCT_TYPES:
            raise ItemError(404, PRODUCT_BAD)
        self.check_prices(item)
        status, designer = flag(item.get("status")), flag(item.get("enable_product_designer"), default=0)
        if status is None:
            raise ItemError(404, PRODUCT_BAD_STATUS)
        if designer is None:
            raise ItemError(404, PRODUCT_BAD_DESIGNER)
        tier_price = check_tier_prices(item.get("tier_price"))
        images = check_images(item.get("images"))
        options = check_custom_options(item.get("custom_options"))
        variations = self.variations_of(item) if kind == "configurable" else []
        categories = self.categories_of(item)  # last: the data is right, only the store lacks a category
        now = self.state.now()
        existing = self.products.get(pid)
        record = {
            "created_at": (existing or {}).get("created_at", now), "id": pid, "name": str(name).strip(), "type": kind,
            "price": text(item.get("price")), "special_price": text(item.get("special_price")),
            "status": status, "enable_product_designer": designer, "category_ids": categories,
            "tier_price": tier_price, "images": images, "custom_options": options,
            "attribute_names": text(item.get("attribute_names")), "variations": variations, "updated_at": now,
        }
        self.products.put(pid, record)
        Tombstones(self.state, "products").forget(pid)
        if existing is None:
            return 200, PRODUCT_CREATED
        return 200, PRODUCT_UPDATED

    def delete_one(self, raw: Any) -> tuple[int, str]:
        pid = id_text(raw)
        gone = Tombstones(self.state, "products")
        if pid is not None and self.products.delete(pid):
            gone.remember(pid)
        elif pid is None or not gone.known(pid):
            raise ItemError(404, PRODUCT_NOT_FOUND)
        return 200, PRODUCT_DELETED

    def create(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return save_batch(body, "product", "id", self.save_one, failures)

    def delete(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return delete_batch(body, "product", self.delete_one, failures)
