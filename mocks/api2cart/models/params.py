"""API2Cart request parameters: the query merged with the JSON body, read with the vendor's
coercion (:class:`Params`), its date formats and the field selection every list and info method
shares (``params`` / ``exclude`` / ``response_fields``)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator

from mocks.api2cart import errors as X
from mocks.core.coerce import to_bool, to_int, to_number

DATE_FORMAT = "Y-m-d\\TH:i:sO"


# -- dates ------------------------------------------------------------------------------------
def a2c_date(ts: float) -> dict[str, Any]:
    """The vendor's A2CDateTime: ISO 8601 with a numeric offset and its PHP format string."""
    value = dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")
    return {"value": value, "format": DATE_FORMAT}


def plain_date(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def parse_date(name: str, value: str) -> float:
    """``created_from`` and friends: 'Y-m-d H:i:s', 'Y-m-d' or ISO 8601."""
    text = value.strip().replace("T", " ")
    text = re.sub(r"(\+00:?00|Z)$", "", text).strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc).timestamp()
        except ValueError:
            continue
    raise X.invalid(name, "date (Y-m-d H:i:s)")


class Params:
    """The request's parameters (query merged with the JSON body) with vendor-style coercion."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __contains__(self, name: str) -> bool:
        return name in self.data and self.data[name] not in (None, "")

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default) if name in self else default

    def str(self, name: str, default: str | None = None) -> str | None:
        if name not in self:
            return default
        value = self.data[name]
        if isinstance(value, (dict, list)):
            raise X.invalid(name, "string")
        return str(value)

    def copy_to(self, target: dict[str, Any], *names: str, **renamed: str) -> None:
        """Set ``target[name]`` to the text of each parameter of ``names`` the request has, and
        ``target[field]`` from the parameter ``renamed[field]`` (``alt="label"``)."""
        for field, name in [*((n, n) for n in names), *renamed.items()]:
            if name in self:
                target[field] = self.str(name)

    def need(self, name: str) -> str:
        value = self.str(name)
        if value is None:
            raise X.required(name)
        return value

    def int(self, name: str, default: int | None = None, unsigned: bool = True) -> int | None:
        if name not in self:
            return default
        out = to_int(self.data[name])
        if out is None:
            raise X.invalid(name, "unsigned integer" if unsigned else "integer")
        if unsigned and out < 0:
            raise X.invalid(name, "unsigned integer")
        return out

    def num(self, name: str, default: float | None = None) -> float | None:
        if name not in self:
            return default
        out = to_number(self.data[name])
        if out is None:
            raise X.invalid(name, "decimal")
        return out

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        if name not in self:
            return default
        out = to_bool(self.data[name])
        if out is None:
            raise X.invalid(name, "boolean")
        return out

    def ids(self, name: str) -> list[str] | None:
        value = self.str(name)
        if value is None:
            return None
        return [v.strip() for v in value.split(",") if v.strip()]


def entries(raw: Any, name: str, hint: str = "array of objects") -> Iterator[Params]:
    """The objects of the list parameter ``name``, one :class:`Params` each: 114 when the list is
    missing or empty (checked at once), 109 ``hint`` for an entry that is not an object (when reached)."""
    if not isinstance(raw, list) or not raw:
        raise X.required(name)

    def each() -> Iterator[Params]:
        for entry in raw:
            if not isinstance(entry, dict):
                raise X.invalid(name, hint)
            yield Params(entry)
    return each()


# -- field selection (params / exclude / response_fields) -------------------------------------
#: what ``params=force_all`` always answers on a store entity (the platform's extra data;
#: ``{}`` when the entity has none)
FORCE_ALL_EXTRAS = ("additional_fields", "custom_fields")


def select(entity: dict[str, Any], params: str | None, exclude: str | None, default: str,
           extras: tuple[str, ...] = FORCE_ALL_EXTRAS) -> dict[str, Any]:
    """``params``: a comma list of fields or ``force_all``; ``exclude`` works with force_all.
    ``force_all`` includes ``extras`` (``additional_fields`` and ``custom_fields`` of store entities)."""
    wanted = [p.strip() for p in (params or default).split(",") if p.strip()]
    if "force_all" in wanted:
        out = dict(entity)
        for name in extras:
            if out.get(name) is None:
                out[name] = {}
        for name in (exclude or "").split(","):
            out.pop(name.strip(), None)
        return out
    out = {k: entity[k] for k in wanted if k in entity}
    if "id" in entity and "id" not in out:
        out = {"id": entity["id"], **out}
    return out


def parse_response_fields(spec: str) -> dict[str, Any] | None:
    """``{return_code,pagination,result{product{id,name}}}`` -> nested dict of wanted keys."""
    text = spec.strip()
    if not text:
        return None
    if not text.startswith("{"):
        text = "{" + text + "}"
    pos = 0

    def parse() -> dict[str, Any]:
        nonlocal pos
        if text[pos] != "{":
            raise ValueError
        pos += 1
        out: dict[str, Any] = {}
        name = ""
        while pos < len(text):
            ch = text[pos]
            if ch == "{":
                if not name.strip():
                    raise ValueError
                out[name.strip()] = parse()
                name = ""
                continue
            pos += 1
            if ch == ",":
                if name.strip():
                    out[name.strip()] = True
                name = ""
            elif ch == "}":
                if name.strip():
                    out[name.strip()] = True
                return out
            else:
                name += ch
        raise ValueError

    try:
        tree = parse()
    except (ValueError, IndexError):
        raise X.invalid("response_fields") from None
    if pos != len(text):
        raise X.invalid("response_fields")
    return tree


def apply_response_fields(data: Any, tree: dict[str, Any] | bool) -> Any:
    if tree is True:
        return data
    if isinstance(data, list):
        return [apply_response_fields(item, tree) for item in data]
    if isinstance(data, dict):
        return {k: apply_response_fields(v, tree[k]) for k, v in data.items() if k in tree}  # type: ignore[index]
    return data


def public(entity: dict[str, Any]) -> dict[str, Any]:
    """The stored entity without sandbox bookkeeping (keys starting with '_')."""
    return {k: v for k, v in entity.items() if not k.startswith("_")}
