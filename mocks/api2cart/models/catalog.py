"""API2Cart catalogue: products and their variants, categories and customers (list, info, count,
add, update, delete, find), and the entity builders the seed shares."""
from __future__ import annotations

import re
from typing import Any

from mocks.api2cart import errors as X
from mocks.api2cart.models.base import StoreBase, listing, shape_fields
from mocks.api2cart.models.paging import date_filters, id_filters, id_key, sort_items, window
from mocks.api2cart.models.params import Params, a2c_date, entries, parse_date, public, select

PRODUCT_DEFAULT = "id,name,description,price,categories_ids"
CATEGORY_DEFAULT = "id,parent_id,name,description"
CUSTOMER_DEFAULT = "id,email,first_name,last_name"
PRODUCT_SHAPE, CATEGORY_SHAPE, CUSTOMER_SHAPE = shape_fields(PRODUCT_DEFAULT), shape_fields(CATEGORY_DEFAULT), shape_fields(CUSTOMER_DEFAULT)
#: customer.update ``status`` values (the official example is "disabled")
CUSTOMER_STATUSES = ("enabled", "disabled")
#: product.manufacturer.add's optional fields kept on the manufacturer
MANUFACTURER_FIELDS = ("description", "meta_title", "meta_keywords", "meta_description", "search_keywords",
                       "image_url", "seo_url")
#: product.tax.add rate types (the official schema types ``type`` as a string without values)
TAX_RATE_TYPES = ("percent", "fixed")


