"""A small Elasticsearch query evaluator over JSON documents (pure Python, no Flask).

Supported query clauses: ``bool`` (must, filter, should + minimum_should_match, must_not),
``match_all``, ``match_none``, ``term``, ``terms``, ``range`` (gt/gte/lt/lte on numbers and dates
such as ``"2021-08-27 08:23:04"``, date math on ``now``), ``match``, ``match_phrase``,
``multi_match`` (dotted fields, ``^boost``, the ``.autocomplete`` prefix sub-field, operator
or/and), ``exists``, ``prefix``, ``wildcard``, ``ids``, ``nested`` and ``constant_score``. Sorting
on fields and ``_score`` (object or list form), ``from``/``size`` within the 10,000 result window,
``search_after``, ``_source`` includes/excludes and the aggregations ``terms``,
``date_histogram``, ``min``, ``max``, ``avg``, ``sum``, ``value_count`` and ``cardinality``.
Anything else raises :class:`SearchError` naming the clause.

Field values are extracted lazily, one dotted path at a time (arrays of objects contribute every
element, as Elasticsearch's object mapping does). A :class:`DocIndex` over one version of a
collection answers the exact part of a query (``term``/``terms``/``range`` conjunctions) from
postings, per-field sort orders and prefix counts, and a query sorted by a single-valued field
walks that order and stops once the page is full; what it cannot answer exactly is evaluated
document by document on the candidates left.
"""
from __future__ import annotations

import calendar
import gc
import contextvars
import datetime as dt
import fnmatch
import re
from bisect import bisect_left, bisect_right
from itertools import accumulate
from functools import lru_cache
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

Json = Any
_TOKEN = re.compile(r"[0-9a-z]+")


class SearchError(ValueError):
    """The query cannot be evaluated (unsupported or malformed clause)."""


# -- values ---------------------------------------------------------------------------------------
def tokens(value: Any) -> list[str]:
    if value is None or isinstance(value, bool):
        return [str(value).lower()] if isinstance(value, bool) else []
    return _TOKEN.findall(str(value).lower())


_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


@lru_cache(maxsize=262_144)
def _parse_date_text(value: str) -> float | None:
    m = _DATE_RE.match(value)
    if m is None:
        return None
    y, mo, d, h, mi, sec, tz = m.groups()
    try:
        dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))  # validates ranges
    except ValueError:
        return None
    ts = calendar.timegm((int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0), 0, 0, 0))
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        ts -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return float(ts)


def parse_date(value: Any) -> float | None:
    """Epoch seconds of a date string (``2021-08-27 08:23:04``, ``2021-08-27``, ISO-8601), else None."""
    if not isinstance(value, str) or len(value) < 10 or not value[:4].isdigit():
        return None
    return _parse_date_text(value)


_NOW: contextvars.ContextVar[float | None] = contextvars.ContextVar("s2s_search_now", default=None)
_MATH = re.compile(r"([+-])(\d+)([yMwdhHms])")
_UNIT = {"y": 365 * 86_400, "M": 30 * 86_400, "w": 7 * 86_400, "d": 86_400, "h": 3_600, "H": 3_600, "m": 60, "s": 1}


def date_math(expr: str) -> float:
    """``now``, ``now-1d``, ``now+2h``, ``now-1d/d`` (months are 30 days, years 365)."""
    now = _NOW.get()
    if now is None:
        now = dt.datetime.now(dt.timezone.utc).timestamp()
    rest, _, rounding = expr[3:].partition("/")
    pos = 0
    for m in _MATH.finditer(rest):
        if m.start() != pos:
            break
        amount = int(m.group(2)) * _UNIT[m.group(3)]
        now += amount if m.group(1) == "+" else -amount
        pos = m.end()
    if pos != len(rest) or (rounding and rounding not in _UNIT):
        raise SearchError(f"cannot parse date math [{expr}]")
    if rounding:
        unit = _UNIT[rounding]
        now -= now % unit
    return now


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else None
        except ValueError:
            return None
    return None


def same_value(stored: Any, wanted: Any) -> bool:
    """Term equality with Elasticsearch's coercions (``"47" == 47``, ``"true" == true``)."""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return str(stored).lower() == str(wanted).lower()
    if stored == wanted:
        return True
    a, b = _number(stored), _number(wanted)
    if a is not None and b is not None:
        return a == b
    return False


def sort_key(value: Any) -> tuple[int, Any]:
    """Comparable key: numbers, then dates (as epoch ms), then strings."""
    num = _number(value) if not isinstance(value, str) else None
    if num is not None:
        return (0, num)
    date = parse_date(value)
    if date is not None:
        return (0, date * 1000)
    if isinstance(value, str):
        num = _number(value)
        if num is not None:
            return (0, num)
        return (1, value.lower())
    if isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


def sort_value(value: Any) -> Any:
    """What Elasticsearch reports in ``hits.hits[].sort``: dates as epoch milliseconds."""
    date = parse_date(value)
    if date is not None:
        return int(date * 1000)
    if isinstance(value, bool):
        return int(value)
    return value


# -- flattening -----------------------------------------------------------------------------------
def flatten(doc: Json, prefix: str = "") -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if path:
                out.setdefault(path, [])  # the object itself exists
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            out.setdefault(path, [])
            for item in node:
                walk(item, path)
        elif node is not None:
            out.setdefault(path, []).append(node)

    walk(doc, prefix)
    return out


def extract(node: Any, parts: list[str], leaves_only: bool = True) -> list[Any]:
    """Values at a dotted path; arrays at any level contribute every element."""
    out: list[Any] = []

    def walk(n: Any, i: int) -> None:
        if isinstance(n, list):
            for x in n:
                walk(x, i)
            return
        if i == len(parts):
            if n is not None and (not leaves_only or not isinstance(n, dict)):
                if isinstance(n, dict) and not n:
                    return
                out.append(n)
            return
        if isinstance(n, dict):
            child = n.get(parts[i], _MISSING)
            if child is not _MISSING:
                walk(child, i + 1)

    walk(node, 0)
    return out


_MISSING = object()


