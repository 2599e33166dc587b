"""Issue 16: a write costs work in proportion to what it changed, never to the collection's size.

Counted through the store (``Store.counters``): after one write to a collection of 10,000
documents, the documents decoded to bring a process's cache up to date are a small constant,
in the writing process and in another process sharing the backend (a second store object on the
same file / Redis stands for a second gunicorn worker).
"""
from __future__ import annotations

import pytest

from mocks.core.store import MemoryStore, RedisStore, SqliteStore

N = 10_000
NS = "api/t/products"
BOUND = 5  # "a small constant": one write touches one document; a few reads around it


def _doc(i: int) -> dict:
    return {"id": i, "title": f"product {i}", "modified": f"2024-01-01 00:{i // 600 % 60:02d}:{i % 60:02d}",
            "variants": [{"sku": f"S{i}", "qty": i % 7}]}


@pytest.fixture(params=["memory", "sqlite", "redis"])
def stores(request, tmp_path):
    """(writer, reader): the same backend seen by two processes (memory: one process only)."""
    if request.param == "memory":
        s = MemoryStore()
        yield s, s
        return
    if request.param == "sqlite":
        a, b = SqliteStore(str(tmp_path / "s.db")), SqliteStore(str(tmp_path / "s.db"))
    else:
        url = request.getfixturevalue("redis_url")
        prefix = f"inc{id(request)}:"
        a, b = RedisStore(url, prefix=prefix), RedisStore(url, prefix=prefix)
    yield a, b
    a.close()
    b.close()


def _decoded(store) -> int:
    return store.counters["decoded"]


def test_one_write_decodes_a_constant_number_of_documents(stores):
    writer, reader = stores
    writer.put_many(NS, [(str(i), _doc(i)) for i in range(N)])  # the seed: one bulk write
    for s in {id(writer): writer, id(reader): reader}.values():
        assert len(s.items(NS)) == N          # each process decodes the collection once
    assert _decoded(reader) >= N

    for step, write in enumerate([
        lambda: writer.put(NS, "17", {**_doc(17), "title": "changed"}),
        lambda: writer.update(NS, "18", lambda old: {**old, "title": "updated"}),
        lambda: writer.delete(NS, "19"),
        lambda: writer.add(NS, "new-1", _doc(N + 1)),
    ]):
        before = {id(s): _decoded(s) for s in (writer, reader)}
        loads = {id(s): s.counters["loads"] for s in (writer, reader)}
        write()
        for s in {id(writer): writer, id(reader): reader}.values():
            items = s.items(NS)
            assert s.lookup(NS, "0") == _doc(0)
            assert _decoded(s) - before[id(s)] <= BOUND, f"step {step}: {_decoded(s) - before[id(s)]} decoded"
            assert s.counters["loads"] == loads[id(s)]      # no whole-namespace read
        # and the incremental result is what a fresh read gives, in the same order
    fresh = [(k, v) for k, v in writer.items(NS)]
    assert [k for k, _ in fresh][:3] == ["0", "1", "2"]
    assert reader.lookup(NS, "17")["title"] == "changed"
    assert reader.lookup(NS, "18")["title"] == "updated"
    assert reader.lookup(NS, "19") is None
    assert reader.items(NS)[-1][0] == "new-1"
    assert reader.items(NS) == writer.items(NS)
    assert len(reader.items(NS)) == N


def test_incremental_cache_keeps_store_order_and_sees_deletes_and_readds(stores):
    writer, reader = stores
    writer.put_many(NS, [("a", 1), ("b", 2), ("c", 3)])
    assert [k for k, _ in reader.items(NS)] == ["a", "b", "c"]
    writer.delete(NS, "a")
    writer.put(NS, "b", 20)       # an update keeps its place
    writer.put(NS, "a", 10)       # re-added after a delete: last
    assert reader.items(NS) == [("b", 20), ("c", 3), ("a", 10)]
    writer.clear("api/t/")
    assert reader.items(NS) == []
    writer.put(NS, "z", 1)
    assert reader.items(NS) == [("z", 1)]
    assert reader.count(NS) == 1


def test_a_process_far_behind_the_change_log_reads_afresh(stores, monkeypatch):
    writer, reader = stores
    writer.put_many(NS, [(str(i), i) for i in range(10)])
    assert reader.count(NS) == 10 and len(reader.items(NS)) == 10
    monkeypatch.setattr(type(reader), "_changes_since", lambda self, seq: None)  # the log was trimmed
    writer.put(NS, "3", 33)
    assert reader.lookup(NS, "3") == 33
    assert dict(reader.items(NS))["3"] == 33


