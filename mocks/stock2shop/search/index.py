"""The index and the planner: :class:`DocIndex` keeps, per field, postings, the sort order and
prefix counts over one version of a collection; :meth:`DocIndex.plan` turns the exact part of a
query (``term``/``terms``/``range`` conjunctions) into a :class:`Plan` of position sets and ranges
in a field's order. What it cannot answer exactly is evaluated document by document on the
candidates left."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate
from typing import Any, Callable, Iterable

from mocks.core.coerce import to_number
from mocks.stock2shop.search.docs import Doc
from mocks.stock2shop.search.query import _as_list, _range
from mocks.stock2shop.search.sort import field_kind
from mocks.stock2shop.search.values import Json

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
        n = to_number(value)
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
    n = to_number(value)
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
        self._kinds: dict[str, str | None] = {}

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

    def kind(self, field: str) -> str | None:
        """The field's mapping (``date``, ``number``, ``boolean``, ``keyword``; None: unmapped), once per field."""
        if field not in self._kinds:
            self._kinds[field] = field_kind(self.docs, field)
        return self._kinds[field]

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
