"""The :class:`Store` interface every backend implements, and what they share: :func:`ns`, the
per-thread transaction state and the per-process namespace cache (see the package docstring)."""

from __future__ import annotations

import contextlib
import gc
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


class _Tx:
    """The state of one open :meth:`Store.transaction` (per thread)."""

    __slots__ = ("dirty", "written", "keys", "cache", "undo", "orders", "overlay", "clears", "token", "count")

    def __init__(self) -> None:
        self.dirty = False                   # a write happened (the backend's lock is held)
        self.written: set[str] = set()       # namespaces written
        self.keys: dict[str, set[str] | None] = {}   # sqlite: keys written per namespace (None: cleared)
        self.cache: dict[str, tuple[int, list[tuple[str, Json]], dict[str, Json]]] = {}
        self.undo: list[tuple[str, str, str | None]] = []   # memory: (ns, key, old json | None)
        self.orders: dict[str, list[str]] = {}               # memory: key order before a delete
        self.overlay: dict[str, OrderedDict[str, str | None]] = {}       # redis: ns -> key -> json | None
        self.clears: list[str] = []          # redis: prefixes cleared
        self.token = ""                      # redis: the write lock's token
        self.count = 0                       # redis: writes so far (the namespaces' tx version)



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
                view = self._tx_view(tx, namespace)
                if view is None:
                    items = self._items_uncached(namespace)
                    view = _NsCache(-1, {k: (i, v) for i, (k, v) in enumerate(items)})
                hit = tx.cache[namespace] = (version, view)
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

    def _tx_view(self, tx: _Tx, namespace: str) -> _NsCache | None:
        """The namespace as this thread's open transaction sees it, from the shared cache plus
        the keys the transaction wrote (decoding only those); None: read it whole instead."""
        return None

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
