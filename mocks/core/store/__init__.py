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

import os
from typing import Iterator

from mocks.core.store.base import BULK_CHANGE, CHANGE_LOG_KEEP, NS_LOG_KEEP, Json, Store, Updater, ns
from mocks.core.store.journal import JournalBuffer
from mocks.core.store.memory import MemoryStore
from mocks.core.store.redis import RedisStore
from mocks.core.store.sqlite import SqliteStore

__all__ = [
    "BULK_CHANGE", "CHANGE_LOG_KEEP", "NS_LOG_KEEP", "Json", "JournalBuffer", "MemoryStore", "RedisStore",
    "SqliteStore", "Store", "Updater", "iter_chunks", "ns", "open_store", "sqlite_path",
]


def open_store(url: str | None, journal_size: int = 10_000) -> Store:
    """``memory`` | ``sqlite:///path.db`` (default ``./.sandbox/state.db``) | ``redis://...``."""
    url = url or "sqlite"
    if url == "memory":
        return MemoryStore(journal_size)
    path = sqlite_path(url)
    if path is not None:
        return SqliteStore(path, journal_size)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url, journal_size)
    raise ValueError(f"unknown state backend {url!r}: use memory, sqlite:///path.db or redis://host:port/db")


def sqlite_path(url: str | None) -> str | None:
    """The file of a SQLite state URL (``open_store``'s default included); None for another backend."""
    url = url or "sqlite"
    if url == "sqlite":
        return os.path.join(".sandbox", "state.db")
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    return None


def iter_chunks(seq: list[Json], size: int) -> Iterator[list[Json]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
