"""PrintXpand's bulk create/update/delete of customers, categories, products and orders.

Every call takes a batch and answers ``[{"response": [<item result>, ...]}]``: one result per
input item, in input order, with the item's id echoed exactly as sent (string or number).
Item results are built in one place, :func:`item_result`, so per-item behaviour (and faults
injected by a scenario) has a single hook.

Codes: the document prints ``"code": "200"`` (a string) in every all-success example and integer
codes (``200``, ``404``) in every example that has a failing item. :func:`envelope` reproduces
that: codes are strings when every item succeeded, integers otherwise. The HTTP status is 200
when every item succeeded, 201 when some did ("partially succeeded"), and the failing items'
code (400 if any is 400, else 404) when none did.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from mocks.core.edge import text_problem
from mocks.core.state import TenantState
from mocks.printxpand import errors as X

Json = Any

# -- the messages (one spelling per action; see docs/printxpand.md for the document's variants)
CUSTOMER_CREATED = "Customer created successfully!"
CUSTOMER_UPDATED = "Customer Updated successfully!"
CUSTOMER_BAD_ID = "Please pass valid customer Id!"
CUSTOMER_EMAIL_TAKEN = "A customer with the same email address already exists in an associated website."
CATEGORY_CREATED = "Category created successfully!"
CATEGORY_UPDATED = "Category Updated successfully!"
CATEGORY_BAD = "Please send proper data like id, name and parent id of Category!"
CATEGORY_DELETED = "Category Deleted successfully!"
CATEGORY_NOT_FOUND = "Category Id is not Found!"
PRODUCT_CREATED = "Product Created Successfully!"
PRODUCT_UPDATED = "Product Updated Successfully!"
PRODUCT_BAD = ("Please pass the proper product data like id,name and type. Also, product type must be "
               "either simple or configurable of Magento.")
PRODUCT_BAD_SPECIAL_PRICE = "Please pass vaild special_price."
PRODUCT_BAD_PRICE = "Please pass vaild price."
PRODUCT_BAD_VARIATIONS = "Configurable product and its sub-products must have proper attribute values."
PRODUCT_DELETED = "Product Deleted successfully!"
PRODUCT_NOT_FOUND = "Product Id is Not Found!"
ORDER_CREATED = "Order Created successfully!!"
ORDER_UPDATED = "Order updated successfully!"
ORDER_BAD = ("Please pass proper order data like order_id, sub_total, design_id, item_price, item_qty "
             "and shipping_address.")
ORDER_LENGTHS = "Order design id, item price, and item qty is not equaled"

PRODUCT_BAD_STATUS = "Please pass vaild status: 0 or 1."
PRODUCT_BAD_DESIGNER = "Please pass vaild enable_product_designer: 0 or 1."
PRODUCT_BAD_TIER_PRICE = ('Please pass vaild tier_price: a list of {"price": "<decimal>", "qty": "<number>"} '
                          "with a price of 0 or more and a qty above 0.")
PRODUCT_BAD_IMAGES = 'Please pass vaild images: a list of {"src": "<full path or URL of the image>"}.'
PRODUCT_CATEGORY_MISSING = ("Category Id %s is not Found! Please sync category first: a product cannot be "
                            "assigned to a category that does not exist.")
CUSTOMER_BAD_FIELD = "Please pass valid customer data: %s must be a string."
ORDER_FIELDS_HINT = " (missing or invalid: %s)"

#: bulk requests carry at most this many items; more is a 400 for the whole request, nothing stored
MAX_ITEMS = 1000

PRODUCT_TYPES = ("simple", "configurable")
#: Magento's custom option types (the document lists them under their groups text, file, select, date)
OPTION_GROUPS = {"field": "text", "area": "text", "file": "file", "drop_down": "select", "radio": "select",
                 "checkbox": "select", "multiple": "select", "date": "date", "date_time": "date", "time": "date"}
PRICE_TYPES = ("fixed", "percent")
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$", re.ASCII)
_MISSING = object()


class ItemError(Exception):
    """One item failed; the batch goes on."""

    def __init__(self, code: int, message: str, show_id: bool = True) -> None:
        super().__init__(message)
        self.code, self.message, self.show_id = code, message, show_id


# -- results ----------------------------------------------------------------------------------
def item_result(item_id: Any, code: int, message: str) -> dict[str, Any]:
    """One entry of ``response``: the ONE place per-item results are built.

    ``item_id`` is echoed as sent; ``_MISSING`` leaves ``id`` out (the document omits it when
    the item's own id is the problem). ``code`` is an int here; :func:`envelope` decides its
    JSON type for the whole batch.
    """
    out: dict[str, Any] = {}
    if item_id is not _MISSING:
        out["id"] = item_id
    out.update({"code": code, "status": "success" if code in (200, 201) else "error", "message": message})
    return out


def envelope(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The documented envelope and the HTTP status for a finished batch."""
    ok = [r for r in results if r["status"] == "success"]
    if len(ok) == len(results):
        for r in results:
            r["code"] = str(r["code"])
        return [{"response": results}], 200
    if ok:
        return [{"response": results}], 201
    codes = {int(r["code"]) for r in results}
    return [{"response": results}], 400 if 400 in codes else 404


def injected_failure(index: int, item_id: Any, spec: dict[str, Any] | None) -> tuple[int, str] | None:
    """(code, message) when a scenario's ``item_failures`` spec fails the ``index``-th item (1-based).

    ``spec``: ``every: n`` (items n, 2n, ...), ``first: n``, ``indices: [..]`` (1-based) and/or
    ``ids: [..]``; ``code`` (default 400) and ``message``. A failed item is not written.
    """
    if not spec:
        return None
    try:
        every, first = int(spec.get("every") or 0), int(spec.get("first") or 0)
        hit = (every > 0 and index % every == 0) or index <= first \
            or index in list(spec.get("indices") or []) or str(item_id) in {str(i) for i in spec.get("ids") or []}
        code = int(spec.get("code", 400))
    except (TypeError, ValueError):
        return None
    if not hit:
        return None
    return (code if 100 <= code <= 599 else 400), str(spec.get("message") or "Could not save the item.")


def run_batch(items: list[tuple[Any, Callable[[], tuple[int, str]], Any]],
              failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Each (id, step, item as sent): one result per item. Text the store cannot hold fails its
    own item with 400 (the edge left the items' text to the batch, ``Api.bulk_items``)."""
    results = []
    for index, (item_id, step, sent) in enumerate(items, start=1):
        try:
            bad = text_problem(sent)
            if bad is not None:
                item_id = _MISSING if text_problem(item_id) else item_id
                raise ItemError(400, f"Invalid value at {bad['pointer'] or '/'}: the text {bad['reason']}.")
            injected = injected_failure(index, item_id, failures)
            if injected is not None:
                raise ItemError(*injected)
            code, message = step()
            results.append(item_result(item_id, code, message))
        except ItemError as exc:
            shown = exc.show_id and isinstance(item_id, (str, int)) and not isinstance(item_id, bool)
            results.append(item_result(item_id if shown else _MISSING, exc.code, exc.message))
    return envelope(results)


# -- helpers ----------------------------------------------------------------------------------
def entries(body: Json, root: str) -> list[tuple[str, Any]]:
    """The ``{"<root>": {"<key>": item, ...}}`` map of a create call, in order."""
    if not isinstance(body, dict) or root not in body:
        raise X.missing_root(root)
    value = body[root]
    if not isinstance(value, dict):
        raise X.wrong_type(root, "object")
    if len(value) > MAX_ITEMS:
        raise X.too_many(root, len(value), MAX_ITEMS)
    return list(value.items())


def id_list(body: Json, root: str) -> list[Any]:
    """The ``{"<root>": [id, ...]}`` list of a delete call."""
    if not isinstance(body, dict) or root not in body:
        raise X.missing_root(root)
    value = body[root]
    if not isinstance(value, list):
        raise X.wrong_type(root, "array")
    if len(value) > MAX_ITEMS:
        raise X.too_many(root, len(value), MAX_ITEMS)
    return value


def id_text(value: Any) -> str | None:
    """An id as stored (a non-empty string of digits/letters), or None if it is not usable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, str):
        text = value.strip()
        if text and text != "0" and len(text) <= 64 and re.fullmatch(r"[A-Za-z0-9_\-.]+", text):
            return text
    return None


def text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def number_or_blank(value: Any) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value >= 0
    return isinstance(value, str) and bool(_NUMBER.match(value)) and float(value) >= 0


def flag(value: Any, default: int = 1) -> int | None:
    """0/1 as int, or None when it is not a 0/1 value."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if value in (0, 1, "0", "1"):
        return int(value)
    return None


def scalar(value: Any) -> bool:
    """A value a "String" field of the tables may hold: a string or a number (PHP casts them)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def count(value: Any, minimum: int = 0) -> int | None:
    """A whole number >= ``minimum`` given as a number or a numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if value >= minimum else None
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value):
        number = int(value)
        return number if number >= minimum else None
    if isinstance(value, str) and _NUMBER.match(value) and float(value).is_integer() and float(value) >= minimum:
        return int(float(value))
    return None


def check_tier_prices(value: Any) -> list[dict[str, str]]:
    """``tier_price``: a list of {price, qty} (table: Json Array({"price":"value","qty":"value"}))."""
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise ItemError(404, PRODUCT_BAD_TIER_PRICE)
    out = []
    for tier in value:
        if not isinstance(tier, dict) or text(tier.get("price")) == "" or not number_or_blank(tier.get("price")):
            raise ItemError(404, PRODUCT_BAD_TIER_PRICE)
        qty = tier.get("qty")
        if not scalar(qty) or not _NUMBER.match(str(qty)) or float(qty) <= 0:
            raise ItemError(404, PRODUCT_BAD_TIER_PRICE)
        out.append({"price": text(tier["price"]).strip(), "qty": text(qty).strip()})
    return out


def check_images(value: Any) -> list[dict[str, str]]:
    """``images``: a list of {"src": path} (table: Array() {"src":"Path"})."""
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise ItemError(404, PRODUCT_BAD_IMAGES)
    out = []
    for image in value:
        if not isinstance(image, dict) or not isinstance(image.get("src"), str) or not image["src"].strip():
            raise ItemError(404, PRODUCT_BAD_IMAGES)
        out.append({"src": image["src"].strip()})
    return out


def option_error(index: int, option: Any, reason: str) -> ItemError:
    title = text(option.get("title")).strip() if isinstance(option, dict) else ""
    label = f'custom_options[{index}]' + (f' ("{title}")' if title else "")
    return ItemError(404, f"Please pass vaild custom_options: {label} {reason}")


def check_custom_options(value: Any) -> list[dict[str, Any]]:
    """``custom_options``, Magento's product options, checked type by type.

    Every option: ``title`` and ``type`` required; ``is_require`` 0/1, ``sort_order`` a whole
    number, ``price`` a decimal, ``price_type`` fixed/percent, ``sku`` a string (all optional).
    By group: text (field, area) ``max_characters``; file ``file_extension`` (comma separated),
    ``image_size_x``/``image_size_y``; select (drop_down, radio, checkbox, multiple) a non-empty
    ``values`` list whose entries need a ``title`` (``price``, ``price_type``, ``sort_order``,
    ``sku``, ``is_delete`` optional); date (date, date_time, time) nothing more. Fields of another
    group are ignored (the document's drop_down example carries max_characters), as Magento does.
    """
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise ItemError(404, "Please pass vaild custom_options: a list of options.")
    out = []
    for index, option in enumerate(value):
        if not isinstance(option, dict):
            raise option_error(index, option, "must be an object")
        title = option.get("title")
        if not scalar(title) or not str(title).strip():
            raise option_error(index, option, "needs a title")
        kind = text(option.get("type")).strip().lower()
        if kind not in OPTION_GROUPS:
            raise option_error(index, option, f'has type "{text(option.get("type"))}"; use one of '
                                              + ", ".join(OPTION_GROUPS))
        group = OPTION_GROUPS[kind]
        clean: dict[str, Any] = {"title": str(title).strip(), "type": kind}
        if flag(option.get("is_require"), default=0) is None:
            raise option_error(index, option, "is_require must be 0 or 1")
        clean["is_require"] = flag(option.get("is_require"), default=0)
        if "sort_order" in option and option["sort_order"] not in ("", None):
            if count(option["sort_order"]) is None:
                raise option_error(index, option, "sort_order must be a whole number")
            clean["sort_order"] = count(option["sort_order"])
        if not number_or_blank(option.get("price")):
            raise option_error(index, option, "price must be a decimal")
        clean["price"] = text(option.get("price"))
        price_type = text(option.get("price_type")).strip().lower() or "fixed"
        if price_type not in PRICE_TYPES:
            raise option_error(index, option, "price_type must be fixed or percent")
        clean["price_type"] = price_type
        if option.get("sku") is not None and not scalar(option.get("sku")):
            raise option_error(index, option, "sku must be a string")
        clean["sku"] = text(option.get("sku"))
        if group == "text":
            if option.get("max_characters") not in (None, "") and count(option["max_characters"]) is None:
                raise option_error(index, option, "max_characters must be a whole number")
            clean["max_characters"] = count(option.get("max_characters")) or 0
        elif group == "file":
            extensions = option.get("file_extension")
            if extensions not in (None, "") and (not isinstance(extensions, str) or not all(
                    re.fullmatch(r"\.?[A-Za-z0-9]{1,10}", e.strip()) for e in extensions.split(","))):
                raise option_error(index, option, 'file_extension must be extensions separated by commas ("png,jpg")')
            clean["file_extension"] = text(extensions).replace(" ", "")
            for axis in ("image_size_x", "image_size_y"):
                if option.get(axis) not in (None, "") and count(option[axis]) is None:
                    raise option_error(index, option, f"{axis} must be a whole number of pixels")
                clean[axis] = str(count(option.get(axis)) or 0)
        elif group == "select":
            values = option.get("values")
            if not isinstance(values, list) or not values:
                raise option_error(index, option, f"of type {kind} needs a non-empty values list")
            checked = [check_option_value(index, option, n, v) for n, v in enumerate(values)]
            clean["values"] = [v for v in checked if not v["is_delete"]]  # is_delete 1 drops a value
        out.append(clean)
    return out


def check_option_value(index: int, option: dict[str, Any], n: int, value: Any) -> dict[str, Any]:
    where = f"values[{n}]"
    if not isinstance(value, dict) or not scalar(value.get("title")) or not str(value.get("title")).strip():
        raise option_error(index, option, f"{where} needs a title")
    if not number_or_blank(value.get("price")):
        raise option_error(index, option, f"{where} price must be a decimal")
    price_type = text(value.get("price_type")).strip().lower() or "fixed"
    if price_type not in PRICE_TYPES:
        raise option_error(index, option, f"{where} price_type must be fixed or percent")
    if value.get("sort_order") not in (None, "") and count(value["sort_order"]) is None:
        raise option_error(index, option, f"{where} sort_order must be a whole number")
    if flag(value.get("is_delete"), default=0) is None:
        raise option_error(index, option, f"{where} is_delete must be 0 or 1")
    return {"title": str(value["title"]).strip(), "value": text(value.get("value")),
            "sort_order": count(value.get("sort_order")) or 0, "price": text(value.get("price")),
            "price_type": price_type, "sku": text(value.get("sku")),
            "is_delete": flag(value.get("is_delete"), default=0)}


def split_ids(value: Any) -> list[str]:
    if isinstance(value, list):
        parts = [text(v) for v in value]
    else:
        parts = text(value).split(",")
    return [p.strip() for p in parts if p.strip() and p.strip() != "0"]


# -- customers --------------------------------------------------------------------------------
class Customers:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.customers = state.collection("customers")

    def email_owner(self, email: str) -> str | None:
        low = email.strip().lower()
        for cid, customer in self.customers.items():
            if customer.get("email", "").lower() == low:
                return cid
        return None

    def save_one(self, item: Any) -> tuple[int, str]:
        if not isinstance(item, dict):
            raise ItemError(404, CUSTOMER_BAD_ID, show_id=False)
        cid = id_text(item.get("id"))
        if cid is None:
            raise ItemError(404, CUSTOMER_BAD_ID, show_id=False)
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
                  "email": email, "created_at": now, "updated_at": now}
        if not self.customers.add(cid, record):  # a racing call created it first
            return self.save_one(item)
        return 200, CUSTOMER_CREATED

    def create(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return run_batch([(item.get("id") if isinstance(item, dict) else None, lambda item=item: self.save_one(item), item)
                          for _, item in entries(body, "customer")], failures)


# -- categories -------------------------------------------------------------------------------
class Categories:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.categories = state.collection("categories")
        self.products = state.collection("products")

    def save_one(self, item: Any) -> tuple[int, str]:
        if not isinstance(item, dict):
            raise ItemError(404, CATEGORY_BAD, show_id=False)
        cid = id_text(item.get("id"))
        if cid is None:
            raise ItemError(404, CATEGORY_BAD, show_id=False)
        if any(item.get(k) is not None and not scalar(item[k]) for k in ("name", "parent_id", "status")):
            raise ItemError(404, CATEGORY_BAD)
        name = text(item.get("name")).strip()
        parent = text(item.get("parent_id")).strip()
        parent = "" if parent in ("", "0") else parent
        status = flag(item.get("status"))
        if not name or status is None or parent == cid:
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
            record["created_at"] = now
            self.categories.put(cid, record)
            return 200, CATEGORY_CREATED
        self.categories.put(cid, record)
        return 200, CATEGORY_UPDATED

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
        if cid is None or self.categories.lookup(cid) is None:
            raise ItemError(404, CATEGORY_NOT_FOUND)
        gone = self.subtree(cid)  # Magento deletes a category with its children
        for key in gone:
            self.categories.delete(key)
        gone_set = set(gone)
        for pid, product in self.products.items():
            if gone_set.intersection(product.get("category_ids", [])):
                self.products.update(pid, lambda old: None if old is None else {
                    **old, "category_ids": [c for c in old.get("category_ids", []) if c not in gone_set]})
        return 200, CATEGORY_DELETED

    def create(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return run_batch([(item.get("id") if isinstance(item, dict) else None, lambda item=item: self.save_one(item), item)
                          for _, item in entries(body, "category")], failures)

    def delete(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return run_batch([(raw, lambda raw=raw: self.delete_one(raw), raw) for raw in id_list(body, "category")], failures)


# -- products ---------------------------------------------------------------------------------
class Products:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.products = state.collection("products")
        self.categories = state.collection("categories")

    def categories_of(self, item: dict[str, Any]) -> list[str]:
        """The product's categories, all of which must exist.

        The document: "sync category first either product is not assigned in the category". A
        product naming a category the store does not have fails in its own result with a message
        that says so (nothing is half-assigned), so an integration learns to sync categories first.
        The table names ``category_ids``, the examples send ``category_id``; both are read.
        """
        raw = item.get("category_ids", item.get("category_id", ""))
        if raw is not None and not scalar(raw) and not (isinstance(raw, list) and all(scalar(v) for v in raw)):
            raise ItemError(404, "Please pass vaild category_ids: category ids separated by commas.")
        wanted = list(dict.fromkeys(split_ids(raw)))
        missing = [c for c in wanted if id_text(c) is None or self.categories.lookup(c) is None]
        if missing:
            raise ItemError(404, PRODUCT_CATEGORY_MISSING % ",".join(missing))
        return wanted

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
        if pid is None or not scalar(name) or not str(name).strip() or kind not in PRODUCT_TYPES:
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
        if existing is None:
            return 200, PRODUCT_CREATED
        return 200, PRODUCT_UPDATED

    def delete_one(self, raw: Any) -> tuple[int, str]:
        pid = id_text(raw)
        if pid is None or not self.products.delete(pid):
            raise ItemError(404, PRODUCT_NOT_FOUND)
        return 200, PRODUCT_DELETED

    def create(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return run_batch([(item.get("id") if isinstance(item, dict) else None, lambda item=item: self.save_one(item), item)
                          for _, item in entries(body, "product")], failures)

    def delete(self, body: Json, failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
        return run_batch([(raw, lambda raw=raw: self.delete_one(raw), raw) for raw in id_list(body, "product")], failures)


# -- orders -----------------------------------------------------------------------------------
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
            if not scalar(address.get("name")) or not str(address.get("name")).strip():
                bad.append("shipping_address.name")
            bad += [f"shipping_address.{k}" for k in ADDRESS_FIELDS
                    if k != "name" and address.get(k) is not None and not scalar(address[k])]
        if item.get("status") is not None and not scalar(item["status"]):
            bad.append("status")
        return bad

    def save_one(self, item: Any) -> tuple[int, str]:
        if not isinstance(item, dict):
            raise ItemError(404, ORDER_BAD, show_id=False)
        oid = id_text(item.get("order_id"))
        if oid is None:
            raise ItemError(404, ORDER_BAD + ORDER_FIELDS_HINT % "order_id", show_id=False)
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
        return run_batch([(item.get("order_id") if isinstance(item, dict) else None,
                           lambda item=item: self.save_one(item), item) for _, item in entries(body, "order")], failures)
