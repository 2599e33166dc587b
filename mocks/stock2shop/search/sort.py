"""Sorting: the ``sort`` specification, the multi-key order (missing values last, or first with
``missing: _first``), ``search_after`` positions and the ``sort`` values a hit reports."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from mocks.core.coerce import to_number
from mocks.stock2shop.search.docs import Doc
from mocks.stock2shop.search.values import SearchError, is_date_field, parse_bound_date, sort_key, sort_value

#: sort "fields" every index has (no mapping needed)
BUILT_IN = ("_score", "_id", "_doc")


def parse_sort(spec: Any) -> list[tuple[str, bool, str]]:
    """[(field, descending, missing)]"""
    return [(f, d, m) for f, d, m, _ in parse_sort_full(spec)]


def parse_sort_full(spec: Any) -> list[tuple[str, bool, str, str | None]]:
    """[(field, descending, missing, unmapped_type)]"""
    if spec is None:
        return []
    entries = spec if isinstance(spec, list) else [spec]
    out: list[tuple[str, bool, str, str | None]] = []
    for entry in entries:
        if isinstance(entry, str):
            out.append((entry, entry == "_score", "_last", None))
            continue
        if not isinstance(entry, dict) or not entry:
            raise SearchError("[sort] entries must be field names or objects")
        for field, how in entry.items():
            unmapped = None
            if isinstance(how, str):
                order, missing = how, "_last"
            elif isinstance(how, dict):
                order = how.get("order", "desc" if field == "_score" else "asc")
                missing = how.get("missing", "_last")
                unmapped = how.get("unmapped_type")
                unknown = set(how) - {"order", "unmapped_type", "missing", "mode", "format", "nested"}
                if unknown:
                    raise SearchError(f"[sort] does not support [{sorted(unknown)[0]}]")
            else:
                raise SearchError(f"[sort] bad specification for [{field}]")
            if order not in ("asc", "desc"):
                raise SearchError(f"[sort] order must be asc or desc, got {order!r}")
            out.append((field, order == "desc", str(missing), None if unmapped is None else str(unmapped)))
    return out


def field_kind(docs: Iterable[Doc], field: str) -> str | None:
    """How the index maps a field, as Elasticsearch's dynamic mapping would from the documents:
    ``date``, ``number``, ``boolean`` or ``keyword``; None when no document has a value (unmapped).
    Stops at the first document holding a value."""
    for doc in docs:
        for v in doc.values(field, cache=False):
            return value_kind(field, v)
    return None


def value_kind(field: str, value: Any) -> str:
    """The mapping dynamic mapping gives a field from one value (dates by the field's name)."""
    if is_date_field(field):
        return "date"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "keyword"


def check_sort_mapping(sort: list[tuple[str, bool, str, str | None]], kind: Callable[[str], str | None]) -> None:
    """Elasticsearch's 400 for a sort on a field no document has, unless ``unmapped_type`` says how
    to treat it (then every document sorts as missing)."""
    for field, _, _, unmapped in sort:
        if field not in BUILT_IN and unmapped is None and kind(field) is None:
            raise SearchError(f"query_shard_exception: No mapping found for [{field}] in order to sort on")


def check_after_value(value: Any, field: str, kind: str | None) -> None:
    """A ``search_after`` value must parse as the sort field's type, as Elasticsearch converts it:
    a date through the date parser (``parse_exception``), a number as a number."""
    if value is None or field in BUILT_IN or kind is None:
        return
    if kind == "date":
        parse_bound_date(field, value, None)  # raises parse_exception: failed to parse date field [...]
    elif kind == "number" and (isinstance(value, bool) or to_number(value) is None):
        raise SearchError(f"illegal_argument_exception: Failed to parse search_after value for field [{field}].")


def _sort_tuple(doc: Doc, score: float, sort: list[tuple[str, bool, str]]) -> list[Any]:
    values = []
    for field, desc, _ in sort:
        if field == "_score":
            values.append(score)
        elif field in ("_id", "_doc"):
            values.append(doc.id)
        else:
            vs = doc.values(field)
            chosen = (max if desc else min)(vs, key=sort_key) if vs else None
            values.append(sort_value(chosen))
    return values


def _after_key(value: Any, field: str) -> Any:
    if field == "_score":
        n = to_number(value)
        if n is None:
            raise SearchError("[search_after] value for [_score] must be a number")
        return n
    if value is None:
        return None
    if field in ("_id", "_doc"):
        return sort_key(str(value))
    return sort_key(value)


def _is_after(doc_keys: list[Any], after: list[Any], sort: list[tuple[str, bool, str]]) -> bool:
    """Is a document (its per-sort-field keys) strictly after the ``search_after`` position?"""
    for key, wanted, (_, desc, missing) in zip(doc_keys, after, sort):
        if key == wanted:
            continue
        if key is None or wanted is None:  # missing values sort last (or first with missing: _first)
            first = missing == "_first"
            return (key is None) != first
        return key < wanted if desc else key > wanted
    return False


def _doc_keys(doc: Doc, score: float, sort: list[tuple[str, bool, str]]) -> list[Any]:
    out = []
    for field, desc, _ in sort:
        if field == "_score":
            out.append(score)
        elif field in ("_id", "_doc"):
            out.append(sort_key(doc.id))
        else:
            ks = doc.keys(field)
            out.append((max(ks) if desc else min(ks)) if ks else None)
    return out


def _order(matched: list[tuple[Doc, float]], sort: list[tuple[str, bool, str]]) -> list[tuple[Doc, float]]:
    """Stable multi-key sort: last key first; missing values last in either direction."""
    if not sort:
        return sorted(matched, key=lambda x: -x[1])
    ordered = matched
    for field, desc, missing in reversed(sort):
        present = []
        for d, s in ordered:
            if field == "_score":
                k: Any = s
            elif field in ("_id", "_doc"):
                k = sort_key(d.id)
            else:
                ks = d.keys(field)
                k = (max(ks) if desc else min(ks)) if ks else None
            present.append((d, s, k))
        have = [x for x in present if x[2] is not None]
        lack = [x for x in present if x[2] is None]
        have.sort(key=lambda x: x[2], reverse=desc)
        ordered = [(d, s) for d, s, _ in (lack + have if missing == "_first" else have + lack)]
    return ordered
