"""State backends behind one small interface.

Conventions
-----------
* Data lives in *namespaces* (``"click2sync/c2s-demo-key/products"``): an ordered map of
  string keys to JSON values. Order is first-insert order; an update keeps an item's place.
  Build namespaces with :func:`ns` so the layout stays ``api/tenant/collection``.
* Values are JSON documents. A backend stores them serialised, so what is read back is a
  fresh copy: mutate freely, then ``put`` it back.
* Every write is durable when the call returns (sqlite: committed in WAL mode; redis: the
  server acknowledged it), so an acknowledged client write survives ``kill -9``.
* ``update`` is the one read-modify-write primitive and is atomic across processes.
* :meth:`Store.transaction` groups the writes of one request: they commit together when the
  block ends, or none of them does if it raises (sqlite: one ``BEGIN IMMEDIATE`` transaction
  from the first write, each write a savepoint in it; redis: writes gathered and applied in one
  MULTI/EXEC, under a write lock; memory: an undo log under the store's lock). The block
  holds the backend's write lock from its first write to its end, like any database
  transaction; reads before the first write take no lock.
* ``items`` of a namespace is cached per process and keyed by the namespace's version, which
  every write bumps; workers sharing a backend see each other's writes on their next read.
* The request journal is a bounded ring (oldest dropped) in the same backend, so every
  worker's requests show up in ``/__sandbox/requests``. The shared backends write it in
  batches from a per-process buffer (:class:`JournalBuffer`, flushed every few milliseconds
  and before every read): the journal is a diagnostic, and one transaction per batch instead
  of one per request keeps 16 threads from queueing on the database's write lock. A process
  killed with ``kill -9`` loses at most the last few milliseconds of journal, never data.

Backends: :class:`MemoryStore` (one process), :class:`SqliteStore` (default, file under
``./.sandbox/``), :class:`RedisStore` (``redis://host:port/db``). :func:`open_store` picks one
from a URL.
"""
from __future__ import annotations

import atexit
import contextlib
import gc
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Callable, Iterable, Iterator

from mocks.core import cache as _cache
from mocks.core import jsonutil

Json = Any
Updater = Callable[[Json | None], Json | None]

_dumps = jsonutil.dumps
_loads = jsonutil.loads


class JournalBuffer:
    """Journal entries of this process waiting to be written in one batch.

    A daemon thread flushes a few milliseconds after the first pending entry; readers flush
    first (``Store.journal``); exit flushes too. Safe across fork: a child starts empty.
    """

    def __init__(self, write_batch: Callable[[list[Json]], None], interval: float = 0.005) -> None:
        self.write_batch = write_batch
        self.interval = interval
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: list[Json] = []
        self._wake = threading.Event()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None

    def append(self, entry: Json) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: nothing inherited is ours to write
                self._pid, self._pending, self._thread = os.getpid(), [], None
                self._wake = threading.Event()
                atexit.register(self.flush)
            self._pending.append(entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.interval)  # let a batch gather
            self._wake.clear()
            self.flush()

    def settle(self) -> None:
        """Before a read: write this process's entries, and give other processes' writers the
        time of one batch so that what they answered already is there too."""
        self.flush()
        time.sleep(self.interval * 2)

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                if self._pid != os.getpid():
                    return
                batch, self._pending = self._pending, []
            if batch:
                try:
                    self.write_batch(batch)
                except Exception:  # the journal must never take a request or the process down
                    logging.getLogger("commerce_sandbox").exception("journal batch of %d lost", len(batch))


class _Tx:
    """The state of one open :meth:`Store.transaction` (per thread)."""

    __slots__ = ("dirty", "written", "cache", "undo", "orders", "overlay", "clears", "token", "count")

    def __init__(self) -> None:
        self.dirty = False                   # a write happened (the backend's lock is held)
        self.written: set[str] = set()       # namespaces written
        self.cache: dict[str, tuple[int, list[tuple[str, Json]], dict[str, Json]]] = {}
        self.undo: list[tuple[str, str, str | None]] = []   # memory: (ns, key, old json | None)
        self.orders: dict[str, list[str]] = {}               # memory: key order before a delete
        self.overlay: dict[str, OrderedDict[str, str | None]] = {}       # redis: ns -> key -> json | None
        self.clears: list[str] = []          # redis: prefixes cleared
        self.token = ""                      # redis: the write lock's token
        self.count = 0                       # redis: writes so far (the namespaces' tx version)


def _journal_dumps(entry: Json) -> str:
    """A journal entry as JSON; text no store can hold (a lone surrogate) becomes U+FFFD, so one
    odd request never costs the batch it is written with."""
    try:
        return _dumps(entry).encode("utf-8").decode("utf-8")
    except (TypeError, ValueError):
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def ns(api: str, tenant: str, collection: str) -> str:
    """The namespace of one collection of one tenant of one API."""
    return f"{api}/{tenant}/{collection}"


class _NsCache:
    """One namespace decoded in this process: key -> (order, value) in store order, as of the
    change ``seq`` it was last brought up to date with."""

    __slots__ = ("seq", "rows", "top", "list", "lock")

    def __init__(self, seq: int, rows: dict[str, tuple[int, Json]]) -> None:
        self.seq = seq
        self.rows = rows
        self.top = max((o for o, _ in rows.values()), default=0)   # the highest insert order held
        self.list: list[tuple[str, Json]] | None = None
        self.lock = threading.Lock()


#: per namespace, how many changes this process remembers (beyond: its caches rebuild)
NS_LOG_KEEP = 20_000
#: how many changes a backend keeps in its shared change log (a process further behind rebuilds)
CHANGE_LOG_KEEP = 100_000
#: a write of more keys than this logs "the whole namespace changed" (a bulk seed) instead
BULK_CHANGE = 512


