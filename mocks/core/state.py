"""Typed access to one tenant's data: ``TenantState.collection("products")``.

Models take a :class:`TenantState` and never touch Flask or the raw store.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Callable

from mocks.core.clock import Clock
from mocks.core.store import Json, Store, ns


class KeyIndex:
    """A per-process map from values computed from each document (``fn(doc)``: an iterable of
    hashable values) to the keys holding them, kept up to date through the store's change log:
    built once by streaming the collection (nothing kept but the map), then each write re-reads
    only the documents it changed. For look-ups such as "the product with this source code" or
    "the variant with this SKU" that would otherwise walk the whole collection."""

    def __init__(self, store: Store, namespace: str, fn: Callable[[Json], Any], fields: list[str] | None = None) -> None:
        self.store = store
        self.namespace = namespace
        self.fn = fn
        self.fields = fields   # top-level fields fn reads: the first build reads only those
        self.lock = threading.Lock()
        self.seq = -1
        self.by_key: dict[str, Any] = {}  # key -> its value, or a tuple of its values
        # value -> the one key holding it (most values), or the keys in order (a dict) when several
        self.keys: dict[Any, str | dict[str, None]] = {}

    def _set(self, key: str, doc: Json | None) -> None:
        keys = self.keys
        held = self.by_key.pop(key, ())
        for old in held if type(held) is tuple else (held,):
            bucket = keys.get(old)
            if bucket is None:
                continue
            if type(bucket) is str:
                if bucket == key:
                    del keys[old]
                continue
            bucket.pop(key, None)
            if len(bucket) == 1:
                keys[old] = next(iter(bucket))
            elif not bucket:
                del keys[old]
        values = () if doc is None else tuple(dict.fromkeys(self.fn(doc) or ()))
        if values:  # one value that is not a tuple is kept as itself (most documents: a tuple less each)
            self.by_key[key] = values[0] if len(values) == 1 and type(values[0]) is not tuple else values
            for value in values:
                bucket = keys.get(value)
                if bucket is None:
                    keys[value] = key
                elif type(bucket) is str:
                    if bucket != key:
                        keys[value] = {bucket: None, key: None}
                else:
                    bucket[key] = None

    def _fresh(self) -> None:
        store = self.store
        with self.lock:
            seq = store.applied()  # syncs the change log; what is read from here on is newer
            changed = None if self.seq < 0 else store.changes_after(self.namespace, self.seq)
            if changed is None:
                self.by_key, self.keys = {}, {}
                if self.fields:  # only the fields fn reads (SQLite reads them without decoding)
                    for key, _, values in store.scan_columns(self.namespace, self.fields, _top_level):
                        self._set(key, {f: v[0] for f, v in zip(self.fields, values) if v})
                else:
                    for key, raw in store.scan(self.namespace):
                        self._set(key, store.loads(raw))
                store.counters["indexed"] += len(self.by_key)
            elif changed:
                rows = store.get_rows(self.namespace, changed)
                for key in changed:
                    row = rows.get(key)
                    self._set(key, None if row is None else row[1])
                store.counters["indexed"] += len(changed)
            self.seq = max(self.seq, seq)

    def refresh(self) -> None:
        """Build the index now (the first time) or apply the changes since (later): what a look-up
        would do first, done ahead of it."""
        self._fresh()

    def get(self, value: Any) -> list[str]:
        """The keys whose document maps to ``value``, in the order they were indexed."""
        self.store.version(self.namespace)  # a read the response cache tracks (_fresh follows the change log)
        self._fresh()
        bucket = self.keys.get(value, ())
        return [bucket] if type(bucket) is str else list(bucket)


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