class Catalog(StoreBase):
    """Products, categories and customers of one store."""

    # -- products ------------------------------------------------------------------------------
    def _product_filter(self, p: Params) -> list[dict[str, Any]]:
        items = id_filters(self.products.values(), p, "product_ids")
        cats = p.ids("categories_ids") or ([p.str("category_id")] if "category_id" in p else None)
        if cats is not None:
            items = [i for i in items if set(i["categories_ids"]) & set(cats)]
        if "sku" in p:
            items = [i for i in items if i.get("u_sku") == p.str("sku")]
        if "brand_name" in p:
            items = [i for i in items if i.get("u_brand") == p.str("brand_name")]
        for name in ("avail_view", "avail_sale"):
            if name in p:
                items = [i for i in items if i.get(name) == p.bool(name)]
        if "find_value" in p:
            items = self._search(items, p, "name")
        return date_filters(items, p, "created", "modified")

    def product_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        return listing(p, lambda: sort_items(self._product_filter(p), p, "id", {
            "id": id_key, "name": lambda i: str(i.get("name") or ""), "price": lambda i: i.get("price") or 0,
            "create_at": lambda i: i["_ts"]["created"], "modified_at": lambda i: i["_ts"]["modified"]}),
            PRODUCT_SHAPE, "products_count", "product")

    def product_info(self, p: Params) -> dict[str, Any]:
        return PRODUCT_SHAPE(self._product(p.need("id")), p)

    def product_count(self, p: Params) -> dict[str, Any]:
        return {"products_count": len(self._product_filter(p))}

    def product_add(self, p: Params) -> dict[str, Any]:
        if self.cart_id == "AmazonSP":
            p = _amazon_offer(p)
        for name in ("name", "model", "description", "price"):
            p.need(name)
        sku = p.str("sku") or p.str("model") or ""
        for other in self.products.values():
            if other.get("u_sku") == sku or other.get("u_model") == p.str("model"):
                raise X.exists(f"Product with SKU '{sku}' or model '{p.str('model')}' already exists")
        cats = p.ids("categories_ids") or ([p.str("category_id")] if "category_id" in p else [])
        for cid in cats:
            if self.categories.lookup(cid) is None:
                raise X.not_found("Category", cid)
        pid = str(self.state.next_id("product", start=1))
        now = self.state.now()
        product = new_product(pid, now, name=p.str("name"), model=p.str("model"), sku=sku,
                              description=p.str("description"), price=p.num("price"), categories=cats)
        _apply_product_fields(product, p)
        if not self.products.add(pid, product):
            raise X.exists(f"Product with ID '{pid}' already exists")
        self.emit("product", "add", public(product))
        return {"product_id": pid}

    def product_update(self, p: Params) -> dict[str, Any]:
        pid = p.need("id")
        sku = p.str("sku")
        if sku is not None:
            for other in self.products.values():
                if other.get("u_sku") == sku and other["id"] != pid:
                    raise X.exists(f"Product with SKU '{sku}' already exists")
        for cid in p.ids("categories_ids") or []:
            if self.categories.lookup(cid) is None:
                raise X.not_found("Category", cid)
        self._change(self.products, "Product", pid, lambda new: _apply_product_fields(new, p), event="product")
        return {"updated_items": 1}

    def product_delete(self, p: Params) -> dict[str, Any]:
        pid = p.need("id")
        product = self._product(pid)
        self.products.delete(pid)
        Variants(self).drop_children(pid)
        self.emit("product", "delete", {"id": product["id"]})
        return {"delete_items": 1}

    def manufacturer_add(self, p: Params) -> dict[str, Any]:
        """``product.manufacturer.add`` (product_id, manufacturer): the store's manufacturer of that
        name (a new one when there is none, case-insensitive) becomes the product's brand."""
        pid, name = p.need("product_id"), p.need("manufacturer").strip()
        if not name:
            raise X.required("manufacturer")
        self._product(pid)
        found = next((m for m in self.manufacturers.values() if m["name"].lower() == name.lower()), None)
        if found is None:
            mid = str(self.state.next_id("manufacturer", start=1))
            found = {"id": mid, "name": name, **{k: p.str(k) for k in MANUFACTURER_FIELDS if k in p}}
            self.manufacturers.put(mid, found)
        self._set_product(pid, u_brand=found["name"], u_brand_id=found["id"])
        return {"manufacturer_id": found["id"]}

    def tax_add(self, p: Params) -> dict[str, Any]:
        """``product.tax.add`` (name, tax_rates [{name, type, value}], optional product_id): a new
        tax class, assigned to the product when one is named."""
        name = p.need("name")
        rates = []
        for n, ep in enumerate(entries(p.get("tax_rates"), "tax_rates", "array of {name, type, value}"), start=1):
            kind = (ep.str("type") or "percent").lower()
            if kind not in TAX_RATE_TYPES:
                raise X.A2CError(109, f"Parameter 'tax_rates' is not valid. 'type' must be one of: {', '.join(TAX_RATE_TYPES)}.")
            value = ep.num("value")
            if value is None or value < 0:
                raise X.invalid("tax_rates", "array of {name, type, value} with an unsigned decimal value")
            rates.append({"id": str(n), "name": ep.str("name") or name, "type": kind, "tax": value})
        pid = p.str("product_id")
        if pid is not None:
            self._product(pid)
        for other in self.tax_classes.values():
            if other["name"].lower() == name.lower():
                raise X.exists(f"Tax class '{name}' already exists")
        tid = str(self.state.next_id("tax_class", start=1))
        self.tax_classes.put(tid, {"id": tid, "name": name, "avail": True, "tax_rates": rates})
        if pid is not None:
            self._set_product(pid, tax_class_id=tid)
        return {"tax_class_id": tid}

    def product_find(self, p: Params) -> dict[str, Any]:
        found = self._find(self.products.values(), p, "name")
        return {"product": [{"id": i["id"], "name": i.get("name") or "", "description": i.get("description") or "",
                             "price": i.get("price") or 0.0} for i in found]}


    # -- categories ----------------------------------------------------------------------------
    def _category_filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.categories.values()
        if "parent_id" in p:
            items = [i for i in items if i.get("parent_id") == p.str("parent_id")]
        if "avail" in p:
            items = [i for i in items if i.get("avail") == p.bool("avail")]
        if "find_value" in p:
            items = self._search(items, p, "name")
        return sorted(date_filters(items, p, "created", "modified"), key=id_key)

    def category_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        return listing(p, lambda: self._category_filter(p), CATEGORY_SHAPE, "categories_count", "category")

    def category_info(self, p: Params) -> dict[str, Any]:
        return CATEGORY_SHAPE(self._record(self.categories, "Category", p.need("id")), p)

    def category_count(self, p: Params) -> dict[str, Any]:
        return {"categories_count": len(self._category_filter(p))}

    def category_add(self, p: Params) -> dict[str, Any]:
        name = p.need("name")
        parent = p.str("parent_id", "0") or "0"
        if parent != "0" and self.categories.lookup(parent) is None:
            raise X.not_found("Category", parent)
        for other in self.categories.values():
            if other["name"].lower() == name.lower() and other.get("parent_id") == parent:
                raise X.exists(f"Category '{name}' already exists")
        cid = str(self.state.next_id("category", start=1))
        category = new_category(cid, self.state.now(), name, parent, p.str("description", "") or "",
                                p.bool("avail", True), p.int("sort_order", 0, unsigned=False) or 0)
        p.copy_to(category, "short_description", "meta_title", "meta_description", "seo_url", keywords="meta_keywords")
        self.categories.put(cid, category)
        self.emit("category", "add", public(category))
        return {"category_id": cid}

    def category_update(self, p: Params) -> dict[str, Any]:
        cid = p.need("id")
        if "parent_id" in p:
            parent = p.str("parent_id") or "0"
            if parent == cid:
                raise X.A2CError(109, "Parameter 'parent_id' is not valid. A category can't be its own parent.")
            if parent != "0" and self.categories.lookup(parent) is None:
                raise X.not_found("Category", parent)
        if "name" in p:
            name = p.str("name") or ""
            current = self.categories.lookup(cid)
            parent_id = p.str("parent_id") or (current or {}).get("parent_id", "0")
            for other in self.categories.values():
                if other["id"] != cid and other["name"].lower() == name.lower() and other.get("parent_id") == parent_id:
                    raise X.exists(f"Category '{name}' already exists")

        def edit(new: dict[str, Any]) -> None:
            p.copy_to(new, "name", "description", "short_description", "parent_id", "meta_title", "meta_description",
                      "seo_url", keywords="meta_keywords")
            if "avail" in p:
                new["avail"] = p.bool("avail")
            if "sort_order" in p:
                new["sort_order"] = p.int("sort_order", unsigned=False)

        self._change(self.categories, "Category", cid, edit, event="category")
        return {"updated_items": 1}

    def category_delete(self, p: Params) -> dict[str, Any]:
        cid = p.need("id")
        if self.categories.lookup(cid) is None:
            raise X.not_found("Category", cid)
        # children move up to the root and products lose the category (what the platforms do)
        for child_id, child in self.categories.items():
            if child.get("parent_id") == cid:
                self.categories.update(child_id, lambda old: old and {**old, "parent_id": "0"})
        for pid, product in self.products.items():
            if cid in product.get("categories_ids", []):
                self.products.update(pid, lambda old: old and {**old, "categories_ids": [c for c in old["categories_ids"] if c != cid]})
        self.categories.delete(cid)
        self.emit("category", "delete", {"id": cid})
        return {"delete_items": True}

    def category_assign(self, p: Params) -> dict[str, Any]:
        """``category.assign`` (FAQ: product_id + category_id): the product joins the category;
        assigning it again changes nothing. The official result is an empty object."""
        cid, pid = p.need("category_id"), p.need("product_id")
        if self.categories.lookup(cid) is None:
            raise X.not_found("Category", cid)
        current = self._product(pid).get("categories_ids", [])
        if cid not in current:
            self._set_product(pid, categories_ids=[*current, cid])
        return {}

    def category_find(self, p: Params) -> dict[str, Any]:
        found = self._find(self.categories.values(), p, "name")
        return {"category": [{"id": i["id"], "name": i["name"], "description": i.get("description") or ""} for i in found]}


    # -- customers -----------------------------------------------------------------------------
    def _customer_filter(self, p: Params) -> list[dict[str, Any]]:
        items = id_filters(self.customers.values(), p, "ids")
        if "find_value" in p:
            items = self._search(items, p, "email")
        return date_filters(items, p, "created", "modified")

    def customer_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        return listing(p, lambda: sort_items(self._customer_filter(p), p, "created_time", {
            "created_time": lambda i: (i["_ts"]["created"], id_key(i)), "modified_time": lambda i: i["_ts"]["modified"],
            "id": id_key, "email": lambda i: i["email"]}), CUSTOMER_SHAPE, "customers_count", "customer")

    def customer_info(self, p: Params) -> dict[str, Any]:
        return CUSTOMER_SHAPE(self._record(self.customers, "Customer", p.need("id")), p)

    def customer_count(self, p: Params) -> dict[str, Any]:
        return {"customers_count": len(self._customer_filter(p))}

    def customer_add(self, p: Params) -> dict[str, Any]:
        email = p.need("email")
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise X.invalid("email", "email")
        if self.customer_by_email(email) is not None:
            raise X.exists(f"Customer with email '{email}' already exists")
        cid = str(self.state.next_id("customer", start=1))
        customer = new_customer(cid, self.state.now(), email, p.str("first_name", "") or "", p.str("last_name", "") or "",
                                p.str("phone"))
        p.copy_to(customer, "company", "gender", "website", "fax")
        if "news_letter_subscription" in p:
            customer["news_letter_subscription"] = p.bool("news_letter_subscription")
        self.customers.put(cid, customer)
        self.emit("customer", "add", public(customer))
        return {"customer_id": cid}

    def customer_update(self, p: Params) -> dict[str, Any]:
        """``customer.update`` (FAQ: "Update - update"): the official body's fields the customer
        entity carries; ``email`` stays valid and unique."""
        cid = p.need("id")
        email = p.str("email")
        if email is not None:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise X.invalid("email", "email")
            other = self.customer_by_email(email)
            if other is not None and other["id"] != cid:
                raise X.exists(f"Customer with email '{email}' already exists")
        if "status" in p and p.str("status") not in CUSTOMER_STATUSES:
            raise X.A2CError(109, f"Parameter 'status' is not valid. Allowed values: {', '.join(CUSTOMER_STATUSES)}.")
        birth = None
        if "birth_day" in p:
            birth = a2c_date(parse_date("birth_day", p.str("birth_day") or ""))

        def edit(new: dict[str, Any]) -> None:
            p.copy_to(new, "first_name", "last_name", "phone", "company", "gender", "website", "fax", "status")
            if email is not None:
                new["email"] = new["login"] = email
            if birth is not None:
                new["birth_day"] = birth
            if "news_letter_subscription" in p:
                new["news_letter_subscription"] = p.bool("news_letter_subscription")
            if any(name in p for name in ("note", "tags", "tax_id")):
                p.copy_to(new.setdefault("additional_fields", {}), "note", "tags", "tax_id")

        self._change(self.customers, "Customer", cid, edit, event="customer", stamp="modified_time")
        return {"updated_items": 1}

    def customer_delete(self, p: Params) -> dict[str, Any]:
        """``customer.delete``: the customer goes; its orders keep the customer's details (as the
        platforms keep an order's buyer)."""
        cid = p.need("id")
        if self.customers.lookup(cid) is None:
            raise X.not_found("Customer", cid)
        self.customers.delete(cid)
        self.emit("customer", "delete", {"id": cid})
        return {"delete_items": 1}

    def customer_find(self, p: Params) -> dict[str, Any]:
        """The official document answers one customer (id, email, first_name, last_name): the first
        match by id; none -> 112."""
        found = self._find(self.customers.values(), p, "email")
        if not found:
            raise X.A2CError(112, f"Customer '{p.str('find_value')}' not found")
        c = found[0]
        return {"id": c["id"], "email": c["email"], "first_name": c["first_name"] or "", "last_name": c["last_name"] or ""}


    # -- find ----------------------------------------------------------------------------------
    def _find(self, items: list[dict[str, Any]], p: Params, default_where: str) -> list[dict[str, Any]]:
        """``find_value`` in the ``find_where`` fields (comma list); ``find_params``: ``whole_words``
        (default: the value as whole words, case-insensitive), ``regex``, or anything else for a
        case-insensitive substring match."""
        value = p.need("find_value")
        where = self._where(p, default_where)
        how = (p.str("find_params", "whole_words") or "whole_words").strip().lower()
        if how == "regex":
            try:
                rx = re.compile(value, re.I)
            except re.error:
                raise X.invalid("find_value", "regular expression") from None
        elif how == "whole_words":
            rx = re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", re.I)
        else:
            rx = re.compile(re.escape(value), re.I)
        return sorted((i for i in items if any(rx.search(str(i.get(w) or "")) for w in where)), key=id_key)

    @staticmethod
    def _where(p: Params, default_where: str) -> list[str]:
        """``find_where``: a comma list of the entity's response fields (``sku``, ``model`` name the
        stored ``u_sku``/``u_model``); empty -> the method's default. A field the entity does not
        have matches nothing (the official category.count example sends ``find_where=email``)."""
        names = [w.strip() for w in (p.str("find_where", default_where) or default_where).split(",") if w.strip()]
        return [WHERE_FIELDS.get(w, w) for w in names or [default_where]]

    def _search(self, items: list[dict[str, Any]], p: Params, default_where: str) -> list[dict[str, Any]]:
        """The list and count methods' ``find_value``: a case-insensitive substring of any ``find_where`` field."""
        needle = (p.str("find_value") or "").lower()
        where = self._where(p, default_where)
        return [i for i in items if any(needle in str(i.get(w) or "").lower() for w in where)]