class Store:
    """The interface every backend implements (see the module docstring)."""

    kind = "abstract"

    def __init__(self, journal_size: int = 10_000) -> None:
        self.journal_size = journal_size
        self._cache: dict[str, _NsCache] = {}
        self._cache_lock = threading.Lock()
        self._tl = threading.local()
        # the change log as this process has applied it (see _sync)
        self._sync_lock = threading.Lock()
        self._applied: int | None = None     # the last change seq applied here
        self._floor = 0                      # changes at or before this are unknown here
        self._ns_logs: dict[str, deque[tuple[int, str | None]]] = {}
        self._ns_floor: dict[str, int] = {}
        #: work done by this process's caches: documents decoded ("decoded"), whole namespaces
        #: read ("loads"), documents (re)indexed by search indexes ("indexed"). Tests count them.
        self.counters: dict[str, int] = {"decoded": 0, "loads": 0, "indexed": 0}

    # -- documents -------------------------------------------------------------
    def get(self, namespace: str, key: str) -> Json | None:
        raise NotImplementedError

    def get_many(self, namespace: str, keys: Iterable[str]) -> dict[str, Json]:
        """Private copies of the values of those keys that exist (one round trip)."""
        if _cache.tracking():
            self.version(namespace)
        rows = self._rows(namespace, list(dict.fromkeys(keys)))
        self.counters["decoded"] += len(rows)
        return {k: _loads(raw) for k, (_, raw) in rows.items()}

    def put(self, namespace: str, key: str, value: Json) -> None:
        self.put_many(namespace, [(key, value)])

    def put_many(self, namespace: str, items: Iterable[tuple[str, Json]]) -> None:
        """Insert or replace many keys in one transaction (how seeds write)."""
        raise NotImplementedError

    def add(self, namespace: str, key: str, value: Json) -> bool:
        """Insert only if absent; True if this call inserted it. Atomic."""
        raise NotImplementedError

    def delete(self, namespace: str, key: str) -> bool:
        raise NotImplementedError

    def update(self, namespace: str, key: str, fn: Updater) -> Json | None:
        """Atomically replace the value with ``fn(old)`` (``old`` is None when absent).

        ``fn`` returning None deletes the key. Returns the new value. ``fn`` may be called more
        than once (Redis retries it when another process wrote the key meanwhile): whatever it
        records on the side must be reset at its start.
        """
        raise NotImplementedError

    def incr(self, namespace: str, key: str, amount: int = 1) -> int:
        """Atomic counter; returns the new value."""
        return int(self.update(namespace, key, lambda old: int(old or 0) + amount))

    # -- versions and the change log ---------------------------------------------
    def version(self, namespace: str) -> int:
        """A number that changes whenever the namespace changes (the seq of its last change).

        Every write appends to the backend's change log (key by key; a bulk write or a clear
        as "the whole namespace"). A request reads the log's head once (``begin_request``) and
        applies what is new to this process's view of it (:meth:`_sync`); while the head is
        unchanged the namespace versions come from that view, without a round trip. A write
        by this thread drops the snapshot, so it reads its own writes; outside a request
        every call reads the head afresh.
        """
        tx = getattr(self._tl, "tx", None)
        if tx is not None and tx.dirty:  # uncommitted versions stay out of the shared map
            v = self._tx_version(tx, namespace)
            _cache.note_read(namespace, v)
            return v
        self._head()
        log = self._ns_logs.get(namespace)
        v = log[-1][0] if log else max(self._floor, self._ns_floor.get(namespace, 0))
        _cache.note_read(namespace, v)
        return v

    def _head(self) -> None:
        """Read the change log's head (once per request) and apply what is new here."""
        tl = self._tl
        if getattr(tl, "snap", None) is None:
            snap = self._global_version()
            self._sync(snap)
            if getattr(tl, "active", False):
                tl.snap = snap
    # -- transactions ------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside the block commit together at its end, or none if it raises.

        Nested blocks join the outer one. While the block has written, this thread's reads see
        its own writes and keep them out of the per-process caches other threads share (they
        are not committed yet).
        """
        tl = self._tl
        if getattr(tl, "tx", None) is not None:
            yield
            return
        tx = tl.tx = _Tx()
        try:
            yield
        except BaseException:
            tl.tx = None
            if tx.dirty:
                self._tx_rollback(tx)
                self._wrote()
            raise
        tl.tx = None
        if tx.dirty:
            try:
                self._tx_commit(tx)
            except BaseException:
                self._tx_rollback(tx)
                raise
            finally:
                self._wrote()

    def _tx(self) -> "_Tx | None":
        """This thread's open transaction, if any."""
        return getattr(self._tl, "tx", None)

    def _tx_commit(self, tx: "_Tx") -> None:
        raise NotImplementedError

    def _tx_rollback(self, tx: "_Tx") -> None:
        raise NotImplementedError

    def begin_request(self) -> None:
        self._tl.active, self._tl.snap = True, None

    def end_request(self) -> None:
        self._tl.active, self._tl.snap = False, None

    def _wrote(self) -> None:
        """This thread changed data: its next version() reads the global version again."""
        self._tl.snap = None
        _cache.note_write()

    def _tx_version(self, tx: "_Tx", namespace: str) -> int:
        return self._ns_version(namespace)

    def _global_version(self) -> int:
        """The seq of the newest change in the backend's change log."""
        raise NotImplementedError

    def _changes_since(self, seq: int) -> list[tuple[int, str, str | None]] | None:
        """(seq, namespace, key) of every change after ``seq``, oldest first; key None: the
        whole namespace. None if the log no longer reaches back that far."""
        raise NotImplementedError

    def _sync(self, head: int) -> None:
        """Bring this process's change log up to ``head`` (cost: the changes since last time)."""
        if self._applied is not None and head <= self._applied:
            return
        with self._sync_lock:
            applied = self._applied
            if applied is not None and head <= applied:
                return
            if applied is None:  # first look: nothing here was read before it
                self._applied = self._floor = head
                return
            changes = self._changes_since(applied)
            if changes is None:  # too far behind: every cache of this process starts again
                self._ns_logs.clear()
                self._ns_floor.clear()
                self._applied = self._floor = max(head, applied + 1)
                return
            logs = self._ns_logs
            for seq, namespace, key in changes:
                log = logs.get(namespace)
                if log is None:
                    log = logs[namespace] = deque()
                log.append((seq, key))
                if len(log) > NS_LOG_KEEP:
                    self._ns_floor[namespace] = log.popleft()[0]
                applied = max(applied, seq)
            self._applied = max(applied, head)

    def applied(self) -> int:
        """This process's position in the change log: record it *before* reading data that a
        structure is built from, then pass it to :meth:`changes_after` to bring it up to date."""
        self._head()
        return self._applied or 0

    def changes_after(self, namespace: str, since: int) -> list[str] | None:
        """Keys of ``namespace`` changed after ``since`` (each once, oldest first), as far as
        this process has synced (call :meth:`version` first); None if it cannot tell (the
        namespace was cleared, or written in bulk, or the log does not reach back): rebuild."""
        with self._sync_lock:
            if since < self._floor or since < self._ns_floor.get(namespace, 0):
                return None
            log = self._ns_logs.get(namespace)
            if not log:
                return []
            out: list[str] = []
            for seq, key in reversed(log):
                if seq <= since:
                    break
                if key is None:
                    return None
                out.append(key)
        out.reverse()
        return list(dict.fromkeys(out))

    # -- backend reads -------------------------------------------------------------
    def _rows(self, namespace: str, keys: list[str]) -> dict[str, tuple[int, str]]:
        """key -> (insert order, stored JSON) for those of ``keys`` that exist."""
        raise NotImplementedError

    def _scan(self, namespace: str) -> Iterator[tuple[str, int, str]]:
        """(key, insert order, stored JSON) of the whole namespace in order (streamed)."""
        raise NotImplementedError

    def _count(self, namespace: str) -> int:
        raise NotImplementedError

    def _items_uncached(self, namespace: str) -> list[tuple[str, Json]]:
        """The namespace as this thread sees it (inside a transaction: with its own writes)."""
        return [(k, _loads(raw)) for k, _, raw in self._scan(namespace)]

    def scan(self, namespace: str) -> Iterator[tuple[str, str]]:
        """(key, stored JSON) of every document in order, streamed and not kept: for building a
        per-process structure (a search index) without holding the decoded collection."""
        for key, _, raw in self._scan(namespace):
            yield key, raw

    def get_rows(self, namespace: str, keys: Iterable[str]) -> dict[str, tuple[int, Json]]:
        """key -> (insert order, private copy of the value) for those of ``keys`` that exist:
        what a structure kept up to date by :meth:`changes_after` re-reads (one round trip)."""
        rows = self._rows(namespace, list(dict.fromkeys(keys)))
        self.counters["decoded"] += len(rows)
        return {k: (order, _loads(raw)) for k, (order, raw) in rows.items()}

    def scan_columns(self, namespace: str, fields: list[str],
                     extract: Callable[[Json, str], list[Any]]) -> Iterator[tuple[str, int, list[list[Any]]]]:
        """(key, insert order, [values of each field]) of every document, in order, streamed:
        what a per-process column index is built from without keeping the documents.
        ``extract(doc, field)`` gives a field's values. The base decodes each document (counted);
        SQLite answers top-level fields itself (``json_extract``) and decodes only documents
        where such a field holds an array or object."""
        for key, order, raw in self._scan(namespace):
            doc = self.loads(raw)
            yield key, order, [extract(doc, f) for f in fields]

    def loads(self, raw: str) -> Json:
        """Decode a stored document (counted in ``counters["decoded"]``)."""
        self.counters["decoded"] += 1
        return _loads(raw)

    # -- the per-process decoded cache ---------------------------------------------
    def items(self, namespace: str) -> list[tuple[str, Json]]:
        """All (key, value) pairs in insertion order.

        The returned values are shared with the per-process cache: treat them as read-only
        (``get`` returns a private copy for read-modify-write).
        """
        c = self._cached(namespace)
        out = c.list
        if out is None:
            with c.lock:
                out = c.list
                if out is None:
                    out = c.list = [(k, v) for k, (_, v) in c.rows.items()]
        return out

    def lookup(self, namespace: str, key: str) -> Json | None:
        """Read-only cached single read (shares objects with :meth:`items`)."""
        hit = self._cached(namespace).rows.get(key)
        return None if hit is None else hit[1]

    def _cached(self, namespace: str) -> _NsCache:
        """This process's decoded copy of a namespace, brought up to date by re-reading only the
        keys changed since it was last used (a full read only the first time, after a bulk
        write or a clear, or when the process fell too far behind the change log)."""
        version = self.version(namespace)  # syncs the change log
        tx = self._tx()
        if tx is not None and namespace in tx.written:  # uncommitted: a cache of this thread's own
            hit = tx.cache.get(namespace)
            if hit is None or hit[0] != version:
                items = self._items_uncached(namespace)
                hit = tx.cache[namespace] = (version, _NsCache(-1, {k: (i, v) for i, (k, v) in enumerate(items)}))
            return hit[1]
        c = self._cache.get(namespace)
        if c is not None:
            keys = self.changes_after(namespace, c.seq)
            if keys is None:
                c = None
            elif keys:
                c = self._refresh(c, namespace)
        if c is None:
            c = self._load(namespace)
        return c

    def _refresh(self, c: _NsCache, namespace: str) -> _NsCache | None:
        with c.lock:
            seq = self._applied or 0
            keys = self.changes_after(namespace, c.seq)
            if keys is None:
                return None
            if not keys:
                return c
            rows = self._rows(namespace, keys)
            self.counters["decoded"] += len(rows)
            fresh = sorted((order, key, _loads(raw)) for key, (order, raw) in rows.items())
            table = c.rows
            for key in keys:
                if key not in rows:
                    table.pop(key, None)
            for order, key, value in fresh:
                old = table.get(key)
                if old is not None and old[0] == order:
                    table[key] = (order, value)   # an update keeps its place
                    continue
                if order < c.top:  # inserted before something held already (a race): read afresh
                    return None
                table.pop(key, None)
                table[key] = (order, value)
                c.top = order
            c.seq = max(c.seq, seq)
            c.list = None
        return c

    def _load(self, namespace: str) -> _NsCache:
        seq = self.applied()
        # Decoding a big namespace allocates a few objects per value; the cyclic collector would
        # walk the whole growing heap many times meanwhile (3-4x slower at 30k documents).
        paused = gc.isenabled()
        gc.disable()
        try:
            rows = {key: (order, _loads(raw)) for key, order, raw in self._scan(namespace)}
        finally:
            if paused:
                gc.enable()
        self.counters["decoded"] += len(rows)
        self.counters["loads"] += 1
        c = _NsCache(seq, rows)
        with self._cache_lock:
            if len(self._cache) > 512:  # bounded: drop the oldest namespaces
                for old in list(self._cache)[:128]:
                    self._cache.pop(old, None)
            held = self._cache.get(namespace)
            if held is None or held.seq <= seq:
                self._cache[namespace] = c
        return c

    def values(self, namespace: str) -> list[Json]:
        return [v for _, v in self.items(namespace)]

    def count(self, namespace: str) -> int:
        c = self._cache.get(namespace)
        if c is not None:
            return len(self._cached(namespace).rows)
        if _cache.tracking():
            self.version(namespace)
        return self._count(namespace)

    def namespaces(self, prefix: str = "") -> list[str]:
        raise NotImplementedError

    def clear(self, prefix: str) -> None:
        """Drop every namespace starting with ``prefix``."""
        raise NotImplementedError

    # -- journal -----------------------------------------------------------------
    def journal_append(self, entry: Json) -> int:
        """Append an entry; returns its sequence number. Oldest entries beyond the size drop."""
        raise NotImplementedError

    def journal(self, since: int = 0, limit: int | None = None) -> list[Json]:
        """Entries with seq > since, oldest first (at most ``limit``, the newest ones)."""
        raise NotImplementedError

    def journal_clear(self) -> None:
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------
    def describe(self) -> str:
        return self.kind

    def close(self) -> None:  # pragma: no cover - trivial
        pass


