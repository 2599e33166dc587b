"""Typed access to one tenant's data: ``TenantState.collection("products")``.

Models take a :class:`TenantState` and never touch Flask or the raw store.
"""
from __future__ import annotations

import threading
import weakref
from array import array
from bisect import bisect_left, bisect_right
from typing import Any, Callable, Iterator

from mocks.core.clock import Clock
from mocks.core.coerce import is_ascii_digits
from mocks.core.store import Json, Store, ns


class KeyIndex:
    """A per-process look-up from values computed from each document (``fn(doc)``: an iterable of
    hashable values) to the keys holding them, kept up to date through the store's change log:
    built once by streaming the collection (nothing kept but the look-up), then each write re-reads
    only the documents it changed. For look-ups such as "the product with this source code" or
    "the variant with this SKU" that would otherwise walk the whole collection.

    Compact (issue 16: it was two dicts of strings, ~20 MB per 100,000 products in every worker):
    two parallel arrays of 64-bit integers, ``hash(value)`` ascending and the key holding it
    (``int(key)`` for a decimal key, else a place in ``others``): 16 bytes per value. A look-up
    reads the few documents under its hash and keeps those that still map to the value, so a
    hash collision or an entry left by a change (a document that no longer holds a value, or is
    gone: a change only adds entries) never shows; such an entry is dropped when met."""

    def __init__(self, store: Store, namespace: str, fn: Callable[[Json], Any], fields: list[str] | None = None) -> None:
        self.store = store
        self.namespace = namespace
        self.fn = fn
        self.fields = fields   # top-level fields fn reads: the first build reads only those
        self.lock = threading.RLock()
        self.seq = -1
        self.hashes = array("q")   # hash(value) of every (value, key) entry, ascending
        self.codes = array("q")    # the entry's key (see _code), in the same place
        self.others: list[str] = []          # keys that are not plain decimal numbers
        self._other_at: dict[str, int] = {}

    def _code(self, key: str) -> int:
        """A key as one integer: itself for a plain decimal number (no sign, no leading zero, at
        most 18 digits), else -1 - its place in ``others``."""
        if len(key) <= 18 and is_ascii_digits(key) and (key[0] != "0" or key == "0"):
            return int(key)
        at = self._other_at.get(key)
        if at is None:
            at = self._other_at[key] = len(self.others)
            self.others.append(key)
        return -1 - at

    def _key(self, code: int) -> str:
        return str(code) if code >= 0 else self.others[-1 - code]

    def _values(self, doc: Json) -> dict[Any, None]:
        return dict.fromkeys(self.fn(doc) or ())

    def _add(self, key: str, doc: Json) -> None:
        """The document of ``key`` maps to its values (entries already there stay where they are)."""
        hashes, codes, code = self.hashes, self.codes, None
        for h in dict.fromkeys(map(hash, self._values(doc))):  # one entry per hash and key
            if code is None:
                code = self._code(key)
            lo, hi = bisect_left(hashes, h), bisect_right(hashes, h)
            if code not in codes[lo:hi]:
                hashes.insert(hi, h)
                codes.insert(hi, code)

    def _build(self, rows: Iterator[tuple[str, Json]]) -> int:
        hashes, codes, n = array("q"), array("q"), 0
        for key, doc in rows:
            n += 1
            code = None
            for h in dict.fromkeys(map(hash, self._values(doc))):  # one entry per hash and key
                if code is None:
                    code = self._code(key)
                hashes.append(h)
                codes.append(code)
        order = sorted(range(len(hashes)), key=hashes.__getitem__)  # stable: ties in store order
        self.hashes = array("q", map(hashes.__getitem__, order))
        self.codes = array("q", map(codes.__getitem__, order))
        return n

    def _fresh(self) -> None:
        store = self.store
        with self.lock:
            seq = store.applied()  # syncs the change log; what is read from here on is newer
            changed = None if self.seq < 0 else store.changes_after(self.namespace, self.seq)
            if changed is None:
                self.others, self._other_at = [], {}
                if self.fields:  # only the fields fn reads (SQLite reads them without decoding)
                    fields = self.fields
                    rows = ((key, {f: v[0] for f, v in zip(fields, values) if v})
                            for key, _, values in store.scan_columns(self.namespace, fields, _top_level))
                else:
                    rows = ((key, store.loads(raw)) for key, raw in store.scan(self.namespace))
                store.counters["indexed"] += self._build(rows)
            elif changed:
                rows = store.get_rows(self.namespace, changed)
                for key in changed:
                    row = rows.get(key)
                    if row is not None:
                        self._add(key, row[1])
                store.counters["indexed"] += len(changed)
            self.seq = max(self.seq, seq)

    def refresh(self) -> None:
        """Build the index now (the first time) or apply the changes since (later): what a look-up
        would do first, done ahead of it."""
        self._fresh()

    def get(self, value: Any) -> list[str]:
        """The keys whose document maps to ``value``, in store order."""
        store = self.store
        store.version(self.namespace)  # a read the response cache tracks (_fresh follows the change log)
        self._fresh()
        h = hash(value)
        with self.lock:
            hashes, codes = self.hashes, self.codes
            lo, hi = bisect_left(hashes, h), bisect_right(hashes, h)
            if lo == hi:
                return []
            held = list(codes[lo:hi])
            keys = [self._key(c) for c in held]
            rows = store.get_rows(self.namespace, keys)
            found, gone = [], []
            for code, key in zip(held, keys):
                row = rows.get(key)
                values = self._values(row[1]) if row is not None else {}
                if value in values:
                    found.append((row[0], key))
                elif not any(hash(v) == h for v in values):
                    gone.append(code)
            tx = store._tx()
            if gone and (tx is None or not tx.dirty):  # committed data only: a rollback would undo it
                for code in gone:
                    lo, hi = bisect_left(hashes, h), bisect_right(hashes, h)
                    at = codes.index(code, lo, hi)
                    del hashes[at]
                    del codes[at]
        return [key for _, key in sorted(found)]