#: ``find_where`` names -> the stored fields behind them
WHERE_FIELDS = {"sku": "u_sku", "model": "u_model"}


#: FAQ, "Parameters supported in the product.add method for Amazon SP-API": one of these is required
AMAZON_IDENTIFIERS = ("asin", "ean", "gtin", "upc")


def _amazon_offer(p: Params) -> Params:
    """Amazon SP-API's product.add (FAQ): ``sku``, ``price`` and ``quantity`` (an integer, zero
    allowed) are required with one of ``asin``/``ean``/``gtin``/``upc``; ``category_id`` and
    ``product_type`` are never required here (every identifier is taken as one the Amazon catalog
    has, so the offer attaches to it). The name, model and description the other platforms need
    come from the SKU (Amazon fills them from the catalog)."""
    sku = p.need("sku")
    p.need("price")
    if "quantity" not in p:
        raise X.required("quantity")
    qty = p.num("quantity")
    if qty is None or qty < 0 or qty != int(qty):
        raise X.A2CError(109, "Parameter 'quantity' is not valid. Only integer values are supported on Amazon SP-API.")
    ident = next((n for n in AMAZON_IDENTIFIERS if n in p), None)
    if ident is None:
        raise X.A2CError(114, f"One of the parameters {', '.join(AMAZON_IDENTIFIERS)} is required for Amazon SP-API")
    data = {**p.data, "quantity": int(qty)}
    data.setdefault("name", sku)
    data.setdefault("model", sku)
    data.setdefault("description", "")
    out = Params(data)
    if not out.str("description"):
        out.data["description"] = f"Amazon offer {sku} ({ident} {p.str(ident)})"
    return out