class Doc:
    """One searchable document: its id, its source and, lazily per field, its values."""

    __slots__ = ("id", "source", "prefix", "_vals", "_keys", "_nested", "_tokens", "_flat")

    def __init__(self, doc_id: str, source: Json, prefix: str = "") -> None:
        self.id = doc_id
        self.source = source
        self.prefix = prefix
        # per-field caches, created on first use (an index over 100,000 documents keeps them all)
        self._vals: dict[str, list[Any]] | None = None
        self._keys: dict[str, list[tuple[int, Any]]] | None = None
        self._nested: dict[str, list[Doc]] | None = None
        self._tokens: dict[str, list[list[str]]] | None = None
        self._flat: dict[str, list[Any]] | None = None

    def _parts(self, field: str) -> list[str] | None:
        if self.prefix:
            if not field.startswith(self.prefix + "."):
                return None
            field = field[len(self.prefix) + 1:]
        return field.split(".")

    def values(self, field: str, cache: bool = True) -> list[Any]:
        """The field's values (``cache=False``: not kept, for one-off passes such as index builds)."""
        vals = self._vals
        hit = None if vals is None else vals.get(field)
        if hit is None:
            if not self.prefix and "." not in field and type(self.source) is dict:
                # a top-level field holding a scalar (the common case): no path walk, nothing kept
                v = self.source.get(field)
                if v is None:
                    return []
                if not isinstance(v, (dict, list)):
                    return [v]
            name = field[: -len(".keyword")] if field.endswith(".keyword") else field
            parts = self._parts(name)
            hit = [] if parts is None else extract(self.source, parts)
            if cache:
                if vals is None:
                    vals = self._vals = {}
                vals[field] = hit
        return hit

    def present(self, field: str) -> bool:
        if self.values(field):
            return True
        parts = self._parts(field)
        return bool(parts) and bool(extract(self.source, parts, leaves_only=False))

    def keys(self, field: str) -> list[tuple[int, Any]]:
        hit = None if self._keys is None else self._keys.get(field)
        if hit is None:
            hit = [sort_key(v) for v in self.values(field)]
            if self._keys is None:
                self._keys = {}
            self._keys[field] = hit
        return hit

    def keys_once(self, field: str) -> list[tuple[int, Any]]:
        """Sort keys without keeping them (index builds)."""
        hit = None if self._keys is None else self._keys.get(field)
        return hit if hit is not None else [sort_key(v) for v in self.values(field, cache=False)]

    def token_lists(self, field: str) -> list[list[str]]:
        hit = None if self._tokens is None else self._tokens.get(field)
        if hit is None:
            hit = [tokens(v) for v in self.values(field)]
            if self._tokens is None:
                self._tokens = {}
            self._tokens[field] = hit
        return hit

    def nested(self, path: str) -> list["Doc"]:
        hit = None if self._nested is None else self._nested.get(path)
        if hit is None:
            if self._nested is None:
                self._nested = {}
            parts = self._parts(path)
            elements = [] if parts is None else extract(self.source, parts, leaves_only=False)
            hit = [Doc(self.id, e, path) for e in elements if isinstance(e, dict)]
            self._nested[path] = hit
        return hit

    def field_names(self) -> Iterable[str]:
        if self._flat is None:
            self._flat = flatten(self.source, self.prefix)
        return self._flat.keys()


class DocCache:
    """Flattened documents per key, reused while the store hands out the same object."""

    def __init__(self) -> None:
        self._docs: dict[str, Doc] = {}

    def docs(self, items: list[tuple[str, Json]]) -> list[Doc]:
        out = []
        cache = self._docs
        for key, value in items:
            doc = cache.get(key)
            if doc is None or doc.source is not value:
                doc = Doc(key, value)
                cache[key] = doc
            out.append(doc)
        if len(cache) > len(items) * 2 + 1000:  # drop deleted documents now and then
            live = {k for k, _ in items}
            for key in [k for k in cache if k not in live]:
                del cache[key]
        return out


# -- queries --------------------------------------------------------------------------------------
Matcher = Callable[[Doc], "float | None"]   # None: no match; a float: the match's score


def _single_field(clause: Json, name: str) -> tuple[str, Any]:
    if not isinstance(clause, dict) or len(clause) != 1:
        raise SearchError(f"[{name}] query expects exactly one field, got {clause!r}"[:300])
    field, value = next(iter(clause.items()))
    if not isinstance(field, str) or not field:
        raise SearchError(f"[{name}] field name must be a non-empty string")
    return field, value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _min_should(spec: Any, count: int, default: int) -> int:
    if spec is None:
        return default
    if isinstance(spec, bool):
        raise SearchError("[minimum_should_match] must be an integer or a percentage")
    if isinstance(spec, int):
        n = spec
    elif isinstance(spec, str) and re.fullmatch(r"-?\d+%", spec.strip()):
        pct = int(spec.strip()[:-1])
        n = int(count * pct / 100) if pct >= 0 else count - int(count * -pct / 100)
    elif isinstance(spec, str) and re.fullmatch(r"-?\d+", spec.strip()):
        n = int(spec)
    else:
        raise SearchError(f"[minimum_should_match] cannot parse {spec!r}")
    if n < 0:
        n = count + n
    return max(0, min(n, count))


def compile_query(query: Json) -> Matcher:
    """Turn a query clause into a function doc -> score or None."""
    if not isinstance(query, dict) or len(query) != 1:
        raise SearchError("a query clause must be an object with exactly one key, e.g. {\"match_all\": {}}")
    kind, body = next(iter(query.items()))
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise SearchError(f"unsupported query clause [{kind}]")
    return builder(body)


def _match_all(body: Json) -> Matcher:
    if not isinstance(body, dict):
        raise SearchError("[match_all] expects an object")
    boost = float(body.get("boost", 1.0))
    return lambda doc: boost


def _match_none(body: Json) -> Matcher:
    return lambda doc: None


def _bool(body: Json) -> Matcher:
    if not isinstance(body, dict):
        raise SearchError("[bool] expects an object")
    unknown = set(body) - {"must", "filter", "should", "must_not", "minimum_should_match", "boost"}
    if unknown:
        raise SearchError(f"[bool] does not support [{sorted(unknown)[0]}]")
    must = [compile_query(q) for q in _as_list(body.get("must"))]
    filt = [compile_query(q) for q in _as_list(body.get("filter"))]
    should = [compile_query(q) for q in _as_list(body.get("should"))]
    must_not = [compile_query(q) for q in _as_list(body.get("must_not"))]
    needed = _min_should(body.get("minimum_should_match"), len(should), 0 if (must or filt) else min(1, len(should)))

    def run(doc: Doc) -> float | None:
        score = 0.0
        for m in must:
            s = m(doc)
            if s is None:
                return None
            score += s
        for m in filt:
            if m(doc) is None:
                return None
        for m in must_not:
            if m(doc) is not None:
                return None
        hits = 0
        for m in should:
            s = m(doc)
            if s is not None:
                hits += 1
                score += s
        if hits < needed:
            return None
        if not must and not should:
            return 0.0 if filt or must_not else 1.0
        return score
    return run


