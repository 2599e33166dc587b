"""The index and the planner: :class:`DocIndex` keeps, per field, postings and the sort order
over a collection, kept up to date document by document; :meth:`DocIndex.plan` turns the exact part of a
query (``term``/``terms``/``range`` conjunctions) into a :class:`Plan` of position sets and ranges
in a field's order. What it cannot answer exactly is evaluated document by document on the
candidates left."""
from __future__ import annotations

import threading
from array import array
from bisect import bisect_left, bisect_right
from typing import Any, Callable, Iterable

from mocks.core.coerce import to_number
from mocks.stock2shop.search.docs import Doc
from mocks.stock2shop.search.query import _as_list, _range
from mocks.stock2shop.search.sort import value_kind
from mocks.stock2shop.search.values import Json, sort_key

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


class _Column:
    """One field over every slot: its values, and (built on first use, then kept up to date)
    its postings (normalised term -> slots) and its sort order (keys ascending, slots in that
    order, ties by slot, i.e. document order) when no document holds more than one value."""

    __slots__ = ("vals", "post", "keys", "positions", "skey", "multi", "missing")

    def __init__(self) -> None:
        # slot -> its values, packed (see _pack): () for none or a free slot, the value itself
        # for one (most: a 1-tuple each would be ~5 MB per column at 100,000), a tuple for several
        self.vals: list[Any] = []
        self.post: dict[Any, set[int]] | None = None
        self.keys: list[Any] | None = None
        self.positions: list[int] | None = None
        self.skey: list[Any] | None = None         # slot -> its sort key (None: not exactly one value)
        self.multi = 0                              # slots holding more than one value
        self.missing: set[int] = set()              # live slots without a value


_EMPTY: tuple[Any, ...] = ()


def _pack(values: Any) -> Any:
    """A slot's values as a column keeps them: () for none, the value itself for one, a tuple
    for several (a document's values come from JSON: a value is never a tuple itself)."""
    return values[0] if len(values) == 1 else tuple(values)


def _unpack(packed: Any) -> tuple[Any, ...]:
    """The tuple of values of a packed slot (see :func:`_pack`)."""
    return packed if packed.__class__ is tuple else (packed,)


def _count(packed: Any) -> int:
    """How many values a packed slot holds."""
    return len(packed) if packed.__class__ is tuple else 1


def field_values(source: Json, field: str) -> list[Any]:
    """A field's values in a document, as a query sees them (:meth:`Doc.values`)."""
    return Doc("", source).values(field, cache=False)


def _share_values(vals: list[Any], most: int = 1_024) -> None:
    """One object per distinct single value of a column with few of them (``active``,
    ``source_id``: 100,000 slots, two or three values), instead of one per slot (each decoded
    separately); a column with more than ``most`` distinct values is left as it is."""
    pool: dict[tuple[type, Any], Any] = {}
    for i, v in enumerate(vals):
        if v.__class__ is tuple:
            continue
        key = (v.__class__, v)
        hit = pool.get(key)
        if hit is None:
            if len(pool) >= most:
                return
            pool[key] = v
        elif hit is not v:
            vals[i] = hit


class DocLoader:
    """Where a :class:`DocIndex` reads documents from (a live index over a store collection):
    ``scan(fields)`` -> (key, order, [values per field]) of every document in order;
    ``fetch(keys)`` -> {key: source} of those that exist."""

    def scan(self, fields: list[str]) -> Iterable[tuple[str, int, list[list[Any]]]]:
        raise NotImplementedError

    def fetch(self, keys: list[str]) -> dict[str, Json]:
        raise NotImplementedError