# -- entity builders (seed and API share them) ------------------------------------------------
def new_product(pid: str, now: float, *, name: str | None, model: str | None, sku: str, description: str | None,
                price: float | None, categories: list[str]) -> dict[str, Any]:
    return {
        "id": pid, "type": "simple", "u_model": model, "u_sku": sku, "name": name, "description": description or "",
        "short_description": "", "price": float(price or 0), "advanced_price": [], "cost_price": None,
        "quantity": 0.0, "inventory": [], "group_items": [], "u_brand_id": None, "u_brand": None,
        "categories_ids": list(categories), "stores_ids": ["1"], "url": None, "seo_url": None, "meta_title": None,
        "meta_keywords": None, "meta_description": None, "avail_sale": True, "avail_view": True, "is_virtual": False,
        "is_downloadable": False, "weight": 0.0, "weight_unit": "lb", "sort_order": 0, "in_stock": False,
        "backorders": "no", "manage_stock": "yes", "is_stock_managed": True, "on_sale": False,
        "create_at": a2c_date(now), "modified_at": a2c_date(now), "tax_class_id": None, "special_price": None,
        "tier_price": [], "group_price": [], "images": [], "product_options": [], "u_upc": None, "u_mpn": None,
        "u_gtin": None, "u_isbn": None, "u_ean": None, "related_products_ids": [], "up_sell_products_ids": [],
        "cross_sell_products_ids": [], "dimensions_unit": "in", "width": None, "height": None, "length": None,
        "discounts": [], "_ts": {"created": now, "modified": now},
    }