def _constant_score(body: Json) -> Matcher:
    if not isinstance(body, dict) or "filter" not in body:
        raise SearchError("[constant_score] requires a [filter]")
    inner = compile_query(body["filter"])
    boost = float(body.get("boost", 1.0))
    return lambda doc: boost if inner(doc) is not None else None


def _field_params(clause: Json, name: str, key: str) -> tuple[str, dict[str, Any]]:
    field, value = _single_field(clause, name)
    if isinstance(value, dict):
        if key not in value:
            raise SearchError(f"[{name}] query for [{field}] is missing [{key}]")
        return field, value
    return field, {key: value}


def _term(body: Json) -> Matcher:
    field, params = _field_params(body, "term", "value")
    wanted = params["value"]
    if isinstance(wanted, (dict, list)):
        raise SearchError("[term] value must be a scalar")
    boost = float(params.get("boost", 1.0))
    if field == "_id":
        return lambda doc: boost if str(doc.id) == str(wanted) else None
    return lambda doc: boost if any(same_value(v, wanted) for v in doc.values(field)) else None


def _terms(body: Json) -> Matcher:
    if not isinstance(body, dict):
        raise SearchError("[terms] expects an object")
    fields = {k: v for k, v in body.items() if k != "boost"}
    if len(fields) != 1:
        raise SearchError("[terms] query expects exactly one field")
    field, wanted = next(iter(fields.items()))
    if not isinstance(wanted, list) or any(isinstance(w, (dict, list)) for w in wanted):
        raise SearchError("[terms] value must be an array of scalars")
    boost = float(body.get("boost", 1.0))
    if field == "_id":
        ids = {str(w) for w in wanted}
        return lambda doc: boost if str(doc.id) in ids else None
    return lambda doc: boost if any(same_value(v, w) for v in doc.values(field) for w in wanted) else None


def _range(body: Json) -> Matcher:
    field, params = _single_field(body, "range")
    if not isinstance(params, dict):
        raise SearchError("[range] expects an object of bounds")
    bounds = {k: v for k, v in params.items() if k in ("gt", "gte", "lt", "lte")}
    unknown = set(params) - {"gt", "gte", "lt", "lte", "format", "boost", "time_zone"}
    if unknown:
        raise SearchError(f"[range] does not support [{sorted(unknown)[0]}]")
    checks: list[tuple[str, tuple[int, Any]]] = []
    for op, bound in bounds.items():
        if isinstance(bound, (dict, list)) or bound is None:
            raise SearchError(f"[range] bound [{op}] must be a number or a date")
        if isinstance(bound, str) and bound.startswith("now"):
            checks.append((op, (0, date_math(bound) * 1000)))
            continue
        checks.append((op, sort_key(bound)))
    boost = float(params.get("boost", 1.0))

    def ok(key: tuple[int, Any]) -> bool:
        for op, bound in checks:
            if key[0] != bound[0]:
                return False
            if op == "gt" and not key[1] > bound[1]:
                return False
            if op == "gte" and not key[1] >= bound[1]:
                return False
            if op == "lt" and not key[1] < bound[1]:
                return False
            if op == "lte" and not key[1] <= bound[1]:
                return False
        return True
    def run(doc: Doc) -> float | None:
        return boost if any(ok(k) for k in doc.keys(field)) else None
    run.bounds = checks  # type: ignore[attr-defined]  # read by DocIndex.plan
    return run


def _text_matcher(field: str, query: Any, operator: str, msm: Any, prefix_last: bool = False,
                  autocomplete: bool = False) -> Callable[[Doc], float | None]:
    wanted = tokens(query)
    operator = str(operator).lower()
    if operator not in ("or", "and"):
        raise SearchError(f"[operator] must be or/and, got {operator!r}")

    def present(doc: Doc, term: str) -> bool:
        for toks in doc.token_lists(field):
            if autocomplete:
                if any(t.startswith(term) for t in toks):
                    return True
            elif term in toks:
                return True
        return False

    def run(doc: Doc) -> float | None:
        if not wanted:
            return None
        found = sum(1 for t in wanted if present(doc, t))
        need = len(wanted) if operator == "and" else _min_should(msm, len(wanted), 1)
        if found < max(need, 1):
            return None
        return float(found)
    return run


def _match(body: Json) -> Matcher:
    field, params = _field_params(body, "match", "query")
    base, auto = _field_and_mode(field)
    inner = _text_matcher(base, params["query"], params.get("operator", "or"),
                          params.get("minimum_should_match"), autocomplete=auto)
    boost = float(params.get("boost", 1.0))
    return lambda doc: None if (s := inner(doc)) is None else s * boost


def _match_phrase(body: Json) -> Matcher:
    field, params = _field_params(body, "match_phrase", "query")
    wanted = tokens(params["query"])
    boost = float(params.get("boost", 1.0))

    def run(doc: Doc) -> float | None:
        if not wanted:
            return None
        n = len(wanted)
        for toks in doc.token_lists(field):
            for i in range(len(toks) - n + 1):
                if toks[i:i + n] == wanted:
                    return float(n) * boost
        return None
    return run


def _field_and_mode(field: str) -> tuple[str, bool]:
    """``id.autocomplete`` is the edge-ngram sub-field of ``id``: prefix matching on its tokens."""
    if field.endswith(".autocomplete"):
        return field[: -len(".autocomplete")], True
    return field, False


