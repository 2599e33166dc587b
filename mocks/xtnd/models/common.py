"""What every XTND model shares: the emit callable, the wire's timestamps (ISO 8601 UTC with
milliseconds, ``2024-01-01T00:00:00.000Z``; that fixed format sorts like time, so "changed
since" filters compare strings), paging, money, the 404 of a look-up (:func:`found_or_raise`) and
the sandbox's masterdata changes (:func:`reject_unknown_fields`, :func:`change_fields`)."""
from __future__ import annotations

import copy
import datetime as dt
import math
from decimal import Decimal
from typing import Any, Callable

from mocks.core.state import Collection
from mocks.xtnd import errors as X

Emit = Callable[[str, dict[str, Any]], None]

DEFAULT_PAGE_SIZE = 100
#: open-ended validity (``validTo: null``) compares as later than any time
FOREVER = "9999-12-31T23:59:59.999Z"


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: str, field: str) -> str:
    """A client timestamp in the wire format: an ISO 8601 date (midnight UTC) or a date-time with
    a zone (``Z`` or an offset; the OpenAPI document asks for one, a zoneless one is read as UTC).
    Times beyond the first or last representable instant clamp to it (they still compare right)."""
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
        else:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise X.Invalid(field, f"'{value}' is not an ISO 8601 date or date-time") from None
    try:
        utc = parsed.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        return "0001-01-01T00:00:00.000Z" if parsed.year < 5000 else FOREVER
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
            f".{utc.microsecond // 1000:03d}Z")


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document without its internal (underscore) fields."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def paged(items: list[Any], page: int, page_size: int) -> dict[str, Any]:
    total = len(items)
    start = (page - 1) * page_size
    return {"page": page, "pageSize": page_size, "totalCount": total,
            "totalPages": max(1, math.ceil(total / page_size)), "items": items[start:start + page_size]}


def money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def found_or_raise(doc: dict[str, Any] | None, kind: str, key: str) -> dict[str, Any]:
    """``doc`` when a look-up (or an update) found it; else the 404 for the ``kind`` named ``key``
    (as the client sent it): ``Customer 'X' was not found``."""
    if doc is None:
        raise X.ResourceNotFound(kind, key)
    return doc


def reject_unknown_fields(data: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    """The 400 naming every field of ``data`` the sandbox may not change (``allowed`` are the ones
    it may; ``what``: "customer", "product")."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        reason = f"is not a {what} field the sandbox can change"
        raise X.Invalid(unknown[0], reason, [(u, reason) for u in unknown[1:]])


def change_fields(collection: Collection, key: str, data: dict[str, Any], now: str, kind: str,
                  number: str) -> tuple[dict[str, Any], list[str]]:
    """Write the fields of ``data`` that differ from the stored document at ``key`` (and
    ``changed: now`` when any does) in one update: (the document, the changed field names, sorted).
    The 404 for the ``kind`` named ``number`` when it is gone."""
    changed: list[str] = []

    def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
        changed.clear()
        if old is None:
            return None
        diff = {k: copy.deepcopy(v) for k, v in data.items() if old.get(k) != v}
        changed.extend(sorted(diff))
        return {**old, **diff, "changed": now} if diff else old

    return found_or_raise(collection.update(key, apply), kind, number), changed


def _changed_filter(docs: list[dict[str, Any]], since: str | None) -> list[dict[str, Any]]:
    if since is None:
        return docs
    bound = parse_time(since, "changedSince")
    return [d for d in docs if d["changed"] >= bound]


def _in(values: list[str] | None) -> set[str] | None:
    return {v.strip().upper() for v in values if v.strip()} if values else None
