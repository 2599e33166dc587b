"""The test fixtures share one app per configuration and restore it between tests
(``Sandbox.checkpoint``/``restore``, tests/conftest.py ``AppPool``). A restored app must be a
fresh one: after traffic that touches every kind of state - data of every API and tenant, a
registered tenant, scenarios and their counters, injected webhook failures, queued webhooks,
the clock, the journal, violations, the response cache, Stock2Shop's rate limiter, a partial
reset - the restored app holds and answers exactly what a newly built app with the same config
does."""
from __future__ import annotations

from typing import Any

import pytest

from mocks.api2cart import seed as a2c_seed
from mocks.core import webhooks
from mocks.core.api import Tenant
from mocks.printxpand.auth import DEMO_CONSUMERS
from tests.conftest import AppPool, make_app

S2S_OPTIONS = {"stock2shop": {"products": 12, "orders": 6, "customers": 4}}
C2S = {"C2SKey": "c2s-demo-key"}
XTND = {"Authorization": "Bearer xtnd-demo-key"}
PX = {"Authorization": f"Bearer {DEMO_CONSUMERS[0].access_token}"}
A2C_KEY = a2c_seed.ACCOUNTS[0]["api_key"]
A2C = {"api_key": A2C_KEY, "store_key": a2c_seed.store_key(A2C_KEY, 1)}
COUNTING = {"name": "counting", "rules": [{"name": "late", "when": {"after": 10_000}, "action": {"status": 503}}]}


def reads(client: Any) -> list[tuple[str, Any]]:
    """GET answers that show state (control plane and each API), in a fixed order."""
    mounted = client.get("/__sandbox/health").get_json()["apis"]
    paths = ["/__sandbox/credentials", "/__sandbox/scenarios", "/__sandbox/webhooks", "/__sandbox/violations"]
    if "stock2shop" in mounted:
        paths.append("/__sandbox/stock2shop/rate_limit?client_id=21")
    for api in mounted:
        paths += [f"/__sandbox/data/{api}", f"/__sandbox/tenants/{api}"]
    answers: list[tuple[str, Any]] = [(p, (r.status_code, r.get_json())) for p in paths for r in [client.get(p)]]
    api_reads = [("/click2sync/api/product?offset=0", C2S), ("/click2sync/api/order?offset=0", C2S),
                 ("/xtnd/api/v1/Customers", XTND), ("/xtnd/api/v1/Webhooks", XTND), ("/xtnd/api/v1/CustomerOrders", XTND)]
    for path, headers in api_reads:
        r = client.get(path, headers=headers)
        answers.append((path, (r.status_code, r.get_json())))
    if "api2cart" in mounted:
        r = client.get("/api2cart/v1.1/product.list.json", query_string={**A2C, "count": 50})
        answers.append(("product.list", (r.status_code, r.get_json())))
    offset = client.get("/__sandbox/clock").get_json()["offset_seconds"]
    answers.append(("clock offset", offset))
    return unstamped(answers)