def _multi_match(body: Json) -> Matcher:
    if not isinstance(body, dict) or "query" not in body:
        raise SearchError("[multi_match] requires [query]")
    fields = body.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise SearchError("[multi_match] requires [fields], an array of field names")
    mtype = body.get("type", "best_fields")
    if mtype not in ("best_fields", "most_fields", "cross_fields", "phrase", "phrase_prefix", "bool_prefix"):
        raise SearchError(f"[multi_match] does not support type [{mtype}]")
    operator = body.get("operator", "or")
    msm = body.get("minimum_should_match")
    per_field: list[tuple[str, float, bool]] = []
    for spec in fields:
        name, _, boost = spec.partition("^")
        try:
            weight = float(boost) if boost else 1.0
        except ValueError:
            raise SearchError(f"[multi_match] bad boost in field [{spec}]") from None
        base, auto = _field_and_mode(name)
        per_field.append((base, weight, auto or mtype in ("phrase_prefix", "bool_prefix")))
    wanted = tokens(body["query"])
    if str(operator).lower() not in ("or", "and"):
        raise SearchError(f"[operator] must be or/and, got {operator!r}")
    need_all = str(operator).lower() == "and"

    def expand(doc: Doc, pattern: str) -> list[str]:
        if "*" in pattern:
            return [f for f in doc.field_names() if fnmatch.fnmatchcase(f, pattern)]
        return [pattern]

    def run(doc: Doc) -> float | None:
        if not wanted:
            return None
        best = 0.0
        found_any: set[str] = set()
        for pattern, weight, auto in per_field:
            for field in expand(doc, pattern):
                lists = doc.token_lists(field)
                found = {t for t in wanted
                         if any((any(x.startswith(t) for x in toks) if auto else t in toks) for toks in lists)}
                if mtype in ("best_fields", "phrase", "phrase_prefix", "bool_prefix", "most_fields"):
                    # operator applies per field in best_fields (Elasticsearch's rule)
                    need = len(wanted) if need_all else _min_should(msm, len(wanted), 1)
                    if len(found) >= max(need, 1):
                        best = max(best, len(found) * weight)
                found_any |= found
        if mtype == "cross_fields":
            need = len(wanted) if need_all else _min_should(msm, len(wanted), 1)
            return float(len(found_any)) if len(found_any) >= max(need, 1) else None
        return best if best > 0 else None
    return run


def _exists(body: Json) -> Matcher:
    if not isinstance(body, dict) or not isinstance(body.get("field"), str):
        raise SearchError("[exists] requires [field]")
    field = body["field"]
    return lambda doc: 1.0 if doc.present(field) else None


def _prefix(body: Json) -> Matcher:
    field, params = _field_params(body, "prefix", "value")
    wanted = str(params["value"])
    insensitive = bool(params.get("case_insensitive", False))
    w = wanted.lower() if insensitive else wanted

    def run(doc: Doc) -> float | None:
        for v in doc.values(field):
            s = str(v)
            if (s.lower() if insensitive else s).startswith(w):
                return 1.0
        return None
    return run


def _wildcard(body: Json) -> Matcher:
    field, params = _field_params(body, "wildcard", "value")
    pattern = str(params["value"])
    insensitive = bool(params.get("case_insensitive", False))
    regex = re.compile(fnmatch.translate(pattern), re.IGNORECASE if insensitive else 0)
    return lambda doc: 1.0 if any(regex.match(str(v)) for v in doc.values(field)) else None


def _ids(body: Json) -> Matcher:
    if not isinstance(body, dict) or not isinstance(body.get("values"), list):
        raise SearchError("[ids] requires [values], an array")
    ids = {str(v) for v in body["values"]}
    return lambda doc: 1.0 if str(doc.id) in ids else None


def _nested(body: Json) -> Matcher:
    if not isinstance(body, dict) or not isinstance(body.get("path"), str) or "query" not in body:
        raise SearchError("[nested] requires [path] and [query]")
    path = body["path"]
    inner = compile_query(body["query"])

    def run(doc: Doc) -> float | None:
        best = None
        for sub in doc.nested(path):
            s = inner(sub)
            if s is not None and (best is None or s > best):
                best = s
        return best
    return run


_BUILDERS: dict[str, Callable[[Json], Matcher]] = {
    "bool": _bool, "match_all": _match_all, "match_none": _match_none, "term": _term, "terms": _terms,
    "range": _range, "match": _match, "match_phrase": _match_phrase, "multi_match": _multi_match,
    "exists": _exists, "prefix": _prefix, "wildcard": _wildcard, "ids": _ids, "nested": _nested,
    "constant_score": _constant_score,
}


# -- sort, paging, aggregations -------------------------------------------------------------------
def parse_sort(spec: Any) -> list[tuple[str, bool, str]]:
    """[(field, descending, missing)]"""
    if spec is None:
        return []
    entries = spec if isinstance(spec, list) else [spec]
    out: list[tuple[str, bool, str]] = []
    for entry in entries:
        if isinstance(entry, str):
            out.append((entry, entry == "_score", "_last"))
            continue
        if not isinstance(entry, dict) or not entry:
            raise SearchError("[sort] entries must be field names or objects")
        for field, how in entry.items():
            if isinstance(how, str):
                order, missing = how, "_last"
            elif isinstance(how, dict):
                order = how.get("order", "desc" if field == "_score" else "asc")
                missing = how.get("missing", "_last")
                unknown = set(how) - {"order", "unmapped_type", "missing", "mode", "format", "nested"}
                if unknown:
                    raise SearchError(f"[sort] does not support [{sorted(unknown)[0]}]")
            else:
                raise SearchError(f"[sort] bad specification for [{field}]")
            if order not in ("asc", "desc"):
                raise SearchError(f"[sort] order must be asc or desc, got {order!r}")
            out.append((field, order == "desc", str(missing)))
    return out


def _int_param(body: Json, name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool):
        raise SearchError(f"[{name}] must be an integer")
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise SearchError(f"[{name}] must be a non-negative integer")
    return value


_AGG_METRICS = ("min", "max", "avg", "sum", "value_count", "cardinality")


def _aggregate(docs: list[Doc], aggs: Json) -> dict[str, Any]:
    if not isinstance(aggs, dict):
        raise SearchError("[aggs] must be an object")
    out: dict[str, Any] = {}
    for name, spec in aggs.items():
        if not isinstance(spec, dict):
            raise SearchError(f"aggregation [{name}] must be an object")
        sub = spec.get("aggs", spec.get("aggregations"))
        kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
        if len(kinds) != 1:
            raise SearchError(f"aggregation [{name}] must have exactly one type")
        kind = kinds[0]
        params = spec[kind]
        if not isinstance(params, dict) or not isinstance(params.get("field"), str):
            raise SearchError(f"aggregation [{name}] of type [{kind}] requires [field]")
        field = params["field"]
        if kind == "date_histogram":
            out[name] = _date_histogram(docs, name, field, params, sub)
        elif kind == "terms":
            size = _int_param(params, "size", 10)
            counts: dict[Any, list[Doc]] = {}
            for doc in docs:
                seen = set()
                for v in doc.values(field):
                    key = v if not isinstance(v, float) or not v.is_integer() else v
                    if key in seen:
                        continue
                    seen.add(key)
                    counts.setdefault(key, []).append(doc)
            ordered = sorted(counts.items(), key=lambda kv: (-len(kv[1]), sort_key(kv[0])))
            buckets = []
            for key, members in ordered[:size]:
                bucket: dict[str, Any] = {"key": key, "doc_count": len(members)}
                if sub:
                    bucket.update(_aggregate(members, sub))
                buckets.append(bucket)
            out[name] = {"doc_count_error_upper_bound": 0,
                         "sum_other_doc_count": sum(len(m) for _, m in ordered[size:]), "buckets": buckets}
        elif kind in _AGG_METRICS:
            if sub:
                raise SearchError(f"metric aggregation [{name}] cannot have sub-aggregations")
            raw = [v for doc in docs for v in doc.values(field)]
            if kind == "value_count":
                out[name] = {"value": len(raw)}
            elif kind == "cardinality":
                out[name] = {"value": len({str(v) for v in raw})}
            else:
                nums = [n for n in (_number(v) for v in raw) if n is not None]
                if kind == "min":
                    value = min(nums) if nums else None
                elif kind == "max":
                    value = max(nums) if nums else None
                elif kind == "sum":
                    value = sum(nums)
                else:
                    value = sum(nums) / len(nums) if nums else None
                out[name] = {"value": value}
        else:
            raise SearchError(f"unsupported aggregation type [{kind}]")
    return out


