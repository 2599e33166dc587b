"""Every backend behaves the same behind the Store interface."""
from __future__ import annotations

import threading

import pytest

from mocks.core.store import MemoryStore, SqliteStore, RedisStore, open_store


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "memory":
        s = MemoryStore(journal_size=5)
    elif request.param == "sqlite":
        s = SqliteStore(str(tmp_path / "state.db"), journal_size=5)
    else:
        url = request.getfixturevalue("redis_url")
        s = RedisStore(url, journal_size=5, prefix=f"t{id(request)}:")
    yield s
    s.close()


def test_put_get_roundtrip_returns_private_copies(store):
    store.put("a/t/x", "1", {"n": 1, "l": [1, 2]})
    got = store.get("a/t/x", "1")
    assert got == {"n": 1, "l": [1, 2]}
    got["n"] = 99
    assert store.get("a/t/x", "1")["n"] == 1
    assert store.get("a/t/x", "missing") is None


def test_items_keep_first_insert_order_across_updates(store):
    store.put_many("a/t/x", [("b", 1), ("a", 2), ("c", 3)])
    store.put("a/t/x", "a", 20)
    assert store.items("a/t/x") == [("b", 1), ("a", 20), ("c", 3)]
    assert store.count("a/t/x") == 3


def test_add_only_inserts_once(store):
    assert store.add("a/t/x", "k", 1) is True
    assert store.add("a/t/x", "k", 2) is False
    assert store.get("a/t/x", "k") == 1


def test_delete_and_version_changes(store):
    v0 = store.version("a/t/x")
    store.put("a/t/x", "k", 1)
    v1 = store.version("a/t/x")
    assert v1 != v0
    assert store.delete("a/t/x", "k") is True
    assert store.delete("a/t/x", "k") is False
    assert store.version("a/t/x") != v1
    assert store.items("a/t/x") == []


def test_update_is_atomic_under_threads(store):
    def work():
        for _ in range(25):
            store.incr("a/t/c", "n")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get("a/t/c", "n") == 100


def test_update_returning_none_deletes_and_exception_writes_nothing(store):
    store.put("a/t/x", "k", {"v": 1})
    with pytest.raises(RuntimeError):
        store.update("a/t/x", "k", lambda old: (_ for _ in ()).throw(RuntimeError("boom")))
    assert store.get("a/t/x", "k") == {"v": 1}
    store.update("a/t/x", "k", lambda old: None)
    assert store.get("a/t/x", "k") is None


def test_clear_by_prefix_and_namespaces(store):
    store.put("api/t1/p", "1", 1)
    store.put("api/t2/p", "1", 1)
    store.put("other/t1/p", "1", 1)
    assert store.namespaces("api/") == ["api/t1/p", "api/t2/p"]
    store.clear("api/t1/")
    assert store.items("api/t1/p") == []
    assert store.items("api/t2/p") == [("1", 1)]
    assert store.items("other/t1/p") == [("1", 1)]


def test_journal_is_a_bounded_ring(store):
    for i in range(12):
        store.journal_append({"i": i})
    rows = store.journal()
    assert [r["i"] for r in rows] == [7, 8, 9, 10, 11]
    assert [r["i"] for r in store.journal(limit=2)] == [10, 11]
    since = rows[-2]["seq"]
    assert [r["i"] for r in store.journal(since=since)] == [11]
    store.journal_clear()
    assert store.journal() == []


def test_journal_takes_pre_encoded_entries_alike(store):
    """The fast path's entries come already encoded (mocks.core.store.journal.Template): every
    backend reads them back as the same entries as plain ones, seq last."""
    from mocks.core.store.journal import Template

    template = Template.of({"time": 0.0, "i": 1, "duration_ms": 0.0})
    store.journal_append({"time": 1.0, "i": 0, "duration_ms": 0.5})
    store.journal_append(template.fill({"time": 2.0, "duration_ms": 0.25},
                                       lambda: {"time": 2.0, "i": 1, "duration_ms": 0.25}))
    rows = store.journal()
    assert [{k: v for k, v in r.items() if k != "seq"} for r in rows] == [
        {"time": 1.0, "i": 0, "duration_ms": 0.5}, {"time": 2.0, "i": 1, "duration_ms": 0.25}]
    assert all(list(r)[-1] == "seq" for r in rows) and rows[0]["seq"] < rows[1]["seq"]


def test_cached_items_see_writes_from_another_store_object(store, tmp_path, request):
    """Two workers = two Store objects on one backend: a write by one is read by the other."""
    if isinstance(store, MemoryStore):
        pytest.skip("memory state is per process by design")
    other = SqliteStore(store.path) if isinstance(store, SqliteStore) else RedisStore(store.url, prefix=store.prefix)
    store.put("a/t/x", "1", "one")
    assert other.items("a/t/x") == [("1", "one")]
    other.put("a/t/x", "2", "two")
    assert store.items("a/t/x") == [("1", "one"), ("2", "two")]
    other.close()


def test_open_store_urls(tmp_path):
    assert open_store("memory").kind == "memory"
    s = open_store(f"sqlite:///{tmp_path}/x.db")
    assert s.kind == "sqlite" and s.integrity_check() == "ok"
    with pytest.raises(ValueError):
        open_store("postgres://nope")
