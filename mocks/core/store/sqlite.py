"""The default backend: :class:`SqliteStore` (a file in WAL mode, shared by the workers)."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from typing import Any, Callable, Iterable, Iterator

from mocks.core import cache as _cache
from mocks.core.store.base import (
    BULK_CHANGE, CHANGE_LOG_KEEP, Json, Store, Updater, _NsCache, _Tx, _dumps, _loads, ns,
)
from mocks.core.store.journal import JournalBuffer, _journal_dumps


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

    def _write(self, namespace: str | None = None, keys: Iterable[str] = ()) -> "SqliteStore._Tx":
        tx = self._tx()
        if tx is not None and namespace is not None:
            tx.written.add(namespace)
            held = tx.keys.setdefault(namespace, set())
            if held is not None:
                held.update(keys)
        return self._Tx(self._conn(), self, tx)

    def _tx_view(self, tx: _Tx, namespace: str) -> "_NsCache | None":
        # the shared cache (committed rows) brought up to the committed head, then this
        # transaction's own keys read through its connection: a write request that lists a
        # collection it wrote (the Stock2Shop queue) decodes what it wrote, not the collection
        keys = tx.keys.get(namespace)
        if not keys or len(keys) > BULK_CHANGE:
            return None
        self._sync(self._global_version())  # committed only (its own connection)
        c = self._cache.get(namespace)
        if c is None:
            return None
        changed = self.changes_after(namespace, c.seq)
        if changed is None or keys.intersection(changed):
            return None
        if changed:  # other processes' committed writes (keys this transaction did not write)
            c = self._refresh(c, namespace)
            if c is None:
                return None
        with c.lock:
            rows = dict(c.rows)
        top = max((o for o, _ in rows.values()), default=0)
        found = self._rows(namespace, list(keys))
        self.counters["decoded"] += len(found)
        for key in keys:
            if key not in found:
                rows.pop(key, None)
        for order, key, raw in sorted((o, k, r) for k, (o, r) in found.items()):
            old = rows.get(key)
            if old is not None and old[0] == order:
                rows[key] = (order, _loads(raw))  # an update keeps its place
                continue
            if order < top:
                return None
            rows.pop(key, None)
            rows[key] = (order, _loads(raw))
            top = order
        return _NsCache(-1, rows)

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
        with self._write(namespace, [k for _, k, _ in rows]) as db:
            db.executemany(
                "INSERT INTO kv(ns, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
                rows,
            )
            self._bump(db, namespace, [k for _, k, _ in rows])

    def add(self, namespace: str, key: str, value: Json) -> bool:
        with self._write(namespace, (key,)) as db:
            cur = db.execute(
                "INSERT INTO kv(ns, key, value) VALUES (?, ?, ?) ON CONFLICT(ns, key) DO NOTHING",
                (namespace, key, _dumps(value)),
            )
            if cur.rowcount:
                self._bump(db, namespace, [key])
            return bool(cur.rowcount)

    def delete(self, namespace: str, key: str) -> bool:
        with self._write(namespace, (key,)) as db:
            cur = db.execute("DELETE FROM kv WHERE ns=? AND key=?", (namespace, key))
            if cur.rowcount:
                self._bump(db, namespace, [key])
            return bool(cur.rowcount)

    def update(self, namespace: str, key: str, fn: Updater) -> Json | None:
        with self._write(namespace, (key,)) as db:
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
        # SQLite reads the columns out of the stored JSON, parsing each document once (one
        # json_extract of every path: a JSON array of the values, null where absent); Python
        # decodes only that small array, never the document
        paths = ", ".join(f"'$.{f}'" for f in (fields if len(fields) > 1 else fields * 2))
        loads = _loads
        conn = self._open(self.path)
        try:
            if not fields:
                for key, order in conn.execute("SELECT key, seq FROM kv WHERE ns=? ORDER BY seq", (namespace,)):
                    yield key, order, []
                return
            for key, order, found in conn.execute(
                    f"SELECT key, seq, json_extract(value, {paths}) FROM kv WHERE ns=? ORDER BY seq", (namespace,)):
                out: list[list[Any]] = []
                for field, value in zip(fields, loads(found)):
                    if value is None:
                        out.append([])
                    elif isinstance(value, (dict, list)):
                        out.append(extract({field: value}, field))
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
                tx.keys.update((name, None) for name in names)
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
