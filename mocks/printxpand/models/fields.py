"""Reading PrintXpand item fields as its tables describe them: ids, strings, numbers, 0/1 flags,
tier prices, images and custom options."""
from __future__ import annotations

import re
from typing import Any

from mocks.core.coerce import is_blank, zero_one
from mocks.printxpand.models.batch import ItemError
from mocks.printxpand.models.messages import PRODUCT_BAD_IMAGES, PRODUCT_BAD_TIER_PRICE

PRODUCT_TYPES = ("simple", "configurable")
#: Magento's custom option types (the document lists them under their groups text, file, select, date)
OPTION_GROUPS = {"field": "text", "area": "text", "file": "file", "drop_down": "select", "radio": "select",
                 "checkbox": "select", "multiple": "select", "date": "date", "date_time": "date", "time": "date"}
PRICE_TYPES = ("fixed", "percent")
#: the whitespace allowed around a number: ASCII's (``\s`` under ``re.ASCII``), spelled out so that the
#: contract's patterns (mocks/printxpand/contract.py) mean the same in every regex dialect
SPACE = r"[\x09-\x0d\x20]"
_NUMBER = re.compile(rf"^{SPACE}*[+-]?(\d+(\.\d*)?|\.\d+){SPACE}*$", re.ASCII)


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


def required_item_id(item: Any, id_field: str, message: str, no_id_message: str | None = None) -> str:
    """A batch item's id as stored (its ``id_field`` read by :func:`id_text`). The item fails with
    404 and no id shown when it is not an object (``message``) or its id is not usable
    (``no_id_message``; ``message`` when not given)."""
    if not isinstance(item, dict):
        raise ItemError(404, message, show_id=False)
    key = id_text(item.get(id_field))
    if key is None:
        raise ItemError(404, no_id_message or message, show_id=False)
    return key


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
    """0/1 as int (``default`` when absent or blank), or None when it is not a 0/1 value."""
    if value is None or value == "":
        return default
    return zero_one(value)


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


def list_or_blank(value: Any, message: str) -> list[Any]:
    """A list field's items: none when the field is absent or blank; the item fails (404,
    ``message``) when it is anything but a list."""
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise ItemError(404, message)
    return value


def check_tier_prices(value: Any) -> list[dict[str, str]]:
    """``tier_price``: a list of {price, qty} (table: Json Array({"price":"value","qty":"value"}))."""
    out = []
    for tier in list_or_blank(value, PRODUCT_BAD_TIER_PRICE):
        if not isinstance(tier, dict) or text(tier.get("price")) == "" or not number_or_blank(tier.get("price")):
            raise ItemError(404, PRODUCT_BAD_TIER_PRICE)
        qty = tier.get("qty")
        if not scalar(qty) or not _NUMBER.match(str(qty)) or float(qty) <= 0:
            raise ItemError(404, PRODUCT_BAD_TIER_PRICE)
        out.append({"price": text(tier["price"]).strip(), "qty": text(qty).strip()})
    return out


def check_images(value: Any) -> list[dict[str, str]]:
    """``images``: a list of {"src": path} (table: Array() {"src":"Path"})."""
    out = []
    for image in list_or_blank(value, PRODUCT_BAD_IMAGES):
        if not isinstance(image, dict) or not isinstance(image.get("src"), str) or is_blank(image["src"]):
            raise ItemError(404, PRODUCT_BAD_IMAGES)
        out.append({"src": image["src"].strip()})
    return out


def option_error(index: int, option: Any, reason: str) -> ItemError:
    title = text(option.get("title")).strip() if isinstance(option, dict) else ""
    label = f'custom_options[{index}]' + (f' ("{title}")' if not is_blank(title) else "")
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
    out = []
    for index, option in enumerate(list_or_blank(value, "Please pass vaild custom_options: a list of options.")):
        if not isinstance(option, dict):
            raise option_error(index, option, "must be an object")
        title = option.get("title")
        if not scalar(title) or is_blank(str(title)):
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
    if not isinstance(value, dict) or not scalar(value.get("title")) or is_blank(str(value.get("title"))):
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
