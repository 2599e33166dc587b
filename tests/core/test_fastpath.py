"""The WSGI fast path (mocks.core.fastpath) answers exactly what the full chain would.

Two sandboxes built alike, one with the fast path and one without, get the same requests (each
three times: a miss, a hit through the chain, a hit the fast path may answer); every answer and
every journal entry must be the same, apart from the time and duration of the entry.
"""
from __future__ import annotations

import json
from typing import Any

from mocks.core.cache import ResponseCache, cacheable

C2S = {"C2SKey": "c2s-demo-key"}
PAGE = "/click2sync/api/product?offset=0"
S2S_SEARCH = {"query": {"bool": {"filter": [{"range": {"modified": {"gte": "2000-01-01"}}},
                                            {"term": {"active": True}}]}},
              "sort": [{"modified": {"order": "desc"}}], "size": 5}
#: read-only GET routes this test caches in its own apps (whichever the APIs do not mark yet),
#: so the fast path is compared with the chain on every API
#: (path, status, answered by the fast path on the third try) for each request of _requests
EXPECTED = [
    ("/click2sync/api/product", 200, 1), ("/click2sync/api/product", 200, 1), ("/click2sync/api/product", 200, 1),
    ("/click2sync/api/order", 200, 1),
    ("/click2sync/api/product", 401, 0), ("/click2sync/api/product", 401, 0),  # auth failures fall through
    # Stock2Shop's token holds until it expires (Clock.before): fast until then
    ("/stock2shop/v1/sources", 200, 1), ("/stock2shop/v1/channels", 200, 1), ("/stock2shop/v1/sources", 401, 0),
    ("/stock2shop/v1/products/elastic_search", 200, 1),    # a POST cached by its body
    # the same search written differently: a hit of the chain at once (canonical body), then fast
    ("/stock2shop/v1/products/elastic_search", 200, 2),
    ("/stock2shop/v1/products/elastic_search", 400, 0),    # a malformed body: the chain's 400
    ("/api2cart/v1.1/product.list.json", 200, 1), ("/api2cart/v1.1/cart.info.json", 200, 1),
    ("/api2cart/v1.1/product.list.json", 200, 0),  # a bad api_key: API2Cart's error is a 200 (return_code)
    ("/xtnd/api/v1/Warehouses", 200, 1), ("/xtnd/api/v1/Products", 200, 1), ("/xtnd/api/v1/Warehouses", 401, 0),
    ("/printxpand/rest/V1/order/create", 400, 0), ("/printxpand/rest/V1/order/create", 401, 0),
]
EXTRA_CACHEABLE = ("stock2shop.sources", "stock2shop.channels", "api2cart.call", "xtnd.xtnd")


def _with_cacheable_reads(app: Any) -> Any:
    for endpoint in EXTRA_CACHEABLE:
        view = app.view_functions.get(endpoint)
        if view is not None and not getattr(view, "sandbox_cacheable", False):
            app.view_functions[endpoint] = cacheable(view)
    return app


def _apps(app_factory: Any, **config: Any) -> tuple[Any, Any]:
    return (_with_cacheable_reads(app_factory(fast_path=True, **config)),
            _with_cacheable_reads(app_factory(fast_path=False, **config)))


def _s2s_token(client: Any, user: str = "admin") -> str:
    r = client.post("/stock2shop/v1/users/authenticate?format=json",
                    json={"system_user_auth": {"username": user, "password": f"{user}-s2s-demo"}})
    return r.json["system_user"]["token"]