def _top_level(doc: Json, field: str) -> list[Any]:
    value = doc.get(field) if isinstance(doc, dict) else None
    return [] if value is None else [value]


_KEY_INDEXES: "weakref.WeakKeyDictionary[Store, dict[tuple[str, str], KeyIndex]]" = weakref.WeakKeyDictionary()
_KEY_INDEXES_LOCK = threading.Lock()


class Collection:
    """An ordered map of id -> document in one tenant's namespace."""

    def __init__(self, store: Store, namespace: str) -> None:
        self.store = store
        self.namespace = namespace

    def get(self, key: str) -> Json | None:
        """A private copy, safe to modify and put back."""
        return self.store.get(self.namespace, str(key))

    def lookup(self, key: str) -> Json | None:
        """A shared, read-only view (faster; do not modify)."""
        return self.store.lookup(self.namespace, str(key))

    def put(self, key: str, value: Json) -> None:
        self.store.put(self.namespace, str(key), value)

    def put_many(self, items: list[tuple[str, Json]]) -> None:
        self.store.put_many(self.namespace, [(str(k), v) for k, v in items])

    def add(self, key: str, value: Json) -> bool:
        return self.store.add(self.namespace, str(key), value)

    def delete(self, key: str) -> bool:
        return self.store.delete(self.namespace, str(key))

    def update(self, key: str, fn: Callable[[Json | None], Json | None]) -> Json | None:
        return self.store.update(self.namespace, str(key), fn)

    def items(self) -> list[tuple[str, Json]]:
        """Read-only shared views in insertion order."""
        return self.store.items(self.namespace)

    def values(self) -> list[Json]:
        return self.store.values(self.namespace)

    def keys(self) -> list[str]:
        return [k for k, _ in self.store.items(self.namespace)]

    def count(self) -> int:
        return self.store.count(self.namespace)

    def key_index(self, name: str, fn: Callable[[Json], Any], fields: list[str] | None = None) -> KeyIndex:
        """This process's :class:`KeyIndex` called ``name`` over the collection (one per name:
        the same ``fn`` every time). ``fields``: the top-level fields ``fn`` reads (each read whole),
        if that is all it reads."""
        with _KEY_INDEXES_LOCK:
            per_store = _KEY_INDEXES.setdefault(self.store, {})
            hit = per_store.get((self.namespace, name))
            if hit is None:
                hit = per_store[(self.namespace, name)] = KeyIndex(self.store, self.namespace, fn, fields)
        return hit

    def get_many(self, keys: list[str]) -> dict[str, Json]:
        """Private copies of the documents of those keys that exist, in one round trip."""
        return self.store.get_many(self.namespace, [str(k) for k in keys])

    def __contains__(self, key: object) -> bool:
        return self.lookup(str(key)) is not None


class TenantState:
    """One tenant of one API: its collections, its counters and the sandbox clock."""

    def __init__(self, store: Store, api: str, tenant: str, clock: Clock, options: dict[str, Any] | None = None) -> None:
        self.store = store
        self.api = api
        self.tenant = tenant
        self.clock = clock
        self.options = options or {}

    def collection(self, name: str) -> Collection:
        return Collection(self.store, ns(self.api, self.tenant, name))

    def next_id(self, sequence: str, start: int = 1) -> int:
        """A per-tenant increasing id, atomic across workers (first value is ``start``)."""
        value = self.store.incr(ns(self.api, self.tenant, "__sequences__"), sequence)
        return start + value - 1

    def reserve_ids(self, sequence: str, count: int, start: int = 1) -> range:
        """``count`` consecutive ids of the same sequence as :meth:`next_id`, in one write."""
        last = self.store.incr(ns(self.api, self.tenant, "__sequences__"), sequence, count)
        return range(start + last - count, start + last)

    def due(self, ref: str, at: float, earliest: bool = False) -> None:
        """Ask for ``Api.run_due(sandbox, tenant, ref, now)`` once this tenant's clock reaches ``at``
        (a timer of :mod:`mocks.core.scheduler`; ``earliest``: keep an earlier time already set).
        Models use this for work that happens later on its own: queues, order moves, index lag."""
        from mocks.core import scheduler
        scheduler.schedule_in(self.store, "api", self.api, self.tenant, ref, at, earliest=earliest)

    def now(self) -> float:
        """This tenant's sandbox clock (global, then API, then tenant scope: mocks.core.clock)."""
        return self.clock.now(self.api, self.tenant)