_PRODUCT_FIELDS = {"name": "name", "description": "description", "short_description": "short_description",
                   "model": "u_model", "sku": "u_sku", "brand_name": "u_brand", "upc": "u_upc", "ean": "u_ean",
                   "mpn": "u_mpn", "gtin": "u_gtin", "isbn": "u_isbn", "meta_title": "meta_title",
                   "meta_keywords": "meta_keywords", "meta_description": "meta_description", "seo_url": "seo_url",
                   "url": "url", "tax_class_id": "tax_class_id", "weight_unit": "weight_unit",
                   "dimensions_unit": "dimensions_unit", "type": "type"}
_PRODUCT_NUMBERS = {"price": "price", "cost_price": "cost_price", "weight": "weight", "width": "width",
                    "height": "height", "length": "length", "quantity": "quantity"}
_PRODUCT_BOOLS = {"available_for_view": "avail_view", "avail": "avail_view", "available_for_sale": "avail_sale",
                  "is_virtual": "is_virtual", "downloadable": "is_downloadable", "on_sale": "on_sale"}


def _apply_product_fields(product: dict[str, Any], p: Params) -> None:
    for src, dst in _PRODUCT_FIELDS.items():
        if src in p:
            product[dst] = p.str(src)
    for src, dst in _PRODUCT_NUMBERS.items():
        if src in p:
            value = p.num(src)
            if value is not None and value < 0:
                raise X.invalid(src, "unsigned decimal")
            product[dst] = value
    for src, dst in _PRODUCT_BOOLS.items():
        if src in p:
            product[dst] = p.bool(src)
    if "asin" in p:  # Amazon's identifier: the entity has no field of its own for it
        product["additional_fields"] = {**(product.get("additional_fields") or {}), "asin": p.str("asin")}
    if "increase_quantity" in p:
        product["quantity"] = float(product.get("quantity") or 0) + (p.num("increase_quantity") or 0)
    if "reduce_quantity" in p:
        left = float(product.get("quantity") or 0) - (p.num("reduce_quantity") or 0)
        if left < 0 and product.get("backorders") == "no":
            raise X.A2CError(109, "Parameter 'reduce_quantity' is not valid. Quantity can't be less than 0.")
        product["quantity"] = left
    if "categories_ids" in p:
        product["categories_ids"] = p.ids("categories_ids") or []
    if "manage_stock" in p:
        product["manage_stock"] = "yes" if p.bool("manage_stock") else "no"
        product["is_stock_managed"] = bool(p.bool("manage_stock"))
    if "in_stock" in p:
        product["in_stock"] = p.bool("in_stock")
    elif any(k in p for k in ("quantity", "increase_quantity", "reduce_quantity")):
        product["in_stock"] = float(product.get("quantity") or 0) > 0
    if "image_url" in p:
        product["images"] = [{"id": "1", "http_path": p.str("image_url"), "file_name": (p.str("image_url") or "").rsplit("/", 1)[-1],
                              "mime-type": None, "size": None, "create_at": None, "modified_at": None, "alt": None,
                              "avail": True, "sort_order": 0, "type": "base"}]


