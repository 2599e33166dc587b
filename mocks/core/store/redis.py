"""The networked backend: :class:`RedisStore` (``redis://host:port/db``)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections import OrderedDict
from typing import Any, Iterable, Iterator

from mocks.core import cache as _cache
from mocks.core.store.base import (
    BULK_CHANGE, CHANGE_LOG_KEEP, Json, Store, Updater, _Tx, _dumps, _loads,
)
from mocks.core.store.journal import Encoded, JournalBuffer, _journal_dumps


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
        pipe.lpush(self._k("journal"), *[_with_seq(e, first + i) for i, e in enumerate(batch)])
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


def _with_seq(entry: "Json | Encoded", seq: int) -> str:
    """An entry's JSON with its sequence number as the last field."""
    if isinstance(entry, Encoded):
        return f'{entry.text[:-1]},"seq":{seq}}}'
    return _journal_dumps(dict(entry, seq=seq))