def unstamped(node: Any) -> Any:
    """A scenario the config installs is stamped with the time its app was built: not compared."""
    if isinstance(node, dict):
        return {k: None if k == "activated_at" and node.get("source") == "serve" else unstamped(v)
                for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(unstamped(v) for v in node)
    return node


def state_of(app: Any) -> dict[str, Any]:
    sandbox = app.extensions["sandbox"]
    store = sandbox.store
    cache = app.extensions.get("response_cache")
    return {
        "namespaces": unstamped({name: store.items(name) for name in store.namespaces("")}),
        "journal": [{k: v for k, v in e.items() if k not in ("time", "duration_ms")} for e in store.journal(0)],
        "clock offset": sandbox.clock.offset(),
        "tenants": {api: sorted((t.id, t.seeded) for t in sandbox.tenants(api).values()) for api in sandbox.apis},
        "response cache": None if cache is None else (len(cache._entries), cache.hits, cache.misses,
                                                     cache.max_bytes, cache.max_entry),
    }


def touch_everything(app: Any) -> None:
    sandbox = app.extensions["sandbox"]
    c = app.test_client()
    # scenarios: a counting one, a library one with injected webhook failures, a per-tenant one
    assert c.post("/__sandbox/scenarios", json=COUNTING).status_code in (200, 201)
    assert c.post("/__sandbox/scenarios", json={"name": "xtnd-webhook-failures"}).status_code in (200, 201)
    assert c.post("/__sandbox/scenarios", json={"name": "flaky-5xx", "tenant": "no-such-tenant", "seed": 3}).status_code in (200, 201)
    # writes through every API
    mounted = set(sandbox.apis)
    assert c.post("/click2sync/api/product", headers=C2S, json={"sku": "FR-1", "title": "Fresh"}).status_code == 200
    r = c.post("/xtnd/api/v1/Webhooks", headers=XTND, json={"name": "fresh", "callbackUrl": "http://127.0.0.1:9/hook",
                                                          "triggers": ["CustomerChanged"], "secret": "s" * 24})
    assert r.status_code == 201, r.get_json()
    r = c.post("/xtnd/api/v1/Customers", headers=XTND, json={"customerNumber": "FRESH-1", "name": "Fresh Ltd"})
    assert r.status_code in (200, 201), r.get_json()
    if "api2cart" in mounted:
        r = c.post("/api2cart/v1.1/product.add.json", query_string=A2C,
                   json={"name": "Tent", "model": "FRESH-9", "description": "d", "price": 1.5})
        assert r.get_json()["return_code"] == 0, r.get_json()
    if "printxpand" in mounted:
        r = c.post("/printxpand/rest/V1/customer/create/", headers=PX, json={"customer": {"777": {
            "id": "777", "first_name": "a", "last_name": "b", "email": "fresh@example.com"}}})
        assert r.status_code == 200, r.get_json()
        assert c.post("/__sandbox/reset", json={"api": "printxpand"}).status_code == 200
    if "stock2shop" in mounted:
        r = c.post("/stock2shop/v1/users/authenticate", json={"system_user_auth": {"username": "admin",
                                                                                   "password": "admin-s2s-demo"}})
        token = r.get_json()["system_user"]["token"]
        r = c.post(f"/stock2shop/v1/products/queue?token={token}&source_id=57", json={"system_products": [
            {"source": {"source_id": "57", "product_active": "true", "source_product_code": "FR", "sync_token": "0",
                        "fetch_token": "0"}, "product": {"title": "Fresh", "variants": {"source_variant_code": "FR",
                                                                                         "sku": "FR"}}}]})
        assert r.status_code == 200, r.get_json()
        assert c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 21, "enabled": True}).status_code == 200
    # a request the contract refuses (a request violation), reads that fill the response cache
    assert c.post("/click2sync/api/product", headers=C2S, json={"sku": 5, "title": "x"}).status_code == 400
    for _ in range(2):
        assert c.get("/click2sync/api/product?offset=0", headers=C2S).status_code == 200
    # a queued webhook, the clock, a registered tenant, a partial reset, every tenant's namespaces
    webhooks.enqueue(sandbox, "click2sync", "c2s-demo-key", "http://127.0.0.1:9/x", "test", {"a": 1}, delay=60)
    assert c.post("/__sandbox/clock", json={"advance_seconds": 7200}).status_code == 200
    sandbox.register_tenant("click2sync", Tenant("fresh-tenant", {"key": "fresh"}, False))
    for name in sandbox.apis:
        for tenant in sandbox.tenants(name):
            sandbox.state(name, tenant).collection("scratch").put("k", {"v": 1})
    cache = app.extensions.get("response_cache")
    if cache is not None:
        cache.max_bytes = 1000


@pytest.mark.parametrize("config", [{"options": S2S_OPTIONS},
                                    {"apis": ["click2sync", "xtnd", "api2cart"], "scenarios": ["api2cart-account-limit"]}],
                         ids=["every-api", "boot-scenario"])
def test_a_restored_app_is_a_fresh_app(config):
    pool = AppPool()
    used = pool.acquire(dict(config, state="memory", testing=True))
    fresh_state = state_of(used)
    touch_everything(used)
    changed = state_of(used)
    for part in ("namespaces", "journal", "clock offset", "tenants", "response cache"):
        assert changed[part] != fresh_state[part], f"the traffic did not change {part}: the test proves nothing"

    restored = pool.acquire(dict(config, state="memory", testing=True))
    assert restored is used
    assert pool.restores_ms, "the second acquire restored the shared app"
    new = make_app(**config)
    assert state_of(restored) == state_of(new)
    assert reads(restored.test_client()) == reads(new.test_client())
    assert state_of(restored) == state_of(new)  # the same requests left the same traces


def test_restore_twice_and_state_written_after_a_restore_goes_too():
    pool = AppPool()
    config = {"apis": ["click2sync"], "state": "memory", "testing": True}
    app = pool.acquire(dict(config))
    fresh = state_of(app)
    for n in range(3):
        c = app.test_client()
        assert c.post("/click2sync/api/product", headers=C2S, json={"sku": f"R-{n}", "title": "x"}).status_code == 200
        assert c.post("/__sandbox/clock", json={"advance_seconds": 60}).status_code == 200
        assert pool.acquire(dict(config)) is app
        assert state_of(app) == fresh


def test_an_app_whose_object_a_test_changed_is_not_reused():
    pool = AppPool()
    config = {"apis": ["xtnd"], "state": "memory", "testing": True}
    app = pool.acquire(dict(config))
    app.extensions["sandbox"].config.journal_size = 3  # not state: the next test must not see it
    pool.release(dict(config), app)
    assert pool.acquire(dict(config)) is not app


def test_only_a_memory_store_checkpoints(tmp_path):
    app = make_app(apis=["xtnd"], state=f"sqlite:///{tmp_path}/s.db")
    sandbox = app.extensions["sandbox"]
    assert sandbox.checkpoint() is False
    with pytest.raises(RuntimeError):
        sandbox.restore()
    sandbox.store.close()