def new_category(cid: str, now: float, name: str, parent: str, description: str, avail: bool | None,
                 sort_order: int) -> dict[str, Any]:
    return {"id": cid, "parent_id": parent, "created_at": a2c_date(now), "modified_at": a2c_date(now), "name": name,
            "short_description": None, "description": description, "stores_ids": ["1"], "keywords": None,
            "meta_description": None, "meta_title": None, "avail": True if avail is None else avail, "path": None,
            "seo_url": None, "sort_order": sort_order, "images": [], "_ts": {"created": now, "modified": now}}


def new_customer(cid: str, now: float, email: str, first: str, last: str, phone: str | None) -> dict[str, Any]:
    return {"id": cid, "email": email, "first_name": first, "last_name": last, "phone": phone,
            "created_time": a2c_date(now), "modified_time": a2c_date(now), "group": [], "login": email,
            "last_login": None, "birth_day": None, "status": "enabled", "is_guest": False,
            "news_letter_subscription": False, "consents": [], "gender": None, "stores_ids": ["1"], "website": None,
            "fax": None, "company": None, "ip_address": None, "address_book": [], "lang_id": "1", "orders_count": 0,
            "last_order_id": None, "_ts": {"created": now, "modified": now}}


# -- product variants -------------------------------------------------------------------------
class Variants:
    """``product.variant.*``: children of a product, shaped like products (the vendor's list uses Product)."""

    def __init__(self, data: StoreBase) -> None:
        self.data = data
        self.variants = data.state.collection("variants")

    def _parent(self, pid: str) -> dict[str, Any]:
        return self.data._product(pid)

    def add(self, p: Params) -> dict[str, Any]:
        pid = p.need("product_id")
        model = p.need("model")
        parent = self._parent(pid)
        sku = p.str("sku") or model
        taken = [v for v in self.variants.values() if v.get("u_sku") == sku or v.get("u_model") == model]
        taken += [x for x in self.data.products.values() if x.get("u_sku") == sku]
        if taken:
            raise X.exists(f"Product variant with SKU '{sku}' or model '{model}' already exists")
        vid = str(self.data.state.next_id("variant", start=1001))
        now = self.data.state.now()
        variant = new_product(vid, now, name=p.str("name") or parent.get("name"), model=model, sku=sku,
                              description=p.str("description") or parent.get("description"),
                              price=p.num("price", parent.get("price")), categories=parent.get("categories_ids", []))
        fields = Params({k: v for k, v in p.data.items() if k not in ("model", "sku", "name", "description")})
        _apply_product_fields(variant, fields)
        attrs = p.get("attributes")
        if attrs is not None and not isinstance(attrs, list):
            raise X.invalid("attributes", "array")
        variant["type"] = "variant"
        variant["parent_id"] = pid
        variant["additional_fields"] = {"attributes": attrs or [], "is_default": bool(p.bool("is_default", False))}
        self.variants.put(vid, variant)
        self.data.emit("product", "update", public(parent))
        return {"product_variant_id": vid}

    def _filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.variants.values()
        if "product_id" in p:
            items = [v for v in items if v["parent_id"] == p.str("product_id")]
        if "category_id" in p:
            items = [v for v in items if p.str("category_id") in v.get("categories_ids", [])]
        return sorted(date_filters(items, p, "created", "modified"), key=id_key)

    def listing(self, p: Params) -> dict[str, Any]:
        start, count = window(p)
        chunk = self._filter(p)[start:start + count]
        return {"variant": [select(public(v), p.str("params"), p.str("exclude"), PRODUCT_DEFAULT) for v in chunk]}

    def count(self, p: Params) -> dict[str, Any]:
        self._parent(p.need("product_id"))
        return {"variants_count": len(self._filter(p))}

    def info(self, p: Params) -> dict[str, Any]:
        return PRODUCT_SHAPE(StoreBase._record(self.variants, "Product variant", p.need("id")), p)

    def update(self, p: Params) -> dict[str, Any]:
        self.data._change(self.variants, "Product variant", p.need("id"), lambda new: _apply_product_fields(new, p),
                          keep=lambda old: "product_id" not in p or old["parent_id"] == p.str("product_id"))
        return {"updated_items": 1}

    def delete(self, p: Params) -> dict[str, Any]:
        vid, pid = p.need("id"), p.need("product_id")
        StoreBase._record(self.variants, "Product variant", vid, keep=lambda v: v["parent_id"] == pid)
        self.variants.delete(vid)
        return {"deleted": True}

    def drop_children(self, pid: str) -> None:
        for vid, variant in self.variants.items():
            if variant["parent_id"] == pid:
                self.variants.delete(vid)