class DocIndex:
    """Per-field postings and sort orders over a collection's documents, by slot.

    A slot is a document's place: slots grow in document order, an update keeps its slot, a
    deleted document frees its slot for good (a document added again gets a new one, at the
    end, as the store orders it). Columns are built lazily, per field, the first time a query
    needs them, and then kept up to date by :meth:`apply`, one changed document at a time:
    a write costs work in proportion to what it changed. What depends on the whole collection
    (unions of term sets, intersections) is derived lazily and dropped on a change.

    Two ways to build one: over a list of :class:`Doc` (static; what tests compare against), or
    over a :class:`DocLoader` (live): the index then keeps only the columns, and the documents'
    sources are fetched when they are hits or must be evaluated (a few thousand stay cached).
    Only exact answers are planned: a clause it cannot answer exactly is evaluated document by
    document on the candidates the other clauses left. Callers serialise use with ``lock``."""

    DOC_CACHE = 1_000  # documents kept decoded by a live index (small collections: all of them)

    def __init__(self, docs: list[Doc] | None = None, loader: DocLoader | None = None) -> None:
        self.lock = threading.RLock()
        self.loader = loader
        self.ids: list[str | None] = []            # slot -> key (None: free)
        self.orders = array("q")                   # slot -> the store's insert order
        # slot -> the int object of that number: every structure holding slots (the key -> slot
        # map, postings, sort orders, derived sets) shares these instead of making its own
        self._ints: list[int] = []
        self.slot: dict[str, int] = {}
        self._docs: dict[int, Doc] = {}             # slot -> Doc (all of them when static)
        self._cols: dict[str, _Column] = {}
        self.changes = 0                           # documents applied since built
        self._clear_derived()
        if docs is not None:
            for i, doc in enumerate(docs):
                self._docs[self._new_slot(doc.id, i)] = doc
            self._loaded = True
        else:
            self._loaded = False

    def _clear_derived(self) -> None:
        # what is derived from the columns, kept up to date slot by slot by apply() (see _track):
        # unions of several terms' postings, intersections of such sets (with the sets they are
        # made of), and per (set, field) the sorted sort keys of the set's slots (to count the
        # documents of a set within a range of a field by bisection)
        self._sets: dict[tuple[str, Any], set[int]] = {}
        self._inter: dict[tuple[int, ...], tuple[tuple[Any, ...], set[int]]] = {}
        self._counts: dict[tuple[int, str], tuple[Any, str, list[Any]]] = {}
        self._missing: dict[str, list[int]] = {}
        self._live: list[int] | None = None

    # -- documents ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.slot)

    def live(self) -> list[int]:
        """Every live slot, in document order."""
        if self._live is None:
            self._live = [i for i, k in zip(self._ints, self.ids) if k is not None]
        return self._live

    def docs_at(self, slots: Iterable[int]) -> list[Doc]:
        """The documents in those slots (a live index fetches the ones it does not hold, in
        batches; beyond ``DOC_CACHE`` they are this call's only)."""
        slots = list(slots)
        cache = self._docs
        if self.loader is None:
            return [cache[i] for i in slots]
        want = [i for i in dict.fromkeys(slots) if i not in cache]
        fetched: dict[int, Doc] = {}
        for part in range(0, len(want), 1000):
            chunk = want[part:part + 1000]
            found = self.loader.fetch([self.ids[i] for i in chunk])  # type: ignore[misc]
            for i in chunk:
                key = self.ids[i]
                doc = fetched[i] = Doc(key, found.get(key))  # type: ignore[arg-type]
                if len(cache) < self.DOC_CACHE:
                    cache[i] = doc
        return [cache.get(i) or fetched[i] for i in slots]

    def all_docs(self) -> list[Doc]:
        return self.docs_at(self.live())

    # -- building and keeping up to date ------------------------------------------------------
    def _column(self, field: str) -> _Column:
        col = self._cols.get(field)
        if col is None:
            self.ensure([field])
            col = self._cols[field]
        return col

    def ensure(self, fields: list[str]) -> None:
        """Build the columns of these fields (one pass over the documents for all of them)."""
        todo = [f for f in dict.fromkeys(fields) if f not in self._cols]
        if not todo and self._loaded:
            return
        cols = {f: _Column() for f in todo}
        n = len(self.ids)
        for col in cols.values():
            col.vals = [_EMPTY] * n
        if self.loader is None:
            for i, key in enumerate(self.ids):
                if key is None:
                    continue
                doc = self._docs[i]
                for f, col in cols.items():
                    col.vals[i] = _pack(doc.values(f, cache=False))
        else:
            first = not self._loaded
            simple = [f for f in todo if "." not in f]
            groups = [simple, [f for f in todo if "." in f]] if todo else [[]]
            for group in groups:
                if not group and not first:
                    continue
                for key, order, values in self.loader.scan(group):
                    if first:
                        i = self._new_slot(key, order)
                        for col in cols.values():
                            col.vals.append(_EMPTY)
                    else:
                        i = self.slot.get(key, -1)
                        if i < 0:
                            continue  # written since: apply() adds it with every column
                    for f, v in zip(group, values):
                        cols[f].vals[i] = _pack(v)
                first = False
            self._loaded = True
        for f, col in cols.items():
            _share_values(col.vals)
            col.missing = {i for i, k, v in zip(self._ints, self.ids, col.vals) if k is not None and v == _EMPTY}
            col.multi = sum(1 for v in col.vals if v.__class__ is tuple and len(v) > 1)
            self._cols[f] = col
        self._clear_derived()

    def _new_slot(self, key: str, order: int) -> int:
        """A slot for a document not held yet (the columns are the caller's to extend)."""
        i = len(self.ids)
        self._ints.append(i)
        self.ids.append(key)
        self.orders.append(order)
        self.slot[key] = i
        return i

    #: beyond this many derived structures, a change drops them instead of updating each
    DERIVED_KEEP = 64

    def apply(self, key: str, order: int, source: Json | None) -> None:
        """One document changed (``source`` None: it is gone): its slot, every built column and
        what is derived from them (term unions, intersections, range counts) are updated for
        that slot; nothing else is visited."""
        self.changes += 1
        self._missing = {}
        if len(self._sets) + len(self._inter) + len(self._counts) > self.DERIVED_KEEP:
            self._clear_derived()
        old = self.slot.get(key, -1)
        before = self._counted_state(old) if self._counts and old >= 0 else None
        dropped = False
        i = old
        if i >= 0 and (source is None or self.orders[i] != order):
            dropped = self._unset(i)
            self.ids[i] = None
            del self.slot[key]
            self._docs.pop(i, None)
            if self._live is not None:
                j = bisect_left(self._live, i)
                if j < len(self._live) and self._live[j] == i:
                    del self._live[j]
            i = -1
        if source is not None:
            fresh = i < 0
            if fresh:
                i = self._new_slot(key, order)
                if self._live is not None:
                    self._live.append(i)
                for col in self._cols.values():
                    col.vals.append(_EMPTY)
                    if col.skey is not None:
                        col.skey.append(None)
            else:
                self._docs.pop(i, None)
            doc = Doc(key, source)
            for f, col in self._cols.items():
                new = _pack(doc.values(f, cache=False))
                if fresh or new != col.vals[i]:
                    dropped = self._unset_one(col, i) or dropped
                    self._set_one(col, i, new)
        if dropped:  # a posting emptied (a derived set may hold it): derive afresh when needed
            self._clear_derived()
            return
        self._track(list(dict.fromkeys(s for s in (old, i) if s >= 0)), old, before)

    def _track(self, slots: list[int], old: int, before: list[Any] | None) -> None:
        """Bring the derived sets and counts up to date for ``slots`` (the changed document's old
        and new slot); ``before``: each count's (member, key) of slot ``old`` before the change."""
        for (field, keys), out in self._sets.items():
            post = self._cols[field].post or {}
            for s in slots:
                if any(s in post.get(k, ()) for k in keys):
                    out.add(s)
                else:
                    out.discard(s)
        for comps, out in self._inter.values():
            for s in slots:
                if all(s in c for c in comps):
                    out.add(s)
                else:
                    out.discard(s)
        if not self._counts:
            return
        for n, (members, field, keys) in enumerate(self._counts.values()):
            skey = self._cols[field].skey
            for s in slots:
                was = before[n] if before is not None and s == old else None
                now = skey[s] if skey is not None and s < len(skey) and s in members else None
                if was == now:
                    continue
                if was is not None:
                    j = bisect_left(keys, was)
                    if j < len(keys) and keys[j] == was:
                        del keys[j]
                if now is not None:
                    keys.insert(bisect_left(keys, now), now)

    def _counted_state(self, i: int) -> list[Any]:
        """Per count structure, slot ``i``'s key in it (None: not counted there)."""
        out = []
        for members, field, _ in self._counts.values():
            skey = self._cols[field].skey
            out.append(skey[i] if skey is not None and i in members else None)
        return out

    def _unset(self, i: int) -> bool:
        dropped = False
        for col in self._cols.values():
            dropped = self._unset_one(col, i) or dropped
            col.missing.discard(i)
        return dropped

    @staticmethod
    def _unset_one(col: _Column, i: int) -> bool:
        """Slot ``i`` holds nothing in ``col`` any more; True if a posting set emptied (and went)."""
        old = col.vals[i]
        col.missing.discard(i)
        dropped = False
        n = _count(old)
        if n > 1:
            col.multi -= 1
        if col.post is not None:
            for k in {k for v in _unpack(old) for k in _norm_keys(v)}:
                bucket = col.post.get(k)
                if bucket is not None:
                    bucket.discard(i)
                    if not bucket:
                        del col.post[k]
                        dropped = True
        if col.keys is not None and n == 1:
            k = sort_key(old)
            lo, hi = bisect_left(col.keys, k), bisect_right(col.keys, k)
            j = bisect_left(col.positions, i, lo, hi)  # type: ignore[arg-type]
            if j < hi and col.positions[j] == i:  # type: ignore[index]
                del col.keys[j]
                del col.positions[j]  # type: ignore[union-attr]
            col.skey[i] = None  # type: ignore[index]
        col.vals[i] = _EMPTY
        return dropped

    @staticmethod
    def _set_one(col: _Column, i: int, new: Any) -> None:
        """Slot ``i`` holds ``new`` (packed: see :func:`_pack`) in ``col``."""
        col.vals[i] = new
        n = _count(new)
        if not n:
            col.missing.add(i)
            return
        if n > 1:
            col.multi += 1
        if col.post is not None:
            for k in {k for v in _unpack(new) for k in _norm_keys(v)}:
                col.post.setdefault(k, set()).add(i)
        if col.keys is not None and n == 1:
            k = sort_key(new)
            lo, hi = bisect_left(col.keys, k), bisect_right(col.keys, k)
            j = bisect_left(col.positions, i, lo, hi)  # type: ignore[arg-type]
            col.keys.insert(j, k)
            col.positions.insert(j, i)  # type: ignore[union-attr]
            col.skey[i] = k  # type: ignore[index]

    # -- per-field structures ------------------------------------------------------------------
    def postings(self, field: str) -> dict[Any, set[int]]:
        col = self._column(field)
        if col.post is None:
            # slots grouped by value first (by type too: True, 1 and 1.0 are equal keys in a
            # dict), then each distinct value's posting keys once
            groups: dict[tuple[type, Any], list[int]] = {}
            for i, vals in zip(self._ints, col.vals):
                for v in (vals if vals.__class__ is tuple else (vals,)):
                    hit = groups.get((v.__class__, v))
                    if hit is None:
                        groups[(v.__class__, v)] = [i]
                    elif hit[-1] != i:
                        hit.append(i)
            post: dict[Any, set[int]] = {}
            for (_, v), slots in groups.items():
                for k in _norm_keys(v):
                    bucket = post.get(k)
                    if bucket is None:
                        post[k] = set(slots)
                    else:
                        bucket.update(slots)
            col.post = post
        return col.post

    def kind(self, field: str) -> str | None:
        """The field's mapping (``date``, ``number``, ``boolean``, ``keyword``) from its column, as
        dynamic mapping reads the first value; None when no live document has a value (unmapped)."""
        col = self._column(field)
        if len(col.missing) >= len(self.slot):
            return None
        for vals in col.vals:
            if vals != _EMPTY:
                return value_kind(field, _unpack(vals)[0])
        return None

    def term_set(self, field: str, wanted: list[Any]) -> set[int] | frozenset[int]:
        """The slots holding any of ``wanted`` (one term: the live posting set itself; several:
        their union, kept up to date; read them, never change them)."""
        post = self.postings(field)
        keys = tuple(sorted({k for w in wanted for k in _wanted_keys(w)}, key=repr))
        if len(keys) == 1:
            return post.get(keys[0]) or frozenset()
        cached = self._sets.get((field, keys))
        if cached is None:
            out: set[int] = set()
            for k in keys:
                out.update(post.get(k, ()))
            if len(self._sets) + len(self._inter) + len(self._counts) >= self.DERIVED_KEEP:
                self._clear_derived()  # many distinct terms queried: start again
            cached = self._sets[(field, keys)] = out
        return cached

    def sorted_by(self, field: str) -> tuple[list[Any], list[int], list[int]] | None:
        """(keys ascending, slots in that order, live slots without a value) for a field that
        holds at most one value per document; None for a multi-valued field."""
        col = self._column(field)
        if col.multi:
            return None
        if col.keys is None:
            col.skey = [None if v.__class__ is tuple else sort_key(v) for v in col.vals]  # tuples: none or several
            pairs = sorted((k, i) for i, k in zip(self._ints, col.skey) if k is not None)
            col.keys = [k for k, _ in pairs]
            col.positions = [i for _, i in pairs]
        missing = self._missing.get(field)
        if missing is None:
            missing = self._missing[field] = sorted(col.missing)
        return col.keys, col.positions, missing  # type: ignore[return-value]

    def intersect(self, sets: list[Any]) -> Any:
        """One set for several, e.g. active ∩ source_id: kept (with the sets it is made of, so
        their ids stay unique) and brought up to date slot by slot on a change."""
        if len(sets) == 1:
            return sets[0]
        if all(isinstance(x, (set, frozenset)) for x in sets):
            key = tuple(sorted(id(x) for x in sets))
            hit = self._inter.get(key)
            if hit is None:
                ordered = sorted(sets, key=len)
                acc = set(ordered[0])
                for x in ordered[1:]:
                    acc &= x
                if len(self._sets) + len(self._inter) + len(self._counts) >= self.DERIVED_KEEP:
                    self._clear_derived()
                    return acc
                self._inter[key] = (tuple(sets), acc)
                return acc
            return hit[1]
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
        ranges = []
        for f, (lo, hi) in plan.ranges.items():
            if f == skip_field:
                continue
            if lo >= hi:
                return lambda i: False
            col = self._cols[f]
            # a planned range covers whole groups of equal keys: a slot is in it iff its key is
            ranges.append((col.skey, col.keys[lo], col.keys[hi - 1]))  # type: ignore[index]
        if one is None and not ranges:
            return lambda i: True
        if not ranges:
            return one.__contains__
        if one is None and len(ranges) == 1:
            sk, klo, khi = ranges[0]
            return lambda i: sk[i] is not None and klo <= sk[i] <= khi

        def ok(i: int) -> bool:
            if one is not None and i not in one:
                return False
            for sk, klo, khi in ranges:
                k = sk[i]
                if k is None or not klo <= k <= khi:
                    return False
            return True
        return ok

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

    def count(self, plan: "Plan") -> int:
        """How many documents the plan holds: by bisection when it is sets and one range (the
        sorted keys of the sets' slots on that field are kept), else by walking the candidates."""
        if len(plan.ranges) == 1 and all(isinstance(x, (set, frozenset)) for x in plan.sets):
            (field, (lo, hi)), = plan.ranges.items()
            if lo >= hi:
                return 0
            if not plan.sets:
                return hi - lo
            col = self._cols[field]
            keys = self._counted(self.intersect(plan.sets), field)
            return bisect_right(keys, col.keys[hi - 1]) - bisect_left(keys, col.keys[lo])  # type: ignore[index]
        if not plan.ranges and plan.sets:
            return len(self.intersect(plan.sets))
        found = self._candidates(plan)
        return len(self.slot) if found is None else len(found)  # type: ignore[arg-type]

    def _counted(self, members: Any, field: str) -> list[Any]:
        """The sort keys on ``field`` of the slots in ``members`` (a set of this index), ascending."""
        hit = self._counts.get((id(members), field))
        if hit is None:
            skey = self._cols[field].skey
            keys = sorted(k for k in map(skey.__getitem__, members) if k is not None)  # type: ignore[union-attr]
            if len(self._sets) + len(self._inter) + len(self._counts) >= self.DERIVED_KEEP:
                self._clear_derived()
                return keys
            hit = self._counts[(id(members), field)] = (members, field, keys)
        return hit[2]


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