def _requests(client: Any) -> list[tuple]:
    creds = client.get("/__sandbox/credentials").json
    a2c = creds["api2cart"]
    store_key = a2c["stores"][0]["store_key"]
    token = _s2s_token(client)
    xtnd = {"Authorization": f"Bearer {creds['xtnd']['api_key']}"}
    return [
        (PAGE, C2S),
        (PAGE, {"C2SKey": "c2s-demo-key-2"}),                      # another tenant
        ("/click2sync/api/product?offset=20", C2S),
        ("/click2sync/api/order?offset=0", C2S),
        (PAGE, {"C2SKey": "wrong"}),                                # auth failures: never fast
        (PAGE, {}),
        (f"/stock2shop/v1/sources?token={token}", {}),
        (f"/stock2shop/v1/channels?token={token}", {}),
        ("/stock2shop/v1/sources?token=nope", {}),
        (f"/stock2shop/v1/products/elastic_search?token={token}", {"Content-Type": "application/json"},
         json.dumps(S2S_SEARCH).encode()),
        (f"/stock2shop/v1/products/elastic_search?token={token}", {"Content-Type": "application/json"},
         json.dumps(S2S_SEARCH, indent=1, sort_keys=True).encode()),
        (f"/stock2shop/v1/products/elastic_search?token={token}", {"Content-Type": "application/json"},
         b'{"size": 1, "size": 2}'),
        (f"/api2cart/v1.1/product.list.json?api_key={a2c['api_key']}&store_key={store_key}&count=3", {}),
        (f"/api2cart/v1.1/cart.info.json?api_key={a2c['api_key']}&store_key={store_key}", {}),
        (f"/api2cart/v1.1/product.list.json?api_key=bad&store_key={store_key}", {}),
        ("/xtnd/api/v1/Warehouses", xtnd),
        ("/xtnd/api/v1/Products?pageSize=2", xtnd),
        ("/xtnd/api/v1/Warehouses", {"Authorization": "Bearer wrong"}),
        ("/printxpand/rest/V1/order/create", {"Authorization": f"Bearer {creds['printxpand']['bearer_token']}"}),
        ("/printxpand/rest/V1/order/create", {"Authorization": "Bearer wrong"}),
    ]


