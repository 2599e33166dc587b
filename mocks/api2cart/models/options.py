"""API2Cart product images and options (``product.image.add/update``, ``product.option.add``,
``product.option.value.add``, ``product.option.assign``, ``product.option.value.assign``,
``product.option.value.update``): the methods the FAQ's product walkthrough names.

Options follow the platforms' two levels (OpenCart, Magento, PrestaShop): a store-level option
(``options``: name, type, its values) and its assignment to a product (the product's
``product_options``, each with a ``product_option_id`` and ``option_items`` that carry the
product's own price and quantity for a value). ``product_option_refs`` maps a
``product_option_id`` to its product, so ``product.option.value.assign`` costs one look-up."""
from __future__ import annotations

import base64
import binascii
from typing import Any

from mocks.api2cart import errors as X
from mocks.api2cart.models.base import StoreBase
from mocks.api2cart.models.params import Params, a2c_date

IMAGE_TYPES = ("small", "base", "additional", "thumbnail")
OPTION_TYPES = ("option_type_select", "option_type_text", "option_type_radio", "option_type_checkbox",
                "option_type_textarea", "option_type_readonly", "option_type_multiselect",
                "option_type_multicheckbox", "option_type_file", "option_type_date", "option_type_datetime",
                "option_type_time")


class ProductExtras(StoreBase):
    """Images and options of one store's products."""

    # -- images --------------------------------------------------------------------------------
    def _image_owner(self, p: Params) -> tuple[Any, str]:
        """(collection, id) of the product or variant an image call names."""
        vid = p.str("product_variant_id")
        if vid is not None:
            variants = self.state.collection("variants")
            if variants.lookup(vid) is None:
                raise X.not_found("Product variant", vid)
            return variants, vid
        pid = p.need("product_id")
        self._product(pid)
        return self.products, pid

    def image_add(self, p: Params) -> dict[str, Any]:
        name = p.need("image_name").strip()
        types = [t.strip() for t in (p.need("type") or "").split(",") if t.strip()]
        if not types or any(t not in IMAGE_TYPES for t in types):
            raise X.A2CError(109, f"Parameter 'type' is not valid. Allowed values: {', '.join(IMAGE_TYPES)}.")
        url, content = p.str("url"), p.str("content")
        if not url and not content:
            raise X.A2CError(114, "Parameter 'url' or 'content' is required")
        size = None
        if content:
            try:
                size = len(base64.b64decode(content, validate=True))
            except (binascii.Error, ValueError):
                raise X.invalid("content", "base64") from None
        coll, owner = self._image_owner(p)
        iid = str(self.state.next_id("image", start=1))
        now = self.state.now()
        path = f"data/product/main/product_{owner}_{name}"
        image = {"id": iid, "http_path": url or path, "file_name": name, "mime-type": p.str("mime"), "size": size,
                 "create_at": a2c_date(now), "modified_at": a2c_date(now), "alt": p.str("label"), "avail": True,
                 "sort_order": p.int("position", 0) or 0, "type": types[0],
                 "additional_fields": {"types": types, "image_path": path}}
        self._change(coll, "Product", owner, lambda item: item["images"].append(image), event="product", now=now)
        return {"id": iid, "image_path": path}

    def image_update(self, p: Params) -> dict[str, Any]:
        pid, iid = p.need("product_id"), p.need("id")
        self._product(pid)
        if "type" in p and p.str("type") not in IMAGE_TYPES:
            raise X.A2CError(109, f"Parameter 'type' is not valid. Allowed values: {', '.join(IMAGE_TYPES)}.")

        def edit(item: dict[str, Any]) -> None:
            image = self._member(item["images"], iid, "Image")
            p.copy_to(image, "type", file_name="image_name", alt="label")
            if "position" in p:
                image["sort_order"] = p.int("position", 0, unsigned=False)
            if "hidden" in p:
                image["avail"] = not p.bool("hidden")
            image["modified_at"] = a2c_date(self.state.now())

        self._change(self.products, "Product", pid, edit, event="product")
        return {"updated": "true"}

    # -- options -------------------------------------------------------------------------------
    @property
    def options(self) -> Any:
        return self.state.collection("options")

    @property
    def option_refs(self) -> Any:
        return self.state.collection("product_option_refs")

    def _option(self, oid: str) -> dict[str, Any]:
        option = self.options.lookup(oid)
        if option is None:
            raise X.not_found("Option", oid)
        return option

    def _new_values(self, option: dict[str, Any], raw: list[tuple[str, str | None, bool]]) -> list[dict[str, Any]]:
        out = []
        for n, (value, display, default) in enumerate(raw):
            if any(v["name"].lower() == value.lower() for v in [*option["values"], *out]):
                raise X.exists(f"Option value '{value}' of option '{option['id']}' already exists")
            vid = str(self.state.next_id("option_value", start=1))
            out.append({"id": vid, "name": value, "display_value": display or value, "is_default": default,
                        "sort_order": len(option["values"]) + n})
        return out

    def option_add(self, p: Params) -> dict[str, Any]:
        name, kind = p.need("name"), p.need("type")
        if kind not in OPTION_TYPES:
            raise X.A2CError(109, f"Parameter 'type' is not valid. Allowed values: {', '.join(OPTION_TYPES)}.")
        raw: list[tuple[str, str | None, bool]] = []
        if "values" in p:
            values = p.get("values")
            if not isinstance(values, list) or not all(isinstance(v, dict) and v.get("value") for v in values):
                raise X.invalid("values", "array of {value, display_value, is_default}")
            raw = [(str(v["value"]), v.get("display_value"), bool(v.get("is_default", False))) for v in values]
        elif "option_values" in p:
            default = p.str("default_option_value")
            raw = [(v.strip(), None, v.strip() == default) for v in (p.str("option_values") or "").split(",") if v.strip()]
        pid = p.str("product_id")
        if pid is not None:
            self._product(pid)
        for other in self.options.values():
            if other["name"].lower() == name.lower() and other["type"] == kind:
                raise X.exists(f"Option '{name}' already exists")
        oid = str(self.state.next_id("option", start=1))
        option = {"id": oid, "name": name, "type": kind, "description": p.str("description"), "values": []}
        option["values"] = self._new_values(option, raw)
        self.options.put(oid, option)
        out: dict[str, Any] = {"option_id": oid, "product_value_ids": None}
        if pid is not None:
            poid = self._assign(pid, option, [v["id"] for v in option["values"]], p)
            out["product_option_id"] = poid
            out["product_value_ids"] = ",".join(v["id"] for v in option["values"]) or None
        return out

    def _assign(self, pid: str, option: dict[str, Any], value_ids: list[str], p: Params) -> str:
        if any(o["id"] == option["id"] for o in self._product(pid).get("product_options", [])):
            raise X.exists(f"Option '{option['id']}' is already assigned to product '{pid}'")
        poid = str(self.state.next_id("product_option", start=1))
        by_id = {v["id"]: v for v in option["values"]}
        entry = {"id": option["id"], "product_option_id": poid, "name": option["name"],
                 "description": option.get("description"), "sort_order": p.int("sort_order", 0, unsigned=False) or 0,
                 "type": option["type"], "required": bool(p.bool("required", False)),
                 "available": p.bool("avail", True), "used_in_combination": False,
                 "option_items": [_item(by_id[v], str(self.state.next_id("product_option_value", start=1)))
                                  for v in value_ids]}
        self._change(self.products, "Product", pid, lambda item: item.setdefault("product_options", []).append(entry),
                     event="product")
        self.option_refs.put(poid, {"product_id": pid, "option_id": option["id"]})
        return poid

    def option_assign(self, p: Params) -> dict[str, Any]:
        pid, oid = p.need("product_id"), p.need("option_id")
        self._product(pid)
        option = self._option(oid)
        wanted = [v.strip() for v in (p.str("option_values") or "").split(",") if v.strip()]
        if wanted:
            by_name = {v["name"].lower(): v["id"] for v in option["values"]}
            missing = [w for w in wanted if w.lower() not in by_name]
            if missing:
                raise X.not_found("Option value", missing[0])
            ids = [by_name[w.lower()] for w in wanted]
        else:
            ids = [v["id"] for v in option["values"]]
        return {"product_option_id": self._assign(pid, option, ids, p)}

    def option_value_add(self, p: Params) -> dict[str, Any]:
        pid, oid = p.need("product_id"), p.need("option_id")
        value = p.need("option_value")
        self._product(pid)
        option = self._option(oid)
        new = self._new_values(option, [(value, p.str("display_value"), bool(p.bool("is_default", False)))])[0]
        if "sort_order" in p:
            new["sort_order"] = p.int("sort_order", 0, unsigned=False)
        self.options.put(oid, {**option, "values": [*option["values"], new]})
        assigned = any(o["id"] == oid for o in self._product(pid).get("product_options", []))
        if assigned:
            item = _item(new, str(self.state.next_id("product_option_value", start=1)))
            self._change(self.products, "Product", pid, lambda prod: _product_option(prod, oid)["option_items"].append(item),
                         event="product")
        return {"option_value_id": new["id"]}

    def option_value_assign(self, p: Params) -> dict[str, Any]:
        poid, vid = p.need("product_option_id"), p.need("option_value_id")
        ref = self.option_refs.lookup(poid)
        if ref is None:
            raise X.not_found("Product option", poid)
        option = self._option(ref["option_id"])
        value = next((v for v in option["values"] if v["id"] == vid), None)
        if value is None:
            raise X.not_found("Option value", vid)
        item = _item(value, str(self.state.next_id("product_option_value", start=1)))

        def edit(prod: dict[str, Any]) -> None:
            entry = _product_option(prod, ref["option_id"])
            if any(i["id"] == vid for i in entry["option_items"]):
                raise X.exists(f"Option value '{vid}' is already assigned to product option '{poid}'")
            entry["option_items"].append(item)

        self._change(self.products, "Product", ref["product_id"], edit, event="product")
        return {"product_option_value_id": item["product_option_item_id"]}

    def option_value_update(self, p: Params) -> dict[str, Any]:
        pid, oid, vid = p.need("product_id"), p.need("option_id"), p.need("option_value_id")
        option = self._option(oid)
        for name in ("price", "quantity"):
            if name in p and (p.num(name) is None or (p.num(name) or 0) < 0):
                raise X.invalid(name, "unsigned decimal")

        def edit(prod: dict[str, Any]) -> None:
            entry = _product_option(prod, oid)
            item = self._member(entry["option_items"], vid, "Option value")
            p.copy_to(item, name="option_value")
            if "price" in p:
                item["price"] = p.num("price")
            if "quantity" in p:
                item["quantity"] = int(p.num("quantity") or 0)
            if "display_value" in p:
                item.setdefault("additional_fields", {})["display_value"] = p.str("display_value")

        self._change(self.products, "Product", pid, edit, event="product")
        if "option_value" in p or "display_value" in p:
            values = [dict(v, **({"name": p.str("option_value")} if "option_value" in p else {}),
                           **({"display_value": p.str("display_value")} if "display_value" in p else {}))
                      if v["id"] == vid else v for v in option["values"]]
            self.options.put(oid, {**option, "values": values})
        return {"updated_items": 1}


def _item(value: dict[str, Any], product_item_id: str) -> dict[str, Any]:
    return {"id": value["id"], "product_option_item_id": product_item_id, "name": value["name"],
            "sort_order": value.get("sort_order", 0), "price": 0.0, "weight": 0.0, "quantity": 0,
            "type_price": "fixed", "sku": None, "is_default": bool(value.get("is_default")),
            "additional_fields": {"display_value": value.get("display_value")}}


def _product_option(product: dict[str, Any], option_id: str) -> dict[str, Any]:
    entry = next((o for o in product.get("product_options", []) if o["id"] == option_id), None)
    if entry is None:
        raise X.A2CError(112, f"Option '{option_id}' is not assigned to product '{product['id']}'")
    return entry