def test_key_index_follows_writes_of_any_process_reading_only_what_changed(stores):
    from mocks.core.state import Collection

    writer, reader = stores
    writer.put_many(NS, [(str(i), {"code": f"C{i % 5000}"}) for i in range(N)])
    index = Collection(reader, NS).key_index("code", lambda d: [d.get("code")])
    assert index.get("C7") == ["7", "5007"]
    indexed = reader.counters["indexed"]
    writer.put(NS, "7", {"code": "X"})
    writer.delete(NS, "5007")
    writer.put(NS, "new", {"code": "C7"})
    assert index.get("C7") == ["new"]
    assert index.get("X") == ["7"]
    assert reader.counters["indexed"] - indexed <= 3


def test_key_index_is_exact_despite_hash_collisions_stale_entries_and_rollbacks(stores, monkeypatch):
    """The compact KeyIndex (hash of each value -> key, two integer arrays) answers exactly: keys
    that are not decimal numbers, a value shared by several documents (store order), values whose
    hashes collide, a document that no longer holds a value (its entry is dropped when met, only
    outside a transaction that wrote: a rollback must not lose it)."""
    from mocks.core import state as S
    from mocks.core.state import Collection

    writer, reader = stores
    writer.put_many(NS, [("10", {"codes": ["A", "B"]}), ("k-x", {"codes": ["A"]}), ("007", {"codes": ["C"]}),
                         ("11", {"codes": ["D"]})])
    index = Collection(reader, NS).key_index("codes-exact", lambda d: d.get("codes"), ["codes"])
    assert index.get("A") == ["10", "k-x"] and index.get("C") == ["007"] and index.get("Z") == []
    assert len(index.hashes) == len(index.codes) == 5 and index.others == ["k-x", "007"]
    writer.put(NS, "10", {"codes": ["B"]})      # no longer holds A: the entry stays until met
    assert index.get("A") == ["k-x"]
    assert len(index.hashes) == 4                # met and dropped
    writer.put(NS, "10", {"codes": ["A", "B"]})  # holds it again: entered again, in store order
    assert index.get("A") == ["10", "k-x"] and index.get("B") == ["10"]
    writer.delete(NS, "k-x")
    assert index.get("A") == ["10"]
    # inside a transaction that wrote, what it changed shows, but nothing is dropped (a rollback)
    with pytest.raises(RuntimeError):
        with reader.transaction():
            reader.put(NS, "11", {"codes": ["E"]})
            assert index.get("D") in ([], ["11"])   # (Redis reads committed rows in get_rows)
            raise RuntimeError("rollback")
    assert index.get("D") == ["11"]
    # every value under one hash: the documents are read and only the holders answered
    monkeypatch.setattr(S, "hash", lambda value: 7, raising=False)
    fresh = Collection(reader, NS).key_index("codes-colliding", lambda d: d.get("codes"), ["codes"])
    assert fresh.get("B") == ["10"] and fresh.get("C") == ["007"] and fresh.get("Q") == []
    writer.put(NS, "12", {"codes": ["Q"]})
    assert fresh.get("Q") == ["12"] and fresh.get("D") == ["11"]
    assert len(fresh.hashes) == 4               # one entry per key and hash; none dropped: each holds a value of hash 7


def test_a_transaction_lists_what_it_wrote_decoding_only_that_on_sqlite(tmp_path):
    """A write request that lists a collection it wrote (the Stock2Shop queue applies and trims
    itself) sees its own writes, another process's committed ones and nothing uncommitted after a
    rollback, decoding the keys it wrote instead of the whole collection."""
    a, b = SqliteStore(str(tmp_path / "s.db")), SqliteStore(str(tmp_path / "s.db"))
    a.put_many(NS, [(str(i), _doc(i)) for i in range(2_000)])
    assert len(a.items(NS)) == 2_000          # the shared cache of process a
    b.put(NS, "7", {**_doc(7), "title": "from b"})
    before = _decoded(a)
    whole = a._items_uncached
    a._items_uncached = lambda namespace: pytest.fail("the transaction read the whole collection")
    with a.transaction():
        a.put(NS, "new", _doc(5_000))
        a.update(NS, "3", lambda old: {**old, "title": "changed"})
        a.delete(NS, "5")
        seen = dict(a.items(NS))
        assert list(seen)[-1] == "new" and len(seen) == 2_000
        assert seen["3"]["title"] == "changed" and "5" not in seen and seen["7"]["title"] == "from b"
        assert list(seen)[:4] == ["0", "1", "2", "3"]   # an update keeps its place
        assert _decoded(a) - before <= 3 * BOUND
    a._items_uncached = whole
    assert dict(a.items(NS))["3"]["title"] == "changed"
    try:
        with a.transaction():
            a.put(NS, "9", {**_doc(9), "title": "rolled back"})
            assert a.lookup(NS, "9")["title"] == "rolled back"
            raise RuntimeError
    except RuntimeError:
        pass
    assert a.lookup(NS, "9")["title"] == "product 9" and b.lookup(NS, "9")["title"] == "product 9"
    a.close()
    b.close()