def _answer(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, sorted(response.headers.items()), response.data


def _journal(app: Any) -> list[dict[str, Any]]:
    entries = app.extensions["sandbox"].store.journal()
    return [{k: v for k, v in e.items() if k not in ("time", "duration_ms", "seq")} for e in entries]


def test_fast_and_full_chain_give_the_same_answers_and_journal(app_factory):
    fast_app, slow_app = _apps(app_factory)
    fast, slow = fast_app.test_client(), slow_app.test_client()
    table_fast, table_slow = _requests(fast), _requests(slow)
    assert len(table_fast) == len(table_slow)  # (tokens are random: each app gets its own)
    fast_app.extensions["sandbox"].store.journal_clear()
    slow_app.extensions["sandbox"].store.journal_clear()
    fastpath = fast_app.extensions["gateway"].fast
    assert fastpath is not None and slow_app.extensions["gateway"].fast is None
    seen: list[tuple[str, int, int]] = []
    for (path, headers, *body), (slow_path, slow_headers, *_) in zip(table_fast, table_slow):
        before = fastpath.answered
        for n in range(3):
            if body:
                a = fast.post(path, headers=headers, data=body[0])
                b = slow.post(slow_path, headers=slow_headers, data=body[0])
            else:
                a, b = fast.get(path, headers=headers), slow.get(slow_path, headers=slow_headers)
            a_answer, b_answer = _answer(a), _answer(b)
            # the worker header names this process in both
            assert a_answer == b_answer, (path, n)
        seen.append((path.split("?")[0], a.status_code, fastpath.answered - before))
    assert _journal(fast_app) == _journal(slow_app)
    assert seen == EXPECTED


def test_auth_failures_fall_through(app_factory):
    fast_app, _ = _apps(app_factory)
    client = fast_app.test_client()
    fastpath = fast_app.extensions["gateway"].fast
    for _ in range(4):
        assert client.get(PAGE, headers={"C2SKey": "wrong"}).status_code == 401
    assert fastpath.answered == 0
    for _ in range(3):
        client.get(PAGE, headers=C2S)
    assert fastpath.answered == 1
    # the same request with a revoked credential (another header value) is the chain's again
    assert client.get(PAGE, headers={"C2SKey": "c2s-demo-key-x"}).status_code == 401
    assert fastpath.answered == 1


def test_a_write_through_another_process_invalidates(tmp_path, app_factory):
    url = f"sqlite:///{tmp_path}/shared.db"
    reader = app_factory(apis=["click2sync"], state=url)
    writer = app_factory(apis=["click2sync"], state=url)  # another worker on the same file
    r, w = reader.test_client(), writer.test_client()
    total = r.get(PAGE, headers=C2S).json["paging"]["itemsTotal"]
    for _ in range(3):
        assert r.get(PAGE, headers=C2S).json["paging"]["itemsTotal"] == total
    fastpath = reader.extensions["gateway"].fast
    assert fastpath.answered >= 1
    for _ in range(3):  # the writer's own fast path too
        w.get(PAGE, headers=C2S)
    assert w.post("/click2sync/api/product", headers=C2S, json={"sku": "fp-1", "title": "t"}).status_code == 200
    assert r.get(PAGE, headers=C2S).json["paging"]["itemsTotal"] == total + 1
    assert w.get(PAGE, headers=C2S).json["paging"]["itemsTotal"] == total + 1


def test_a_scenario_turns_the_fast_path_off(app_factory):
    fast_app, _ = _apps(app_factory)
    client = fast_app.test_client()
    fastpath = fast_app.extensions["gateway"].fast
    for _ in range(3):
        client.get(PAGE, headers=C2S)
    answered = fastpath.answered
    assert answered == 1
    rule = {"name": "fp", "rules": [{"match": {"api": "click2sync"}, "action": {"status": 503}}]}
    assert client.post("/__sandbox/scenarios", json=rule).status_code in (200, 201)
    assert client.get(PAGE, headers=C2S).status_code == 503
    assert fastpath.answered == answered
    assert client.delete("/__sandbox/scenarios").status_code in (200, 204)
    assert client.get(PAGE, headers=C2S).status_code == 200
    # a request naming a scenario is never fast
    for _ in range(3):
        client.get(PAGE, headers={**C2S, "X-Sandbox-Scenario": "none-such"})
    assert fastpath.answered == answered
    assert client.get(PAGE, headers=C2S).status_code == 200  # learnt again after the delete
    assert fastpath.answered == answered + 1


def test_rate_limits_still_apply_on_the_fast_path(app_factory):
    """API2Cart's per-minute store limit: charged by the fast path as by the chain."""
    app = _with_cacheable_reads(app_factory(options={"api2cart": {"store_request_limit": 5}}))
    client = app.test_client()
    fastpath = app.extensions["gateway"].fast
    a2c = client.get("/__sandbox/credentials").json["api2cart"]
    url = f"/api2cart/v1.1/cart.info.json?api_key={a2c['api_key']}&store_key={a2c['stores'][0]['store_key']}"
    client.post("/__sandbox/clock", json={"freeze": True})
    codes = [client.get(url).json["return_code"] for _ in range(7)]
    assert codes == [0, 0, 0, 0, 0, 7, 7], codes
    assert fastpath.answered == 3  # the third, fourth and fifth


def test_stock2shop_search_is_cached_by_canonical_body_and_data_version(app):
    client = app.test_client()
    cache: ResponseCache = app.extensions["response_cache"]
    token = _s2s_token(client)
    url = f"/stock2shop/v1/products/elastic_search?token={token}"
    first = client.post(url, json=S2S_SEARCH)
    assert first.status_code == 200
    hits = cache.hits
    # the same body written differently (order of keys, spaces) is the same search
    shuffled = json.dumps(dict(reversed(list(S2S_SEARCH.items()))), indent=2)
    again = client.post(url, data=shuffled, content_type="application/json")
    assert again.data == first.data and cache.hits == hits + 1
    # another body, another entry
    other = client.post(url, json={**S2S_SEARCH, "size": 4})
    assert other.status_code == 200 and other.data != first.data and cache.hits == hits + 1
    # another tenant (client 91) never sees client 21's answer
    token91 = _s2s_token(client, "admin91")
    theirs = client.post(f"/stock2shop/v1/products/elastic_search?token={token91}", json=S2S_SEARCH)
    assert theirs.status_code == 200 and theirs.data != first.data
    # a write to the tenant's products: the next search renders afresh
    products = app.extensions["sandbox"].state("stock2shop", "21").collection("products")
    key = next(k for k, doc in products.items() if doc.get("active"))
    total = first.json["hits"]["total"]
    products.delete(key)
    after = client.post(url, json=S2S_SEARCH)
    assert after.json["hits"]["total"] != total and cache.hits == hits + 1
    # a malformed body is never answered from the cache: the API's own 400
    bad = client.post(url, data=b'{"size": 5, "size": 5}', content_type="application/json")
    assert bad.status_code == 400


def test_a_cached_search_is_not_served_to_a_user_the_route_would_refuse(app, app_factory):
    """The key holds the principal: each user of a tenant gets the route's own verdict."""
    reference = app_factory(response_cache_mb=0).test_client()
    client = app.test_client()
    url = "/stock2shop/v1/customers/elastic_search?token={}"
    for _ in range(2):
        assert client.post(url.format(_s2s_token(client)), json={"size": 1}).status_code == 200
    for user in ("trade", "read_only", "product_editor", "customer_read_only"):
        got = client.post(url.format(_s2s_token(client, user)), json={"size": 1})
        want = reference.post(url.format(_s2s_token(reference, user)), json={"size": 1})
        assert (got.status_code, got.json) == (want.status_code, want.json), user


def test_an_expired_token_is_refused_even_after_fast_answers(app_factory):
    """Stock2Shop's token: fast while it holds, the API's own refusal once the clock passes its expiry."""
    app = _with_cacheable_reads(app_factory())
    client = app.test_client()
    fastpath = app.extensions["gateway"].fast
    url = f"/stock2shop/v1/sources?token={_s2s_token(client)}"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    assert fastpath.answered == 1
    moved = client.post("/__sandbox/clock", json={"api": "stock2shop", "tenant": "21", "advance_seconds": 400 * 86400})
    assert moved.status_code == 200, moved.data
    late = client.get(url)
    assert late.status_code == 401 and fastpath.answered == 1


def test_fast_answers_are_bounded_by_bytes_as_well_as_by_count():
    """A fast answer can outlive the cache entry it was made from: its body is counted on its own."""
    class Answer:
        def __init__(self, size: int) -> None:
            self.body = b"x" * size

    cache = ResponseCache(store=None, max_bytes=1000, max_fast=100)
    for i in range(10):
        cache.remember_fast(("k", i), Answer(300))
    assert list(cache.fast) == [("k", 7), ("k", 8), ("k", 9)] and cache._fast_bytes == 900
    cache.remember_fast(("k", 9), Answer(50))          # replaced: the old body no longer counts
    assert cache._fast_bytes == 650
    cache.forget_fast(("k", 8))
    assert list(cache.fast) == [("k", 7), ("k", 9)] and cache._fast_bytes == 350
    cache.clear()
    assert cache.fast == {} and cache._fast_bytes == 0


def test_fast_journal_entries_are_the_chains_json_on_sqlite(tmp_path, app_factory):
    """The fast path writes its entry from a template cut once (mocks.core.store.journal): the
    stored JSON has the chain's fields, in the chain's order, with its own time and duration."""
    import sqlite3

    app = app_factory(fast_path=True, state=f"sqlite:///{tmp_path}/j.db")
    client = app.test_client()
    store = app.extensions["sandbox"].store
    store.journal_clear()
    for _ in range(4):
        assert client.get(PAGE, headers=C2S).status_code == 200
    assert app.extensions["gateway"].fast.answered == 2
    store.journal()  # (written)
    with sqlite3.connect(store.journal_path) as db:
        texts = [row[0] for row in db.execute("SELECT entry FROM requests ORDER BY seq")]
    entries = [json.loads(text) for text in texts]
    assert len(entries) == 4
    chain, fast = entries[1], entries[3]
    assert list(fast) == list(chain)
    assert {k: v for k, v in fast.items() if k not in ("time", "duration_ms")} == \
        {k: v for k, v in chain.items() if k not in ("time", "duration_ms")}
    assert fast["time"] >= chain["time"] and isinstance(fast["duration_ms"], float)
    assert [e["seq"] for e in store.journal()] == sorted({e["seq"] for e in store.journal()})


def test_a_journal_template_fills_in_time_and_duration_or_declines():
    from mocks.core.store.journal import Encoded, Template

    entry = {"time": 1.0, "api": "x", "duration_ms": 2.0, "response": {"body": '{"a": "\\u0000"}'}, "violations": []}
    template = Template.of(entry)
    assert template is not None
    made = template.fill({"time": 1796539944.636841, "duration_ms": 0.25}, lambda: {})
    assert isinstance(made, Encoded)
    assert json.loads(made.text) == dict(entry, time=1796539944.636841, duration_ms=0.25)
    assert list(json.loads(made.text)) == list(entry)
    # a value that holds a marker's very text cannot be cut safely: the entry is encoded whole instead
    assert Template.of(dict(entry, api="\x00time\x00")) is None
