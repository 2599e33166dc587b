"""Memory stays flat: the journal and every cache are bounded.

In process, thousands of requests that each look new to every cache (distinct query strings,
search bodies, dates, paths, updates) against a sqlite store (the data lives on disk, so what
grows in memory is caches): the journal keeps at most ``journal_size`` entries, every cache stays
within its bound, and the resident memory of the second half of the run grows by less than a
fixed bound. The million-request version runs in ``make soak`` (``python -m bench.soak --requests``).
"""
from __future__ import annotations

import functools
import gc
import json
import os
import re

import pytest

from mocks.core.chain import validate as V
from tests.conftest import make_app, response_violations

pytestmark = pytest.mark.slow
HALF = int(os.environ.get("MEMORY_TEST_REQUESTS", "3000")) // 2
JOURNAL = 300


def rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def driver(client, creds):
    c2s = {"C2SKey": creds["click2sync"]["key"]}
    xt = {"Authorization": f"Bearer {creds['xtnd']['api_key']}"}
    px = {"Authorization": f"Bearer {creds['printxpand']['bearer_token']}"}
    acc = creds["api2cart"]["accounts"][0]
    a2c = {"api_key": acc["api_key"], "store_key": acc["stores"][0]["store_key"]}
    token = client.post("/stock2shop/v1/users/authenticate", json={
        "system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}}).json["system_user"]["token"]
    first = client.get("/click2sync/api/product", headers=c2s).json["products"][0]["_id"]

    def one(n: int):
        k = n % 10
        if k == 0:
            return client.get(f"/click2sync/api/product?offset={n % 60}&_={n}", headers=c2s)
        if k == 1:
            return client.post(f"/click2sync/api/product/{first}", headers=c2s, json={"title": f"T{n}"})
        if k == 2:
            return client.get(f"/xtnd/api/v1/CustomerOrders?pageSize={1 + n % 50}&changedSince=2024-01-{1 + n % 28:02d}",
                              headers=xt)
        if k == 3:
            return client.get(f"/xtnd/api/v1/CustomerOrders/NOPE{n}", headers=xt)
        if k == 4:
            return client.post("/printxpand/rest/V1/product/delete/", headers=px, json={"product": [f"m{n}"]})
        if k == 5:
            return client.post(f"/stock2shop/v1/products/elastic_search?token={token}", json={
                "query": {"bool": {"must": [{"match": {"title": f"word{n}"}}],
                                   "filter": [{"range": {"modified": {"gte": f"2023-{1 + n % 12:02d}-{1 + n % 28:02d} "
                                                                            f"{n % 24:02d}:{n % 60:02d}:00"}}}]}},
                "size": 1 + n % 20})
        if k == 6:
            return client.get("/api2cart/v1.1/product.list.json",
                              query_string={**a2c, "count": str(1 + n % 50), "start": str(n % 30)})
        if k == 7:
            return client.get("/api2cart/v1.1/order.info.json", query_string={**a2c, "order_id": str(n)})
        if k == 8:
            return client.post(f"/click2sync/api/nothing/{n}", headers=c2s, data=b"{" * (n % 50))
        return client.get(f"/stock2shop/v1/queue/items?token={token}&offset={n % 7}")

    return one


def bounded_caches(app) -> dict[str, tuple[int, int]]:
    """name -> (size, bound) of every cache we can see."""
    out: dict[str, tuple[int, int]] = {}
    gw = app.extensions["gateway"]
    out["gateway valid bodies"] = (len(gw.valid_bodies), V.VALID_BODY_CACHE)
    store = app.extensions["sandbox"].store
    if hasattr(store, "_cache"):
        out["store namespace cache"] = (len(store._cache), 512)
    cache = app.extensions.get("response_cache")
    if cache is not None:
        size = getattr(cache, "bytes", None) or getattr(cache, "size", None) or getattr(cache, "_bytes", None)
        bound = getattr(cache, "max_bytes", None)
        if isinstance(size, int) and isinstance(bound, int):
            out["response cache bytes"] = (size, bound)
    for obj in gc.get_objects():
        if isinstance(obj, functools._lru_cache_wrapper) and getattr(obj, "__module__", "").startswith("mocks"):
            info = obj.cache_info()
            name = f"lru {obj.__module__}.{obj.__qualname__}"
            if info.maxsize is None:
                # load_contract: one entry per API (and per schemas root); anything else must be bounded
                assert obj.__qualname__ in ("load_contract",), f"{name} is unbounded"
                assert info.currsize <= 20, f"{name} holds {info.currsize}"
            else:
                out[name] = (info.currsize, info.maxsize)
    return out


def test_memory_is_flat_and_caches_are_bounded(tmp_path):
    app = make_app(state=f"sqlite:///{tmp_path}/m.db", journal_size=JOURNAL, violations_size=100,
                   options={"stock2shop": {"products": 30, "orders": 10, "customers": 10}})
    client = app.test_client()
    creds = client.get("/__sandbox/credentials").json
    one = driver(client, creds)
    statuses: dict[int, int] = {}
    for n in range(HALF):
        r = one(n)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    gc.collect()
    middle = rss_kb()
    for n in range(HALF, 2 * HALF):
        r = one(n)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    gc.collect()
    end = rss_kb()
    assert not [s for s in statuses if s >= 500], statuses
    sb = app.extensions["sandbox"]
    journal = list(sb.store.journal(0))
    assert len(journal) <= JOURNAL, len(journal)
    assert client.get("/__sandbox/requests?limit=100000").json["total"] <= JOURNAL
    assert len(sb.store.values(V.VIOLATIONS)) <= 100
    over = {name: v for name, v in bounded_caches(app).items() if v[0] > v[1]}
    assert not over, over
    growth_mb = (end - middle) / 1024
    print(f"memory: {2 * HALF} requests, RSS {middle / 1024:.1f} MB half-way -> {end / 1024:.1f} MB "
          f"(growth {growth_mb:.1f} MB), journal {len(journal)}/{JOURNAL}, caches {bounded_caches(app)}")
    assert growth_mb < 24, f"RSS grew {growth_mb:.1f} MB over the second {HALF} requests (statuses {statuses})"
    bad = [v for v in response_violations(app)]
    assert not bad, bad[:2]
