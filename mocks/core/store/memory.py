"""The one-process backend: :class:`MemoryStore`."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from typing import Callable, Iterable, Iterator

from mocks.core import cache as _cache
from mocks.core.store.base import (
    BULK_CHANGE, CHANGE_LOG_KEEP, Json, Store, Updater, _Tx, _dumps, _loads,
)
from mocks.core.store.journal import Encoded


class MemoryStore(Store):
    """Process-local state. Fast; not shared between gunicorn workers."""

    kind = "memory"

    def __init__(self, journal_size: int = 10_000) -> None:
        super().__init__(journal_size)
        self._data: dict[str, OrderedDict[str, str]] = {}
        self._orders: dict[str, dict[str, int]] = {}   # insert order of every key
        self._order = 0
        self._versions: dict[str, int] = {}
        self._seq = 0
        self._changes: deque[tuple[int, str, str | None]] = deque(maxlen=CHANGE_LOG_KEEP)
        self._lock = threading.RLock()
        self._journal: deque[Json] = deque(maxlen=journal_size)
        self._journal_seq = 0

    def _bump(self, namespace: str, keys: list[str] | None = None) -> None:
        """Log a change of ``keys`` (None: the whole namespace). Under ``self._lock``."""
        self._seq += 1
        if keys is None or len(keys) > BULK_CHANGE:
            self._changes.append((self._seq, namespace, None))
        else:
            self._changes.extend((self._seq, namespace, k) for k in keys)
        self._versions[namespace] = self._seq
        self._wrote()

    def _place(self, namespace: str, key: str) -> None:
        orders = self._orders.setdefault(namespace, {})
        if key not in orders:
            self._order += 1
            orders[key] = self._order

    def _global_version(self) -> int:
        return self._seq

    def _changes_since(self, seq: int) -> list[tuple[int, str, str | None]] | None:
        with self._lock:
            log = self._changes
            if len(log) == log.maxlen and log[0][0] > seq:  # the oldest were dropped
                return None
            out = []
            for change in reversed(log):
                if change[0] <= seq:
                    break
                out.append(change)
        out.reverse()
        return out

    def _ns_version(self, namespace: str) -> int:
        return self._versions.get(namespace, 0)

    def _note(self, namespace: str, keys: Iterable[str], bucket: OrderedDict[str, str], deleting: bool = False) -> None:
        """Inside a transaction: remember what ``keys`` held, to put it back on rollback.

        The first write of a transaction takes the store's lock until the transaction ends.
        """
        tx = self._tx()
        if tx is None:
            return
        if not tx.dirty:
            self._lock.acquire()
            tx.dirty = True
        tx.written.add(namespace)
        if deleting and namespace not in tx.orders:
            tx.orders[namespace] = list(bucket)  # a deleted key goes back to its place
        tx.undo.extend((namespace, k, bucket.get(k)) for k in keys)

    def _tx_commit(self, tx: _Tx) -> None:
        self._lock.release()

    def _tx_rollback(self, tx: _Tx) -> None:
        try:
            for namespace, key, old in reversed(tx.undo):
                bucket = self._data.setdefault(namespace, OrderedDict())
                if old is None:
                    bucket.pop(key, None)
                else:
                    bucket[key] = old
            for namespace, order in tx.orders.items():
                bucket = self._data[namespace]
                placed = OrderedDict((k, bucket[k]) for k in order if k in bucket)
                placed.update(bucket)
                self._data[namespace] = placed
            for namespace in tx.written:
                self._bump(namespace)  # forward, never back: caches keyed by version stay right
        finally:
            self._lock.release()

    def _tx_version(self, tx: _Tx, namespace: str) -> int:
        return self._versions.get(namespace, 0)

    def get(self, namespace: str, key: str) -> Json | None:
        if _cache.tracking():
            self.version(namespace)
        raw = self._data.get(namespace, {}).get(key)
        return None if raw is None else _loads(raw)

    def put_many(self, namespace: str, items: Iterable[tuple[str, Json]]) -> None:
        encoded = [(k, _dumps(v)) for k, v in items]
        with self._lock:
            bucket = self._data.setdefault(namespace, OrderedDict())
            self._note(namespace, [k for k, _ in encoded], bucket)
            for k, raw in encoded:
                bucket[k] = raw
                self._place(namespace, k)
            self._bump(namespace, [k for k, _ in encoded])

    def add(self, namespace: str, key: str, value: Json) -> bool:
        with self._lock:
            bucket = self._data.setdefault(namespace, OrderedDict())
            if key in bucket:
                return False
            raw = _dumps(value)
            self._note(namespace, [key], bucket)
            bucket[key] = raw
            self._place(namespace, key)
            self._bump(namespace, [key])
            return True

    def delete(self, namespace: str, key: str) -> bool:
        with self._lock:
            bucket = self._data.get(namespace)
            if not bucket or key not in bucket:
                return False
            self._note(namespace, [key], bucket, deleting=True)
            del bucket[key]
            self._orders.get(namespace, {}).pop(key, None)
            self._bump(namespace, [key])
            return True

    def update(self, namespace: str, key: str, fn: Updater) -> Json | None:
        with self._lock:
            bucket = self._data.setdefault(namespace, OrderedDict())
            raw = bucket.get(key)
            new = fn(None if raw is None else _loads(raw))
            encoded = None if new is None else _dumps(new)
            self._note(namespace, [key], bucket, deleting=new is None)
            if encoded is None:
                bucket.pop(key, None)
                self._orders.get(namespace, {}).pop(key, None)
            else:
                bucket[key] = encoded
                self._place(namespace, key)
            self._bump(namespace, [key])
            return new

    def _rows(self, namespace: str, keys: list[str]) -> dict[str, tuple[int, str]]:
        with self._lock:
            bucket = self._data.get(namespace, {})
            orders = self._orders.get(namespace, {})
            return {k: (orders.get(k, 0), bucket[k]) for k in keys if k in bucket}

    def _scan(self, namespace: str) -> Iterator[tuple[str, int, str]]:
        with self._lock:
            orders = self._orders.get(namespace, {})
            rows = [(k, orders.get(k, 0), raw) for k, raw in self._data.get(namespace, {}).items()]
        return iter(rows)

    def _count(self, namespace: str) -> int:
        return len(self._data.get(namespace, ()))

    def namespaces(self, prefix: str = "") -> list[str]:
        return sorted(n for n, b in self._data.items() if n.startswith(prefix) and b)

    def clear(self, prefix: str) -> None:
        with self._lock:
            for name in [n for n in self._data if n.startswith(prefix)]:
                self._note(name, list(self._data[name]), self._data[name], deleting=True)
                del self._data[name]
                self._orders.pop(name, None)
                self._bump(name)

    def journal_append(self, entry: Json) -> int:
        with self._lock:
            self._journal_seq += 1
            entry = dict(entry.entry() if isinstance(entry, Encoded) else entry, seq=self._journal_seq)
            self._journal.append(entry)
            return self._journal_seq

    def journal(self, since: int = 0, limit: int | None = None) -> list[Json]:
        with self._lock:
            rows = [e for e in self._journal if e["seq"] > since]
        return rows[-limit:] if limit else rows

    def journal_clear(self) -> None:
        with self._lock:
            self._journal.clear()

    def snapshot(self) -> Callable[[], None]:
        """Remember every namespace and the journal as they are now; the returned function puts
        them back. Only namespaces written since (their version moved) are copied back, so a
        restore costs what the writes touched. Versions only move forward: every cache keyed by
        a namespace's version sees the change."""
        with self._lock:
            saved = {name: OrderedDict(bucket) for name, bucket in self._data.items()}
            orders = {name: dict(keys) for name, keys in self._orders.items()}
            clean = dict(self._versions)
            journal, seq = list(self._journal), self._journal_seq

        def restore() -> None:
            with self._lock:
                for name, version in list(self._versions.items()):
                    if clean.get(name) == version:
                        continue
                    if name in saved:
                        self._data[name] = OrderedDict(saved[name])
                        self._orders[name] = dict(orders.get(name, {}))
                    else:
                        self._data.pop(name, None)
                        self._orders.pop(name, None)
                    self._bump(name)
                    clean[name] = self._versions[name]
                self._journal = deque(journal, maxlen=self._journal.maxlen)
                self._journal_seq = seq

        return restore


# ---------------------------------------------------------------------------------------------
