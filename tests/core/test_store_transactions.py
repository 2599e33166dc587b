"""Store.transaction: a request's writes commit together or not at all, on every backend."""
from __future__ import annotations

import threading
import time

import pytest

from mocks.core.store import MemoryStore, RedisStore, SqliteStore


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "memory":
        s = MemoryStore()
    elif request.param == "sqlite":
        s = SqliteStore(str(tmp_path / "state.db"))
    else:
        s = RedisStore(request.getfixturevalue("redis_url"), prefix=f"tx{id(request)}:")
    yield s
    s.close()


def other(store, tmp_path):
    """A second handle on the same data (another worker process would see this)."""
    if isinstance(store, SqliteStore):
        return SqliteStore(store.path)
    if isinstance(store, RedisStore):
        return RedisStore(store.url, prefix=store.prefix)
    return store


def seed(store):
    store.put_many("a/t/p", [("1", {"n": 1}), ("2", {"n": 2}), ("3", {"n": 3})])
    store.put("a/t/__sequences__", "p", 3)


def snapshot(store):
    return {n: store.items(n) for n in store.namespaces("a/")}


def test_commit_applies_every_write_and_reads_see_own_writes(store):
    seed(store)
    with store.transaction():
        store.put("a/t/p", "4", {"n": 4})
        assert store.get("a/t/p", "4") == {"n": 4}
        assert [k for k, _ in store.items("a/t/p")] == ["1", "2", "3", "4"]
        assert store.incr("a/t/__sequences__", "p") == 4
        assert store.delete("a/t/p", "1")
        assert store.get("a/t/p", "1") is None and store.lookup("a/t/p", "1") is None
        assert not store.add("a/t/p", "2", {"n": 0})
        assert store.add("a/t/o", "x", {"o": 1})
        assert store.namespaces("a/t/") == ["a/t/__sequences__", "a/t/o", "a/t/p"]
        store.update("a/t/p", "2", lambda old: {**old, "m": True})
        assert store.count("a/t/p") == 3
    assert [k for k, _ in store.items("a/t/p")] == ["2", "3", "4"]
    assert store.get("a/t/p", "2") == {"n": 2, "m": True}
    assert store.get("a/t/o", "x") == {"o": 1}
    assert store.get("a/t/__sequences__", "p") == 4


def test_an_error_rolls_back_every_write_of_the_block(store):
    seed(store)
    before = snapshot(store)
    with pytest.raises(ZeroDivisionError):
        with store.transaction():
            store.put("a/t/p", "4", {"n": 4})
            store.delete("a/t/p", "2")
            store.update("a/t/p", "1", lambda old: {**old, "n": 10})
            store.incr("a/t/__sequences__", "p")
            store.add("a/t/new", "k", {"v": 1})
            store.clear("a/t/o")
            assert store.count("a/t/p") == 3
            1 / 0
    assert snapshot(store) == before
    assert store.namespaces("a/t/") == ["a/t/__sequences__", "a/t/p"]
    assert [k for k, _ in store.items("a/t/p")] == ["1", "2", "3"]  # a deleted key is back in its place
    assert store.get("a/t/new", "k") is None
    # the caches do not remember what was rolled back: a later write reads right
    store.put("a/t/p", "5", {"n": 5})
    assert [k for k, _ in store.items("a/t/p")] == ["1", "2", "3", "5"]


def test_a_failed_write_inside_the_block_undoes_only_itself(store):
    seed(store)

    def boom(old):
        raise ValueError("no")

    with store.transaction():
        store.put("a/t/p", "4", {"n": 4})
        with pytest.raises(ValueError):
            store.update("a/t/p", "1", boom)
        store.put("a/t/p", "5", {"n": 5})
    assert [k for k, _ in store.items("a/t/p")] == ["1", "2", "3", "4", "5"]


def test_nested_blocks_join_the_outer_one(store):
    seed(store)
    with pytest.raises(KeyError):
        with store.transaction():
            with store.transaction():
                store.put("a/t/p", "4", {"n": 4})
            raise KeyError("x")
    assert store.get("a/t/p", "4") is None


def test_other_clients_see_nothing_until_commit(store, tmp_path):
    if isinstance(store, MemoryStore):
        pytest.skip("one process: the memory store serialises writers with its lock instead")
    seed(store)
    peer = other(store, tmp_path)
    store.version("a/t/p")
    with store.transaction():
        store.put("a/t/p", "4", {"n": 4})
        store.put("a/t/q", "1", {"q": 1})
        assert peer.get("a/t/p", "4") is None
        assert peer.count("a/t/p") == 3
    assert peer.get("a/t/p", "4") == {"n": 4} and peer.get("a/t/q", "1") == {"q": 1}
    assert peer.count("a/t/p") == 4
    peer.close()


def test_writers_wait_for_an_open_transaction(store, tmp_path):
    seed(store)
    peer = other(store, tmp_path)
    seen: list[int] = []

    def bump():
        seen.append(peer.incr("a/t/__sequences__", "p"))

    with store.transaction():
        assert store.incr("a/t/__sequences__", "p") == 4
        t = threading.Thread(target=bump)
        t.start()
        time.sleep(0.2)
        assert seen == []  # held by the transaction's write lock
        assert store.incr("a/t/__sequences__", "p") == 5
    t.join(10)
    assert seen == [6]
    if peer is not store:
        peer.close()


def test_a_block_without_writes_takes_no_lock(store, tmp_path):
    seed(store)
    peer = other(store, tmp_path)
    with store.transaction():
        assert store.count("a/t/p") == 3
        peer.put("a/t/p", "9", {"n": 9})  # would wait forever if a read took the lock
    assert store.get("a/t/p", "9") == {"n": 9}
    if peer is not store:
        peer.close()