# ---------------------------------------------------------------------------------------------
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
            entry = dict(entry, seq=self._journal_seq)
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
class SqliteStore(Store):
    """One SQLite file in WAL mode, shared by every worker process.

    One connection per thread; writes commit before returning (``synchronous=NORMAL`` in WAL
    mode survives a killed process; only a power cut could lose the last transactions).
    """

    kind = "sqlite"

    _SCHEMA = """
    CREATE TABLE IF NOT EXISTS kv (
        seq   INTEGER PRIMARY KEY AUTOINCREMENT,
        ns    TEXT NOT NULL,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (ns, key)
    );
    CREATE TABLE IF NOT EXISTS versions (ns TEXT PRIMARY KEY, v INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS kv_order ON kv (ns, seq);
    -- the change log: one row per key written (key NULL: the whole namespace), trimmed to the
    -- newest CHANGE_LOG_KEEP; every process applies the rows after its last one
    CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, ns TEXT NOT NULL, key TEXT);
    """
    # The journal lives in a file of its own (``state.requests.db`` next to ``state.db``). It is
    # most of what is written (a few KB per request); in the data file, under constant read load
    # (checkpoints starved by overlapping readers) its writes grew the WAL that every read of
    # data must look through: 4,800 req/s fell to 1,400 after a minute. Apart, the data file's
    # WAL only grows with real data writes.
    _JOURNAL_SCHEMA = """
    CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
    """

    def __init__(self, path: str, journal_size: int = 10_000) -> None:
        super().__init__(journal_size)
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        root, ext = os.path.splitext(path)
        self.journal_path = f"{root}.requests{ext or '.db'}"
        self._local = threading.local()
        self._pid = os.getpid()
        self._conn().executescript(self._SCHEMA)
        self._jconn().executescript(self._JOURNAL_SCHEMA)
        self._journal_buffer = JournalBuffer(self._write_journal)

    def describe(self) -> str:
        return f"sqlite:///{self.path}"

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        # under constant load the WAL is rarely reset; after each checkpoint cut it back to
        # 64 MB so a sandbox that runs for weeks does not keep a huge -wal file
        conn.execute("PRAGMA journal_size_limit=67108864")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():  # never share a connection across fork
            conn = self._open(self.path)
            self._local.conn, self._local.jconn, self._local.pid = conn, None, os.getpid()
            self._local.lconn = None
        return conn

    def _jconn(self) -> sqlite3.Connection:
        """This thread's connection to the journal file."""
        self._conn()  # (re)binds the thread's connections to this process
        conn = getattr(self._local, "jconn", None)
        if conn is None:
            conn = self._local.jconn = self._open(self.journal_path)
        return conn

    class _Tx:
        """One write: its own transaction, or a savepoint in the thread's open transaction."""

        def __init__(self, conn: sqlite3.Connection, store: "SqliteStore", tx: _Tx | None = None) -> None:
            self.conn = conn
            self.store = store
            self.tx = tx

        def __enter__(self) -> sqlite3.Connection:
            tx = self.tx
            if tx is not None and tx.dirty:
                self.conn.execute("SAVEPOINT w")
                return self.conn
            for attempt in range(200):
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:  # database is locked beyond busy_timeout
                    if "locked" not in str(exc) or attempt == 199:
                        raise
                    time.sleep(0.01)
            if tx is not None:  # the request's transaction starts with its first write
                tx.dirty = True
                self.conn.execute("SAVEPOINT w")
            return self.conn

        def __exit__(self, exc_type, exc, tb) -> None:
            if self.tx is not None:
                if exc_type is not None:
                    self.conn.execute("ROLLBACK TO w")
                self.conn.execute("RELEASE w")
            elif exc_type is None:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute("ROLLBACK")
            self.store._wrote()

    def _write(self, namespace: str | None = None) -> "SqliteStore._Tx":
        tx = self._tx()
        if tx is not None and namespace is not None:
            tx.written.add(namespace)
        return self._Tx(self._conn(), self, tx)

    def _tx_commit(self, tx: _Tx) -> None:
        self._conn().execute("COMMIT")

    def _tx_rollback(self, tx: _Tx) -> None:
        conn = self._conn()
        if conn.in_transaction:
            conn.execute("ROLLBACK")

    @staticmethod
    def _bump(db: sqlite3.Connection, namespace: str, keys: list[str] | None = None) -> None:
        """Log a change of ``keys`` (None: the whole namespace) in the write's transaction."""
        if keys is None or len(keys) > BULK_CHANGE:
            db.execute("INSERT INTO changes(ns, key) VALUES (?, NULL)", (namespace,))
        else:
            db.executemany("INSERT INTO changes(ns, key) VALUES (?, ?)", [(namespace, k) for k in keys])
        seq = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        db.execute("INSERT INTO versions(ns, v) VALUES (?, ?) ON CONFLICT(ns) DO UPDATE SET v = excluded.v",
                    (namespace, seq))
        if seq % 1024 < len(keys or ()) + 1:  # now and then: the log keeps its newest rows only
            db.execute("DELETE FROM changes WHERE seq <= ?", (seq - CHANGE_LOG_KEEP,))

    def get(self, namespace: str, key: str) -> Json | None:
        if _cache.tracking():
            self.version(namespace)
        row = self._conn().execute("SELECT value FROM kv WHERE ns=? AND key=?", (namespace, key)).fetchone()
        return None if row is None else _loads(row[0])

    def put_many(self, namespace: str, items: Iterable[tuple[str, Json]]) -> None:
        rows = [(namespace, k, _dumps(v)) for k, v in items]
        if not rows:
            return
        with self._write(namespace) as db:
            db.executemany(
                "INSERT INTO kv(ns, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
                rows,
            )
            self._bump(db, namespace, [k for _, k, _ in rows])

    def add(self, namespace: str, key: str, value: Json) -> bool:
        with self._write(namespace) as db:
            cur = db.execute(
                "INSERT INTO kv(ns, key, value) VALUES (?, ?, ?) ON CONFLICT(ns, key) DO NOTHING",
                (namespace, key, _dumps(value)),
            )
            if cur.rowcount:
                self._bump(db, namespace, [key])
            return bool(cur.rowcount)

    def delete(self, namespace: str, key: str) -> bool:
        with self._write(namespace) as db:
            cur = db.execute("DELETE FROM kv WHERE ns=? AND key=?", (namespace, key))
            if cur.rowcount:
                self._bump(db, namespace, [key])
            return bool(cur.rowcount)

    def update(self, namespace: str, key: str, fn: Updater) -> Json | None:
        with self._write(namespace) as db:
            row = db.execute("SELECT value FROM kv WHERE ns=? AND key=?", (namespace, key)).fetchone()
            new = fn(None if row is None else _loads(row[0]))
            if new is None:
                db.execute("DELETE FROM kv WHERE ns=? AND key=?", (namespace, key))
            else:
                db.execute(
                    "INSERT INTO kv(ns, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
                    (namespace, key, _dumps(new)),
                )
            self._bump(db, namespace, [key])
            return new

    def _ns_version(self, namespace: str) -> int:
        row = self._conn().execute("SELECT v FROM versions WHERE ns=?", (namespace,)).fetchone()
        return row[0] if row else 0

    def _lconn(self) -> sqlite3.Connection:
        """This thread's connection for reading the change log: never inside a write's
        transaction, so a process only ever applies committed changes."""
        self._conn()
        conn = getattr(self._local, "lconn", None)
        if conn is None:
            conn = self._local.lconn = self._open(self.path)
        return conn

    def _global_version(self) -> int:
        # AUTOINCREMENT's own counter: a one-row look-up, updated in the writing transaction
        row = self._lconn().execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        return row[0] if row else 0

    def _changes_since(self, seq: int) -> list[tuple[int, str, str | None]] | None:
        conn = self._lconn()
        conn.execute("BEGIN")  # one snapshot for both reads
        try:
            low = conn.execute("SELECT min(seq) FROM changes").fetchone()[0]
            rows = conn.execute("SELECT seq, ns, key FROM changes WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
        finally:
            conn.execute("COMMIT")
        if low is not None and low > seq + 1:  # rows after ours were trimmed away
            return None
        return rows

    def _rows(self, namespace: str, keys: list[str]) -> dict[str, tuple[int, str]]:
        out: dict[str, tuple[int, str]] = {}
        conn = self._conn()
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            marks = ",".join("?" * len(part))
            for key, order, raw in conn.execute(
                    f"SELECT key, seq, value FROM kv WHERE ns=? AND key IN ({marks})", (namespace, *part)):
                out[key] = (order, raw)
        return out

    def _scan(self, namespace: str) -> Iterator[tuple[str, int, str]]:
        # its own connection: the rows stream while this thread's connection is used for others
        conn = self._open(self.path)
        try:
            yield from conn.execute("SELECT key, seq, value FROM kv WHERE ns=? ORDER BY seq", (namespace,))
        finally:
            conn.close()

    def _count(self, namespace: str) -> int:
        return self._conn().execute("SELECT count(*) FROM kv WHERE ns=?", (namespace,)).fetchone()[0]

    def _items_uncached(self, namespace: str) -> list[tuple[str, Json]]:
        # this thread's connection: inside a transaction it sees the transaction's own writes
        rows = self._conn().execute("SELECT key, value FROM kv WHERE ns=? ORDER BY seq", (namespace,)).fetchall()
        return [(k, _loads(v)) for k, v in rows]

    _SIMPLE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

    def scan_columns(self, namespace: str, fields: list[str],
                     extract: Callable[[Json, str], list[Any]]) -> Iterator[tuple[str, int, list[list[Any]]]]:
        simple = [bool(self._SIMPLE_FIELD.match(f)) for f in fields]
        if not all(simple):
            yield from super().scan_columns(namespace, fields, extract)
            return
        # SQLite reads the columns out of the stored JSON: nothing is decoded in Python unless a
        # field holds an array or an object (its values are then extracted from the document)
        cols = ", ".join(f"json_type(value, '$.{f}'), json_extract(value, '$.{f}')" for f in fields)
        conn = self._open(self.path)
        try:
            for row in conn.execute(f"SELECT key, seq, value, {cols} FROM kv WHERE ns=? ORDER BY seq", (namespace,)):
                key, order, raw = row[0], row[1], row[2]
                out: list[list[Any]] = []
                doc = None
                for i, field in enumerate(fields):
                    kind, value = row[3 + 2 * i], row[4 + 2 * i]
                    if kind is None or kind == "null":
                        out.append([])
                    elif kind == "true" or kind == "false":
                        out.append([kind == "true"])
                    elif kind in ("array", "object"):
                        if doc is None:
                            doc = self.loads(raw)
                        out.append(extract(doc, field))
                    else:
                        out.append([value])
                yield key, order, out
        finally:
            conn.close()

    def namespaces(self, prefix: str = "") -> list[str]:
        rows = self._conn().execute(
            "SELECT DISTINCT ns FROM kv WHERE substr(ns, 1, ?) = ? ORDER BY ns", (len(prefix), prefix)
        ).fetchall()
        return [r[0] for r in rows]

    def clear(self, prefix: str) -> None:
        with self._write() as db:
            names = [r[0] for r in db.execute(
                "SELECT DISTINCT ns FROM kv WHERE substr(ns, 1, ?) = ?", (len(prefix), prefix))]
            tx = self._tx()
            if tx is not None:
                tx.written.update(names)
            db.execute("DELETE FROM kv WHERE substr(ns, 1, ?) = ?", (len(prefix), prefix))
            for name in names:
                self._bump(db, name)

    def journal_append(self, entry: Json) -> int:
        self._journal_buffer.append(entry)
        return 0  # the sequence number is given when the batch is written

    def _write_journal(self, batch: list[Json]) -> None:
        # Row ids are the sequence numbers (AUTOINCREMENT never reuses one, even after a
        # clear); an entry gets its seq when read back. Trimmed to the size in the same go.
        with self._Tx(self._jconn(), self) as db:
            db.executemany("INSERT INTO requests(entry) VALUES (?)", [(_journal_dumps(e),) for e in batch])
            top = db.execute("SELECT max(seq) FROM requests").fetchone()[0] or 0
            db.execute("DELETE FROM requests WHERE seq <= ?", (top - self.journal_size,))

    def journal(self, since: int = 0, limit: int | None = None) -> list[Json]:
        self._journal_buffer.settle()
        conn = self._jconn()
        if limit:
            rows = conn.execute(
                "SELECT seq, entry FROM (SELECT seq, entry FROM requests WHERE seq > ? ORDER BY seq DESC LIMIT ?) "
                "ORDER BY seq", (since, limit)).fetchall()
        else:
            rows = conn.execute("SELECT seq, entry FROM requests WHERE seq > ? ORDER BY seq", (since,)).fetchall()
        out = []
        for seq, raw in rows:
            entry = _loads(raw)
            entry["seq"] = seq
            out.append(entry)
        return out

    def journal_clear(self) -> None:
        self._journal_buffer.flush()
        self._jconn().execute("DELETE FROM requests")

    def integrity_check(self) -> str:
        return self._conn().execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        for name in ("conn", "jconn", "lconn"):
            conn = getattr(self._local, name, None)
            if conn is not None:
                conn.close()
                setattr(self._local, name, None)


# ---------------------------------------------------------------------------------------------
class RedisStore(Store):
    """State in Redis, shared by workers on any number of hosts.

    Layout under ``prefix``: ``d:{ns}`` hash key->json, ``o:{ns}`` sorted set key->insert order,
    ``v:{ns}`` the seq of the namespace's last change, ``namespaces`` set, ``journal`` list
    (newest first), ``jseq``; the change log: ``v:`` its head (the global version), ``chlog``
    a sorted set of ``seq\x1fns\x1fkey`` members scored by seq (key ``\x1e``: the whole
    namespace), ``chfloor`` the seq up to which it was trimmed. A script appends to the log in
    the same MULTI/EXEC as the write, so a change is logged exactly when it is visible.

        ``lock`` the write lock.

    Every write takes the write lock (``SET NX PX`` with a token, released by a script that
    checks the token). A transaction takes it at its first write and keeps it to the end; its
    writes are gathered per thread (read back by its own reads) and applied in one MULTI/EXEC,
    so other clients see all of them or none, and a crash before EXEC leaves nothing behind.
    """

    kind = "redis"

    _UPDATE_RETRIES = 1000
    _LOG = r"""
    local seq = redis.call('INCR', KEYS[1])
    redis.call('SET', KEYS[3], seq)
    if #ARGV == 1 then
      redis.call('ZADD', KEYS[2], seq, seq .. '\31' .. ARGV[1] .. '\31\30')
    else
      for i = 2, #ARGV do redis.call('ZADD', KEYS[2], seq, seq .. '\31' .. ARGV[1] .. '\31' .. ARGV[i]) end
    end
    if seq % 1024 == 0 then
      redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', seq - tonumber(KEYS[5]))
      redis.call('SET', KEYS[4], seq - tonumber(KEYS[5]))
    end
    return seq
    """
    LOCK_MS = 5_000         # a lock whose holder died (kill -9) frees itself after this long
    LOCK_WAIT = 60.0        # a writer waits at most this long for the lock
    _UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def __init__(self, url: str, journal_size: int = 10_000, prefix: str = "cs:") -> None:
        super().__init__(journal_size)
        import redis  # imported here: the other backends do not need it

        self.url = url
        self.prefix = prefix
        self.r = redis.Redis.from_url(url, decode_responses=True)
        self._redis = redis
        self._log_script = self.r.register_script(self._LOG)
        self._unlock = self.r.register_script(self._UNLOCK)
        self._journal_buffer = JournalBuffer(self._write_journal)

    def describe(self) -> str:
        return self.url

    def _k(self, kind: str, namespace: str = "") -> str:
        return f"{self.prefix}{kind}:{namespace}"

    # -- the write lock ----------------------------------------------------------------
    def _acquire(self) -> str:
        token = os.urandom(12).hex()
        deadline = time.monotonic() + self.LOCK_WAIT
        delay = 0.0002
        while not self.r.set(self._k("lock"), token, nx=True, px=self.LOCK_MS):
            if time.monotonic() > deadline:
                raise RuntimeError("the redis write lock stayed taken")
            time.sleep(delay)
            delay = min(delay * 2, 0.005)
        return token

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One write outside a transaction, under the write lock (re-entrant per thread)."""
        tl = self._tl
        if getattr(tl, "lock_depth", 0):
            tl.lock_depth += 1
            try:
                yield
            finally:
                tl.lock_depth -= 1
            return
        token = self._acquire()
        tl.lock_depth = 1
        try:
            yield
        finally:
            tl.lock_depth = 0
            self._unlock(keys=[self._k("lock")], args=[token])

    def _tx_write(self, namespace: str) -> "_Tx | None":
        """The open transaction (taking the lock at its first write), else None."""
        tx = self._tx()
        if tx is None:
            return None
        if not tx.dirty:
            tx.token = self._acquire()
            tx.dirty = True
        tx.written.add(namespace)
        tx.count += 1
        return tx

    def _tx_version(self, tx: _Tx, namespace: str) -> int:
        if namespace in tx.written:
            return -tx.count  # never a committed version; changes with every write
        return self._ns_version(namespace)

    def _tx_raw(self, tx: _Tx | None, namespace: str, key: str) -> tuple[bool, str | None]:
        """(known, json) of a key as the transaction sees it, without asking Redis when known."""
        if tx is None:
            return False, None
        pending = tx.overlay.get(namespace)
        if pending is not None and key in pending:
            return True, pending[key]
        if any(namespace.startswith(p) for p in tx.clears):
            return True, None
        return False, None

    def _tx_commit(self, tx: _Tx) -> None:
        try:
            names = [n for n in self.r.smembers(self._k("namespaces")) if any(n.startswith(p) for p in tx.clears)]
            news = sum(sum(1 for raw in pending.values() if raw is not None) for pending in tx.overlay.values())
            seq = self.r.incrby(self._k("oseq"), news) - news if news else 0
            pipe = self.r.pipeline(transaction=True)
            pipe.watch(self._k("lock"))  # a lock that expired meanwhile is another writer's now: fail, not mix
            if pipe.get(self._k("lock")) != tx.token:
                pipe.reset()
                raise RuntimeError("the redis write lock expired before the transaction committed")
            pipe.multi()
            for n in names:
                pipe.delete(self._k("d", n), self._k("o", n))
                self._log(pipe, n, None)
                pipe.srem(self._k("namespaces"), n)
            for namespace, pending in tx.overlay.items():
                puts = {k: raw for k, raw in pending.items() if raw is not None}
                gone = [k for k, raw in pending.items() if raw is None]
                if gone:
                    pipe.hdel(self._k("d", namespace), *gone)
                    pipe.zrem(self._k("o", namespace), *gone)
                if puts:
                    pipe.hset(self._k("d", namespace), mapping=puts)
                    pipe.zadd(self._k("o", namespace), {k: seq + i + 1 for i, k in enumerate(puts)}, nx=True)
                    pipe.sadd(self._k("namespaces"), namespace)
                    seq += len(puts)
                self._log(pipe, namespace, list(pending))
            pipe.execute()
        finally:
            self._unlock(keys=[self._k("lock")], args=[tx.token])

    def _tx_rollback(self, tx: _Tx) -> None:
        tx.overlay.clear()
        self._unlock(keys=[self._k("lock")], args=[tx.token])

    # -- documents ---------------------------------------------------------------------
    def _write_pipe(self, pipe: Any, namespace: str, items: list[tuple[str, str]]) -> None:
        seq_base = self.r.incrby(self._k("oseq"), len(items)) - len(items)
        pipe.hset(self._k("d", namespace), mapping=dict(items))
        pipe.zadd(self._k("o", namespace), {k: seq_base + i + 1 for i, (k, _) in enumerate(items)}, nx=True)
        self._log(pipe, namespace, [k for k, _ in items])
        pipe.sadd(self._k("namespaces"), namespace)

    def _log(self, pipe: Any, namespace: str, keys: list[str] | None) -> None:
        """Queue the change-log entry of a write in its MULTI (keys None: the whole namespace)."""
        whole = keys is None or len(keys) > BULK_CHANGE
        self._log_script(keys=[self._k("v"), self._k("chlog"), self._k("v", namespace), self._k("chfloor"),
                               str(CHANGE_LOG_KEEP)],
                         args=[namespace] if whole else [namespace, *keys], client=pipe)

    def get(self, namespace: str, key: str) -> Json | None:
        if _cache.tracking():
            self.version(namespace)
        known, raw = self._tx_raw(self._tx(), namespace, key)
        if not known:
            raw = self.r.hget(self._k("d", namespace), key)
        return None if raw is None else _loads(raw)

    def put_many(self, namespace: str, items: Iterable[tuple[str, Json]]) -> None:
        encoded = [(k, _dumps(v)) for k, v in items]
        if not encoded:
            return
        tx = self._tx_write(namespace)
        if tx is not None:
            tx.overlay.setdefault(namespace, OrderedDict()).update(encoded)
            return
        with self._locked():
            pipe = self.r.pipeline(transaction=True)
            self._write_pipe(pipe, namespace, encoded)
            pipe.execute()
        self._wrote()

    def add(self, namespace: str, key: str, value: Json) -> bool:
        raw = _dumps(value)
        tx = self._tx()
        if tx is not None:
            self._tx_write(namespace)  # the lock first: nobody writes between check and write
            if self.get(namespace, key) is not None:
                return False
            tx.overlay.setdefault(namespace, OrderedDict())[key] = raw
            return True
        with self._locked():
            if not self.r.hsetnx(self._k("d", namespace), key, raw):
                return False
            pipe = self.r.pipeline(transaction=True)
            seq = self.r.incr(self._k("oseq"))
            pipe.zadd(self._k("o", namespace), {key: seq}, nx=True)
            self._log(pipe, namespace, [key])
            pipe.sadd(self._k("namespaces"), namespace)
            pipe.execute()
        self._wrote()
        return True

    def delete(self, namespace: str, key: str) -> bool:
        tx = self._tx()
        if tx is not None:
            self._tx_write(namespace)
            if self.get(namespace, key) is None:
                return False
            tx.overlay.setdefault(namespace, OrderedDict())[key] = None
            return True
        with self._locked():
            pipe = self.r.pipeline(transaction=True)
            pipe.hdel(self._k("d", namespace), key)
            pipe.zrem(self._k("o", namespace), key)
            self._log(pipe, namespace, [key])
            removed = pipe.execute()[0]
        self._wrote()
        return bool(removed)

    def update(self, namespace: str, key: str, fn: Updater) -> Json | None:
        tx = self._tx()
        if tx is not None:
            self._tx_write(namespace)  # the lock first: nobody writes between read and write
            new = fn(self.get(namespace, key))
            tx.count += 1
            tx.overlay.setdefault(namespace, OrderedDict())[key] = None if new is None else _dumps(new)
            return new
        dkey = self._k("d", namespace)
        with self._locked():
            for _ in range(self._UPDATE_RETRIES):
                with self.r.pipeline(transaction=True) as pipe:
                    try:
                        pipe.watch(dkey)
                        raw = pipe.hget(dkey, key)
                        new = fn(None if raw is None else _loads(raw))
                        pipe.multi()
                        if new is None:
                            pipe.hdel(dkey, key)
                            pipe.zrem(self._k("o", namespace), key)
                            self._log(pipe, namespace, [key])
                        else:
                            self._write_pipe(pipe, namespace, [(key, _dumps(new))])
                        pipe.execute()
                        self._wrote()
                        return new
                    except self._redis.WatchError:
                        continue
        raise RuntimeError(f"update of {namespace}/{key} kept conflicting")

    def incr(self, namespace: str, key: str, amount: int = 1) -> int:
        return int(self.update(namespace, key, lambda old: int(old or 0) + amount))

    def _ns_version(self, namespace: str) -> int:
        return int(self.r.get(self._k("v", namespace)) or 0)

    def _global_version(self) -> int:
        return self._ns_version("")

    def _changes_since(self, seq: int) -> list[tuple[int, str, str | None]] | None:
        pipe = self.r.pipeline(transaction=True)
        pipe.get(self._k("chfloor"))
        pipe.zrangebyscore(self._k("chlog"), f"({seq}", "+inf")
        floor, members = pipe.execute()
        if floor is not None and int(floor) > seq:
            return None
        out = []
        for member in members:
            at, namespace, key = member.split("\x1f", 2)
            out.append((int(at), namespace, None if key == "\x1e" else key))
        out.sort(key=lambda c: c[0])
        return out

    def _rows(self, namespace: str, keys: list[str]) -> dict[str, tuple[int, str]]:
        if not keys:
            return {}
        pipe = self.r.pipeline(transaction=True)
        pipe.hmget(self._k("d", namespace), keys)
        pipe.zmscore(self._k("o", namespace), keys)
        raws, orders = pipe.execute()
        return {k: (int(o or 0), raw) for k, raw, o in zip(keys, raws, orders) if raw is not None}

    def _scan(self, namespace: str) -> Iterator[tuple[str, int, str]]:
        start, step = 0, 2000
        while True:
            part = self.r.zrange(self._k("o", namespace), start, start + step - 1, withscores=True)
            if not part:
                return
            raws = self.r.hmget(self._k("d", namespace), [k for k, _ in part])
            for (key, order), raw in zip(part, raws):
                if raw is not None:
                    yield key, int(order), raw
            start += step

    def _count(self, namespace: str) -> int:
        return int(self.r.hlen(self._k("d", namespace)))
    def _items_uncached(self, namespace: str) -> list[tuple[str, Json]]:
        tx = self._tx()
        cleared = tx is not None and any(namespace.startswith(p) for p in tx.clears)
        if cleared:
            order, data = [], {}
        else:
            pipe = self.r.pipeline(transaction=True)
            pipe.zrange(self._k("o", namespace), 0, -1)
            pipe.hgetall(self._k("d", namespace))
            order, data = pipe.execute()
        pending = tx.overlay.get(namespace) if tx is not None else None
        if pending:
            known = set(order)
            order = order + [k for k in pending if k not in known]
            data.update(pending)
        return [(k, _loads(data[k])) for k in order if data.get(k) is not None]

    def namespaces(self, prefix: str = "") -> list[str]:
        tx = self._tx()
        names = {n for n in self.r.smembers(self._k("namespaces")) if n.startswith(prefix)}
        if tx is not None and tx.dirty:
            names |= {n for n in tx.overlay if n.startswith(prefix)}

            def changed(n: str) -> bool:
                return n in tx.overlay or any(n.startswith(p) for p in tx.clears)
            return sorted(n for n in names if (self._items_uncached(n) if changed(n) else self.r.exists(self._k("d", n))))
        return sorted(n for n in names if self.r.exists(self._k("d", n)))

    def clear(self, prefix: str) -> None:
        tx = self._tx()
        if tx is not None:
            self._tx_write(prefix)
            tx.written.update(n for n in self.r.smembers(self._k("namespaces")) if n.startswith(prefix))
            tx.clears.append(prefix)
            for n in [n for n in tx.overlay if n.startswith(prefix)]:
                del tx.overlay[n]
            return
        names = [n for n in self.r.smembers(self._k("namespaces")) if n.startswith(prefix)]
        if not names:
            return
        with self._locked():
            pipe = self.r.pipeline(transaction=True)
            for n in names:
                pipe.delete(self._k("d", n), self._k("o", n))
                self._log(pipe, n, None)
                pipe.srem(self._k("namespaces"), n)
            pipe.execute()
        self._wrote()

    def journal_append(self, entry: Json) -> int:
        self._journal_buffer.append(entry)
        return 0  # the sequence number is given when the batch is written

    def _write_journal(self, batch: list[Json]) -> None:
        last = int(self.r.incrby(self._k("jseq"), len(batch)))
        first = last - len(batch) + 1
        pipe = self.r.pipeline(transaction=False)
        pipe.lpush(self._k("journal"), *[_journal_dumps(dict(e, seq=first + i)) for i, e in enumerate(batch)])
        pipe.ltrim(self._k("journal"), 0, self.journal_size - 1)
        pipe.execute()

    def journal(self, since: int = 0, limit: int | None = None) -> list[Json]:
        self._journal_buffer.settle()
        raw = self.r.lrange(self._k("journal"), 0, (limit or self.journal_size) - 1)
        rows = [e for e in (_loads(r) for r in raw) if e["seq"] > since]
        rows.sort(key=lambda e: e["seq"])
        return rows

    def journal_clear(self) -> None:
        self._journal_buffer.flush()
        self.r.delete(self._k("journal"))

    def close(self) -> None:
        self.r.close()


def open_store(url: str | None, journal_size: int = 10_000) -> Store:
    """``memory`` | ``sqlite:///path.db`` (default ``./.sandbox/state.db``) | ``redis://...``."""
    url = url or "sqlite"
    if url == "memory":
        return MemoryStore(journal_size)
    if url == "sqlite":
        return SqliteStore(os.path.join(".sandbox", "state.db"), journal_size)
    if url.startswith("sqlite:///"):
        return SqliteStore(url[len("sqlite:///"):], journal_size)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url, journal_size)
    raise ValueError(f"unknown state backend {url!r}: use memory, sqlite:///path.db or redis://host:port/db")


def iter_chunks(seq: list[Json], size: int) -> Iterator[list[Json]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
