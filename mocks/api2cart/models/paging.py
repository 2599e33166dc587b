"""API2Cart paging, sorting and date filters: ``start``/``count`` or ``page_cursor``, ``sort_by``
/ ``sort_direction`` and ``created_from`` and friends."""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from mocks.api2cart import errors as X
from mocks.api2cart.models.params import Params, parse_date
from mocks.core.coerce import is_ascii_digits
from mocks.core.edge import issue_tag, read_tag

MAX_COUNT = 250


def encode_cursor(start: int, count: int) -> str:
    return issue_tag({"s": start, "c": count}, "api2cart page cursor")


def decode_cursor(tag: str) -> tuple[int, int]:
    """A cursor this sandbox issued (edge.read_tag: forged or edited cursors are refused)."""
    try:
        data = read_tag(tag, "api2cart page cursor")
        start, count = data["s"], data["c"]
        if type(start) is not int or type(count) is not int or not 1 <= count <= MAX_COUNT:
            raise ValueError
        return start, count
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise X.invalid("page_cursor") from None


CURSOR_COMPANIONS = {"page_cursor", "count", "params", "exclude", "response_fields", "store_id", "lang_id",
                     "currency_id"}


def window(p: Params, default_count: int = 10) -> tuple[int, int]:
    """(start, count) from start/count or page_cursor; count above 250 -> 111. ``count`` is a page
    size, not a filter: with a cursor it sets the size of the page the cursor starts (the official
    SDK's paging loops send both)."""
    cursor = p.str("page_cursor")
    if cursor is not None:
        others = sorted(k for k in p.data if k not in CURSOR_COMPANIONS and k in p)
        if others:  # the vendor: page_cursor "can't be used with any other filtering parameter"
            raise X.A2CError(109, f"Parameter 'page_cursor' can't be used with other filtering parameters ({others[0]}).")
        start, count = decode_cursor(cursor)
        size = p.int("count")
        if size is not None:
            if size > MAX_COUNT:
                raise X.too_many(MAX_COUNT)
            count = size
        return start, count
    start = p.int("start", 0) or 0
    count = p.int("count", default_count)
    assert count is not None
    if count > MAX_COUNT:
        raise X.too_many(MAX_COUNT)
    return start, count


def page(items: list[dict[str, Any]], start: int, count: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    chunk = items[start:start + count] if count else []
    nxt = encode_cursor(start + count, count) if count and start + count < len(items) else None
    prev = encode_cursor(max(0, start - count), count) if count and start > 0 else None
    return chunk, {"previous": prev, "next": nxt}


def id_key(item: dict[str, Any], field: str = "id") -> tuple[int, str]:
    value = str(item.get(field, ""))
    return (int(value), value) if is_ascii_digits(value) else (1 << 62, value)


#: the official document's own example for ``sort_by`` (product.list, customer.list): the record's id
SORT_ALIASES = {"value_id": "id"}


def sort_items(items: list[dict[str, Any]], p: Params, default: str, allowed: dict[str, Callable[[dict], Any]]) -> list[dict[str, Any]]:
    by = p.str("sort_by", default) or default
    if by not in allowed and SORT_ALIASES.get(by) in allowed:
        by = SORT_ALIASES[by]
    if by not in allowed:
        raise X.not_allowed("sort_by", allowed)
    direction = (p.str("sort_direction", "asc") or "asc").lower()
    if direction not in ("asc", "desc"):
        raise X.not_allowed("sort_direction", ("asc", "desc"))
    return sorted(items, key=allowed[by], reverse=direction == "desc")


def id_filters(items: Iterable[dict[str, Any]], p: Params, ids_param: str) -> list[dict[str, Any]]:
    """The records whose id is in the comma list ``ids_param`` (when given) and above ``since_id``."""
    out = list(items)
    ids = p.ids(ids_param)
    if ids is not None:
        out = [i for i in out if i["id"] in ids]
    if "since_id" in p:
        since = p.int("since_id", 0) or 0
        out = [i for i in out if id_key(i)[0] > since]
    return out


def date_filters(items: Iterable[dict[str, Any]], p: Params, created: str, modified: str) -> list[dict[str, Any]]:
    out = list(items)
    for name, field, cmp in (("created_from", created, 1), ("created_to", created, -1),
                             ("modified_from", modified, 1), ("modified_to", modified, -1)):
        value = p.str(name)
        if value is None:
            continue
        bound = parse_date(name, value)
        out = [i for i in out if (i.get("_ts", {}).get(field, 0) - bound) * cmp >= 0]
    return out