_CALENDAR = {"minute": "m", "1m": "m", "hour": "h", "1h": "h", "day": "d", "1d": "d", "week": "w", "1w": "w",
             "month": "M", "1M": "M", "quarter": "q", "1q": "q", "year": "y", "1y": "y"}
_FIXED = re.compile(r"^(\d+)(ms|s|m|h|d)$")
_FIXED_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3_600, "d": 86_400}


def _bucket_start(ts: float, unit: str) -> float:
    """Start (epoch seconds, UTC) of the calendar bucket holding ``ts``."""
    d = dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)
    if unit == "m":
        d = d.replace(second=0, microsecond=0)
    elif unit == "h":
        d = d.replace(minute=0, second=0, microsecond=0)
    elif unit == "d":
        d = d.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "w":  # ISO weeks start on Monday, as Elasticsearch's
        d = (d - dt.timedelta(days=d.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "M":
        d = d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "q":
        d = d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        d = d.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return d.timestamp()


def _bucket_next(start: float, unit: str) -> float:
    d = dt.datetime.fromtimestamp(start, tz=dt.timezone.utc)
    if unit in ("m", "h", "d", "w"):
        return start + {"m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400}[unit]
    months = {"M": 1, "q": 3, "y": 12}[unit]
    month = d.month - 1 + months
    return d.replace(year=d.year + month // 12, month=month % 12 + 1).timestamp()


def _date_histogram(docs: list[Doc], name: str, field: str, params: dict[str, Any], sub: Any) -> dict[str, Any]:
    unknown = set(params) - {"field", "calendar_interval", "fixed_interval", "interval", "format",
                             "min_doc_count", "time_zone", "order", "keyed"}
    if unknown:
        raise SearchError(f"[date_histogram] aggregation [{name}] does not support [{sorted(unknown)[0]}]")
    if params.get("time_zone") not in (None, "UTC", "Z", "+00:00", "00:00"):
        raise SearchError(f"[date_histogram] aggregation [{name}]: only time_zone UTC is supported")
    if params.get("order") is not None or params.get("keyed"):
        raise SearchError(f"[date_histogram] aggregation [{name}]: [order] and [keyed] are not supported")
    spec = params.get("calendar_interval", params.get("fixed_interval", params.get("interval")))
    if not isinstance(spec, str) or not spec:
        raise SearchError(f"[date_histogram] aggregation [{name}] requires [calendar_interval] or [fixed_interval]")
    unit = _CALENDAR.get(spec) if "fixed_interval" not in params else None
    step = 0.0
    if unit is None:
        m = _FIXED.match(spec)
        if m is None or int(m.group(1)) <= 0:
            raise SearchError(f"[date_histogram] aggregation [{name}]: cannot parse interval [{spec}]")
        step = int(m.group(1)) * _FIXED_UNIT[m.group(2)]
    min_count = _int_param(params, "min_doc_count", 0)
    groups: dict[float, list[Doc]] = {}
    for doc in docs:
        seen: set[float] = set()
        for v in doc.values(field):
            ts = parse_date(v)
            if ts is None:
                n = _number(v)
                ts = None if n is None else n / 1000  # epoch milliseconds, as Elasticsearch dates
            if ts is None:
                continue
            start = _bucket_start(ts, unit) if unit else ts - ts % step
            if start not in seen:
                seen.add(start)
                groups.setdefault(start, []).append(doc)
    starts = sorted(groups)
    if min_count == 0 and starts:  # Elasticsearch fills the empty buckets between the first and the last
        filled, cur = [], starts[0]
        while cur <= starts[-1] and len(filled) < 10_000:
            filled.append(cur)
            cur = _bucket_next(cur, unit) if unit else cur + step
        if len(filled) >= 10_000:
            raise SearchError(f"[date_histogram] aggregation [{name}] would create too many buckets")
        starts = filled
    buckets = []
    for start in starts:
        members = groups.get(start, [])
        if len(members) < min_count:
            continue
        bucket: dict[str, Any] = {
            "key_as_string": dt.datetime.fromtimestamp(start, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            "key": int(start * 1000), "doc_count": len(members)}
        if sub:
            bucket.update(_aggregate(members, sub))
        buckets.append(bucket)
    return {"buckets": buckets}


MAX_RESULT_WINDOW = 10_000  # Elasticsearch's index.max_result_window default
SEARCH_KEYS = {"query", "from", "size", "sort", "aggs", "aggregations", "_source", "track_total_hits",
               "search_after"}


# -- _source filtering ----------------------------------------------------------------------------
def parse_source(spec: Any) -> tuple[list[str], list[str]] | bool:
    """``_source``: true/false, a pattern, a list of patterns or {includes, excludes}."""
    if spec is None or spec is True:
        return True
    if spec is False:
        return False
    if isinstance(spec, str):
        return [spec], []
    if isinstance(spec, list) and all(isinstance(p, str) for p in spec):
        return list(spec), []
    if isinstance(spec, dict):
        unknown = set(spec) - {"includes", "excludes", "include", "exclude"}
        if unknown:
            raise SearchError(f"[_source] does not support [{sorted(unknown)[0]}]")
        inc = spec.get("includes", spec.get("include", []))
        exc = spec.get("excludes", spec.get("exclude", []))
        inc, exc = ([inc] if isinstance(inc, str) else inc), ([exc] if isinstance(exc, str) else exc)
        if not all(isinstance(x, list) and all(isinstance(p, str) for p in x) for x in (inc, exc)):
            raise SearchError("[_source] includes/excludes must be strings or arrays of strings")
        return list(inc), list(exc)
    raise SearchError("[_source] must be a boolean, a string, an array or {includes, excludes}")


def _path_matches(path: str, patterns: list[str], prefix_ok: bool) -> bool:
    """Does a dotted ``path`` match a pattern, or (``prefix_ok``) lie on the way to/under one?"""
    for p in patterns:
        if fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, p + ".*") or path.startswith(p + "."):
            return True
        if prefix_ok and (p.startswith(path + ".") or fnmatch.fnmatchcase(path, p.split(".")[0])):
            return True
    return False


def filter_source(source: Json, includes: list[str], excludes: list[str], prefix: str = "") -> Json:
    """Elasticsearch source filtering: keep included paths (all when none), then drop excluded ones."""
    if isinstance(source, list):
        return [filter_source(x, includes, excludes, prefix) for x in source]
    if not isinstance(source, dict):
        return source
    out: dict[str, Any] = {}
    for key, value in source.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if excludes and _path_matches(path, excludes, False):
            continue
        if includes:
            full = any(fnmatch.fnmatchcase(path, p) or path.startswith(p + ".") for p in includes)
            if not full:
                if not (isinstance(value, (dict, list)) and _path_matches(path, includes, True)):
                    continue
                child = filter_source(value, includes, excludes, path)
                if child in ({}, []):
                    continue
                out[key] = child
                continue
        out[key] = filter_source(value, [], excludes, path) if isinstance(value, (dict, list)) else value
    return out


# -- indexes --------------------------------------------------------------------------------------
class Unplannable(Exception):
    pass


def _norm_keys(value: Any) -> list[Any]:
    """Posting keys of a stored scalar, so that a dict lookup agrees exactly with :func:`same_value`."""
    if isinstance(value, bool):
        return [("b", value)]
    if isinstance(value, (int, float)):
        return [("n", float(value))]
    if isinstance(value, str):
        keys: list[Any] = [("s", value)]
        n = _number(value)
        if n is not None:
            keys.append(("n", n))
        low = value.lower()
        if low in ("true", "false"):
            keys.append(("bs", low == "true"))
        return keys
    return [("s", str(value))]


def _wanted_keys(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [("b", value), ("bs", value)]
    if isinstance(value, (int, float)):
        return [("n", float(value))]
    keys: list[Any] = [("s", str(value))]
    n = _number(value)
    if n is not None:
        keys.append(("n", n))
    low = str(value).lower()
    if low in ("true", "false"):
        keys.append(("b", low == "true"))
    return keys


class DocIndex:
    """Per-field postings and sort orders over one list of documents (rebuilt when the list changes).

    Built lazily, per field, the first time a query needs it; a store version bump makes the caller
    build a new one. Only exact answers are planned: a clause it cannot answer exactly is evaluated
    document by document on the candidates the other clauses left."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs
        self._postings: dict[str, dict[Any, list[int]]] = {}
        self._sorted: dict[str, tuple[list[Any], list[int], list[int]] | None] = {}
        self._sets: dict[tuple[str, Any], frozenset[int]] = {}
        self._ranks: dict[str, list[int]] = {}
        self._inter: dict[tuple[int, ...], frozenset[int]] = {}
        self._prefix: dict[tuple[str, int], list[int]] = {}

    def postings(self, field: str) -> dict[Any, list[int]]:
        hit = self._postings.get(field)
        if hit is None:
            hit = {}
            for i, doc in enumerate(self.docs):
                seen = set()
                for v in doc.values(field, cache=False):
                    for k in _norm_keys(v):
                        if k not in seen:
                            seen.add(k)
                            hit.setdefault(k, []).append(i)
            self._postings[field] = hit
        return hit

    def term_set(self, field: str, wanted: list[Any]) -> set[int] | frozenset[int]:
        post = self.postings(field)
        keys = tuple(sorted({k for w in wanted for k in _wanted_keys(w)}, key=repr))
        cached = self._sets.get((field, keys))
        if cached is None:
            out: set[int] = set()
            for k in keys:
                out.update(post.get(k, ()))
            if len(self._sets) > 4_096:  # many distinct terms queried: start again
                self._sets.clear()
                self._inter.clear()
                self._prefix.clear()
            cached = self._sets[(field, keys)] = frozenset(out)
        return cached

    def sorted_by(self, field: str) -> tuple[list[Any], list[int], list[int]] | None:
        """(keys ascending, doc positions in that order, positions without a value) for a field
        that holds at most one value per document; None for a multi-valued field."""
        if field in self._sorted:
            return self._sorted[field]
        pairs = []
        missing = []
        result: tuple[list[Any], list[int], list[int]] | None = None
        for i, doc in enumerate(self.docs):
            keys = doc.keys_once(field)
            if not keys:
                missing.append(i)
            elif len(keys) > 1:
                break
            else:
                pairs.append((keys[0], i))
        else:
            pairs.sort(key=lambda p: p[0])  # stable: ties keep document order
            result = ([k for k, _ in pairs], [i for _, i in pairs], missing)
        self._sorted[field] = result
        return result

    def rank(self, field: str) -> list[int]:
        """Position in ``sorted_by(field)`` order of every document (-1: no value)."""
        hit = self._ranks.get(field)
        if hit is None:
            _, positions, _ = self.sorted_by(field)  # type: ignore[misc]
            hit = [-1] * len(self.docs)
            for r, i in enumerate(positions):
                hit[i] = r
            self._ranks[field] = hit
        return hit

    def intersect(self, sets: list[Any]) -> Any:
        """One set for several (cached for the index's own frozensets, e.g. active ∩ source_id)."""
        if len(sets) == 1:
            return sets[0]
        if all(isinstance(x, frozenset) for x in sets):
            key = tuple(sorted(id(x) for x in sets))  # the sets live in self._sets: ids stay unique
            hit = self._inter.get(key)
            if hit is None:
                ordered = sorted(sets, key=len)
                acc = ordered[0]
                for x in ordered[1:]:
                    acc = acc & x
                hit = self._inter[key] = frozenset(acc)
            return hit
        ordered = sorted(sets, key=len)
        acc = set(ordered[0])
        for x in ordered[1:]:
            acc &= x
        return acc

    # planning: a conjunction of exact constraints (ranges over a field's order, sets of positions)
    def plan(self, query: Json) -> "Plan":
        out = Plan()
        self._plan_into(query, out)
        return out

    def _plan_into(self, query: Json, out: "Plan") -> None:
        if not isinstance(query, dict) or len(query) != 1:
            out.exact = False
            return
        kind, body = next(iter(query.items()))
        if kind == "match_all":
            return
        if kind == "term" and isinstance(body, dict) and len(body) == 1:
            field, value = next(iter(body.items()))
            if isinstance(value, dict):
                value = value.get("value")
            if field.startswith("_") or isinstance(value, (dict, list)) or value is None:
                out.exact = False
                return
            out.sets.append(self.term_set(field, [value]))
            return
        if kind == "terms" and isinstance(body, dict):
            fields = {k: v for k, v in body.items() if k != "boost"}
            if len(fields) == 1:
                field, values = next(iter(fields.items()))
                if not field.startswith("_") and isinstance(values, list) and \
                        not any(isinstance(v, (dict, list)) or v is None for v in values):
                    out.sets.append(self.term_set(field, values))
                    return
            out.exact = False
            return
        if kind == "range" and isinstance(body, dict) and len(body) == 1:
            field, params = next(iter(body.items()))
            order = None if field.startswith("_") or not isinstance(params, dict) else self.sorted_by(field)
            checks = _range(body).bounds if order is not None else None  # type: ignore[attr-defined]
            if order is None or not checks:
                out.exact = False
                return
            keys = order[0]
            types = {b[0] for _, b in checks}
            if len(types) != 1:
                out.ranges[field] = (0, 0)
                return
            t = types.pop()
            lo, hi = bisect_left(keys, (t,)), bisect_left(keys, (t + 1,))
            for op, bound in checks:
                if op == "gt":
                    lo = max(lo, bisect_right(keys, bound))
                elif op == "gte":
                    lo = max(lo, bisect_left(keys, bound))
                elif op == "lt":
                    hi = min(hi, bisect_left(keys, bound))
                else:
                    hi = min(hi, bisect_right(keys, bound))
            old = out.ranges.get(field)
            if old is not None:
                lo, hi = max(lo, old[0]), min(hi, old[1])
            out.ranges[field] = (lo, max(lo, hi))
            return
        if kind == "bool" and isinstance(body, dict):
            if body.get("should") or body.get("must_not") or body.get("minimum_should_match") is not None:
                out.exact = False
            for q in _as_list(body.get("must")) + _as_list(body.get("filter")):
                self._plan_into(q, out)
            return
        if kind == "constant_score" and isinstance(body, dict) and "filter" in body:
            self._plan_into(body["filter"], out)
            return
        out.exact = False

    def _checks(self, plan: "Plan", skip_set: Any = None, skip_field: str | None = None) -> Callable[[int], bool]:
        sets = [x for x in plan.sets if x is not skip_set]
        one = self.intersect(sets) if sets else None
        ranges = [(self.rank(f), lo, hi) for f, (lo, hi) in plan.ranges.items() if f != skip_field]
        if one is None and not ranges:
            return lambda i: True
        if not ranges:
            return one.__contains__
        if one is None and len(ranges) == 1:
            rk, lo, hi = ranges[0]
            return lambda i: lo <= rk[i] < hi
        return lambda i: (one is None or i in one) and all(lo <= rk[i] < hi for rk, lo, hi in ranges)

    def _candidates(self, plan: "Plan") -> Iterable[int] | None:
        if not plan.sets and not plan.ranges:
            return None
        sizes: list[tuple[int, str, Any]] = [(len(x), "set", x) for x in plan.sets]
        sizes += [(hi - lo, "range", f) for f, (lo, hi) in plan.ranges.items()]
        if min(sizes, key=lambda x: x[0])[1] == "set":
            source: Iterable[int] = self.intersect(plan.sets)
            if not plan.ranges:
                return source
            ok = self._checks(Plan(ranges=plan.ranges))
        else:
            driver = min((x for x in sizes if x[1] == "range"), key=lambda x: x[0])[2]
            lo, hi = plan.ranges[driver]
            source = self.sorted_by(driver)[1][lo:hi]  # type: ignore[index]
            ok = self._checks(plan, skip_field=driver)
        return [i for i in source if ok(i)]

    def members(self, plan: "Plan") -> list[int] | None:
        """Candidate positions in document order (None: every document)."""
        found = self._candidates(plan)
        return None if found is None else sorted(found)

    def prefix(self, field: str, members: frozenset[int]) -> list[int]:
        """prefix[r]: how many of the first r documents in ``field`` order are in ``members``."""
        key = (field, id(members))
        hit = self._prefix.get(key)
        if hit is None:
            positions = self.sorted_by(field)[1]  # type: ignore[index]
            hit = [0, *accumulate(1 if i in members else 0 for i in positions)]
            if len(self._prefix) > 64:
                self._prefix.clear()
            self._prefix[key] = hit
        return hit

    def count(self, plan: "Plan") -> int:
        if len(plan.ranges) == 1 and plan.sets:
            # one range and any number of (cached) term sets: two look-ups in a prefix count
            one = self.intersect(plan.sets)
            if isinstance(one, frozenset):
                (field, (lo, hi)), = plan.ranges.items()
                pre = self.prefix(field, one)
                return pre[hi] - pre[lo] if hi > lo else 0
        found = self._candidates(plan)
        return len(self.docs) if found is None else len(found)  # type: ignore[arg-type]


class Plan:
    """What :meth:`DocIndex.plan` found: ``exact`` (no clause left to evaluate per document), the
    ranges (field -> [lo, hi) in the field's sort order) and sets of positions, all to be met."""

    __slots__ = ("exact", "ranges", "sets")

    def __init__(self, ranges: dict[str, tuple[int, int]] | None = None) -> None:
        self.exact = True
        self.ranges: dict[str, tuple[int, int]] = dict(ranges or {})
        self.sets: list[Any] = []

    def merge(self, other: "Plan") -> None:
        self.exact = self.exact and other.exact
        self.sets += other.sets
        for f, (lo, hi) in other.ranges.items():
            old = self.ranges.get(f)
            self.ranges[f] = (lo, hi) if old is None else (max(lo, old[0]), max(max(lo, old[0]), min(hi, old[1])))


# -- search ---------------------------------------------------------------------------------------
def search(docs: list[Doc], body: Json, *, extra_filters: list[Json] | None = None,
           now: float | None = None, index: DocIndex | None = None) -> dict[str, Any]:
    """Evaluate a search body; returns {total, max_score, hits: [(doc, score, sort)], aggregations,
    source: True/False/(includes, excludes)}.

    ``now`` (epoch seconds) is what ``"now"`` means in range bounds (the sandbox clock); ``index``,
    a :class:`DocIndex` over the same ``docs``, answers term/range/sort without visiting every document."""
    token = _NOW.set(now)
    try:
        with no_gc():
            return _search(docs, body, extra_filters, index)
    finally:
        _NOW.reset(token)


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while indexes are built: they allocate millions of small
    objects next to a large heap of decoded documents, and every collection would walk that heap
    (measured: building the index of 100,000 products took several times longer with it on). The
    objects made here hold no reference cycles; reference counting frees them as usual."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
        n = _number(value)
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


def _search(docs: list[Doc], body: Json, extra_filters: list[Json] | None,
            index: DocIndex | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SearchError("the search body must be an object")
    unknown = set(body) - SEARCH_KEYS
    if unknown:
        raise SearchError(f"unsupported search parameter [{sorted(unknown)[0]}]")
    query = body.get("query") or {"match_all": {}}
    main = compile_query(query)
    filters = [compile_query(f) for f in extra_filters or []]
    start = _int_param(body, "from", 0)
    size = _int_param(body, "size", 10)
    if start + size > MAX_RESULT_WINDOW:
        raise SearchError(f"Result window is too large, from + size must be less than or equal to: "
                          f"[{MAX_RESULT_WINDOW}] but was [{start + size}]. See the scroll api for a more "
                          f"efficient way to request large data sets. This limit can be set by changing "
                          f"the [index.max_result_window] index level setting.")
    sort = parse_sort(body.get("sort"))
    source = parse_source(body.get("_source"))
    aggs = body.get("aggs", body.get("aggregations"))
    if aggs is not None and not isinstance(aggs, dict):
        raise SearchError("[aggs] must be an object")
    after = body.get("search_after")
    after_keys: list[Any] | None = None
    if after is not None:
        if not sort:
            raise SearchError("[search_after] requires a [sort]")
        if not isinstance(after, list) or len(after) != len(sort):
            raise SearchError(f"[search_after] has {len(after) if isinstance(after, list) else 'no'} value(s) "
                              f"but the sort has {len(sort)} field(s)")
        if any(isinstance(v, (dict, list)) for v in after):
            raise SearchError("[search_after] values must be scalars")
        if start > 0:
            raise SearchError("[from] parameter must be set to 0 when [search_after] is used")
        after_keys = [_after_key(v, f) for v, (f, _, _) in zip(after, sort)]
    by_field = [s for s in sort if s[0] != "_score"]
    needs_scores = not by_field or len(by_field) != len(sort)

    # candidates from the index; exact plans skip evaluating the query document by document
    plan: Plan | None = None
    if index is not None:
        plan = index.plan(query)
        for f in extra_filters or []:
            plan.merge(index.plan(f))
    exact = plan is not None and plan.exact

    fast = (index is not None and exact and not needs_scores and aggs is None and sort
            and sort[0][0] not in ("_id", "_doc") and (after_keys is None or after_keys[0] is not None)
            and index.sorted_by(sort[0][0]) is not None)
    if fast:
        return _search_indexed(index, plan, sort, start, size, after_keys, source)  # type: ignore[arg-type]

    cand = index.members(plan) if index is not None and plan is not None else None
    if cand is None:
        pool = list(enumerate(docs))
    else:
        pool = [(i, docs[i]) for i in cand]
    matched: list[tuple[Doc, float]] = []
    if exact and not needs_scores:
        matched = [(doc, 1.0) for _, doc in pool]
    else:
        for _, doc in pool:
            if any(f(doc) is None for f in filters):
                continue
            score = main(doc)
            if score is not None:
                matched.append((doc, score))

    ordered = _order(matched, sort)
    if after_keys is not None:
        ordered = [(d, s) for d, s in ordered if _is_after(_doc_keys(d, s, sort), after_keys, sort)]
    page = ordered[start:start + size]
    hits = [(doc, None if by_field else score, _sort_tuple(doc, score, sort) if sort else None)
            for doc, score in page]
    max_score = None if by_field else (max((s for _, s in matched), default=None))
    result: dict[str, Any] = {"total": len(matched), "max_score": max_score, "hits": hits, "source": source}
    if aggs is not None:
        result["aggregations"] = _aggregate([d for d, _ in matched], aggs)
    return result


def _search_indexed(index: DocIndex, plan: Plan, sort: list[tuple[str, bool, str]],
                    start: int, size: int, after_keys: list[Any] | None, source: Any) -> dict[str, Any]:
    """Sorted by a single-valued field: walk its order inside the plan's range on that field (if
    any), keep the documents the other constraints allow, stop once the page is full (plus every
    document tied with the last on the first key, which the other keys then order)."""
    docs = index.docs
    field, desc, missing = sort[0]
    keys, positions, lacking = index.sorted_by(field)  # type: ignore[misc]
    total = index.count(plan)
    want = start + size
    lo, hi = plan.ranges.get(field, (0, len(keys)))
    ok = index._checks(plan, skip_field=field)
    if after_keys is not None and after_keys[0] is not None:
        # everything before the search_after value on the first key is skipped by bisection
        if desc:
            hi = min(hi, bisect_right(keys, after_keys[0]))
        else:
            lo = max(lo, bisect_left(keys, after_keys[0]))
    seq = range(hi - 1, lo - 1, -1) if desc else range(lo, hi)
    lack = [] if field in plan.ranges else [i for i in lacking if ok(i)]
    chunk: list[int] = []
    if missing == "_first":
        chunk.extend(lack)
    last_key: Any = _MISSING
    counted = len(chunk)
    boundary = None if after_keys is None else after_keys[0]
    for j in seq:
        i = positions[j]
        if not ok(i):
            continue
        if counted >= want and keys[j] != last_key:
            break
        chunk.append(i)
        last_key = keys[j]
        if keys[j] != boundary:  # ties with the search_after value may all be before it
            counted += 1
    else:
        if missing != "_first":
            chunk.extend(lack)
    # the chunk, ordered exactly as the general path orders it
    pairs = [(docs[i], 1.0) for i in sorted(chunk)]
    ordered = _order(pairs, sort)
    if after_keys is not None:
        ordered = [(d, s) for d, s in ordered if _is_after(_doc_keys(d, s, sort), after_keys, sort)]
    page = ordered[start:start + size]
    hits = [(doc, None, _sort_tuple(doc, score, sort)) for doc, score in page]
    return {"total": total, "max_score": None, "hits": hits, "source": source}
