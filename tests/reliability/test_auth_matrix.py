"""Security matrix: every route of every API x (no, wrong, expired, another tenant's) credentials;
tenant isolation through the APIs and the control plane; the control plane's access rule;
secrets redacted in the journal and in exports.

Routes are enumerated from each API's bundled OpenAPI document (mocks.core.contracts), so a new
operation is covered without touching this file.
"""
from __future__ import annotations

import json
import re
import time
from typing import Any, Callable, Iterator

import pytest
import requests
from requests_oauthlib import OAuth1

from mocks.core.contracts import load_contract
from mocks.registry import NAMES
from tests.conftest import make_app, response_violations

APIS = NAMES
HOST = "http://localhost"


NO_JSON_BODY: set[tuple[str, str]] = set()


def routes(api: str, fill: str = "1") -> list[tuple[str, str]]:
    """(method, path) of every operation that needs credentials, path parameters filled."""
    out = []
    for op in load_contract(api).operations:
        if op.raw.get("security") == []:
            continue
        path = f"/{api}" + re.sub(r"\{[^}]+\}", fill, op.template)
        if not any(t.endswith("json") for t in op.body_types):
            NO_JSON_BODY.add((op.method, path))
        out.append((op.method, path))
    return out


@pytest.fixture(scope="module")
def world() -> Iterator[Any]:
    """One app with every API (memory state) shared by the module; checked for schema violations."""
    app = make_app()
    yield app
    bad = response_violations(app)
    assert not bad, f"the sandbox sent responses that break its own schema: {bad[:3]}"


@pytest.fixture(scope="module")
def client(world: Any) -> Any:
    return world.test_client()


@pytest.fixture(scope="module")
def creds(client: Any) -> dict[str, Any]:
    return client.get("/__sandbox/credentials").json


# -- per-API credential kits ---------------------------------------------------------------------
def s2s_login(client: Any, username: str) -> str:
    r = client.post("/stock2shop/v1/users/authenticate",
                    json={"system_user_auth": {"username": username, "password": username + "-s2s-demo"}})
    assert r.status_code == 200, r.json
    return r.json["system_user"]["token"]


def px_signed(client: Any, method: str, path: str, who: dict[str, Any], body: Any = None,
              timestamp: str | None = None, **query: Any) -> Any:
    """An OAuth 1.0a request signed as requests-oauthlib does it, replayed through the test client."""
    auth = OAuth1(who["consumer_key"], who["consumer_secret"], who["access_token"], who["access_token_secret"],
                  timestamp=timestamp)
    prepared = requests.Request(method, HOST + path, json=body, params=query or None, auth=auth).prepare()
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()}
    return client.open(prepared.url[len(HOST):], method=method, headers=headers, data=prepared.body)


def call(client: Any, method: str, path: str, headers: dict[str, str] | None = None,
         query: dict[str, str] | None = None, body: Any = None) -> Any:
    if body is None and method in ("POST", "PUT", "PATCH") and (method, path) not in NO_JSON_BODY:
        body = {}
    if "?" in path:
        path, _, qs = path.partition("?")
        query = {**dict(p.split("=", 1) for p in qs.split("&")), **(query or {})}
    return client.open(path, method=method, headers=headers or {}, query_string=query or {},
                       json=body if body is not None else None)


def error_json(r: Any) -> Any:
    assert r.mimetype == "application/json", (r.status_code, r.get_data(as_text=True)[:300])
    return r.get_json()


def c2s_rejected(r: Any) -> None:
    body = error_json(r)
    assert r.status_code == 401 and body["success"] is False and body["code"] == 401, body
    assert body["reasons"][0]["code"] == "invalid_key"


def xtnd_rejected(r: Any, status: int = 401, kind: str = "Authentication") -> None:
    body = error_json(r)
    assert r.status_code == status and body["status"] == status and body["errorType"] == kind, body
    assert isinstance(body["errors"], list) and body["message"]


def s2s_rejected(code: str) -> Callable[[Any], None]:
    def check(r: Any) -> None:
        body = error_json(r)
        assert r.status_code == 401 and body["error"]["code"] == 401 and body["error"]["type"] == code, body
        assert body["error"]["message"]
    return check


def px_rejected(message: str | None = None) -> Callable[[Any], None]:
    """Magento's error shape: {"message": "...%1...", "parameters": ...} with 401."""
    def check(r: Any) -> None:
        body = error_json(r)
        assert r.status_code == 401 and isinstance(body.get("message"), str), (r.status_code, body)
        assert set(body) <= {"message", "parameters", "trace"}, body
        if message is not None:
            assert body["message"] == message, body
    return check


def a2c_rejected(*codes: int) -> Callable[[Any], None]:
    """API2Cart answers HTTP 200 with its envelope and a non-zero return_code."""
    def check(r: Any) -> None:
        body = error_json(r)
        assert r.status_code == 200 and body["return_code"] in codes and body["result"] == {}, body
        assert body["return_message"]
    return check


def a2c_needs_store(path: str) -> bool:
    from mocks.api2cart.auth import method_name
    from mocks.api2cart.routes import METHODS
    entry = METHODS.get(method_name(path))
    return entry is not None and entry[1] != "account"


# -- the matrix: no credentials, wrong credentials --------------------------------------------
@pytest.mark.parametrize("api", APIS)
def test_no_credentials_on_every_route(client, api):
    check = {"click2sync": c2s_rejected, "xtnd": xtnd_rejected, "stock2shop": s2s_rejected("missing_token"),
             "printxpand": px_rejected(), "api2cart": a2c_rejected(2)}[api]
    for method, path in routes(api):
        check(call(client, method, path))


WRONG = {
    "click2sync": ({"C2SKey": "c2s-demo-key-WRONG"}, {}),
    "xtnd": ({"Authorization": "Bearer xtnd-demo-key-WRONG"}, {}),
    "stock2shop": ({}, {"token": "0" * 40}),
    "printxpand": ({"Authorization": "Bearer " + "e" * 32}, {}),
    "api2cart": ({}, {"api_key": "0" * 32, "store_key": "f" * 32}),
}


@pytest.mark.parametrize("api", APIS)
def test_wrong_credentials_on_every_route(client, api):
    check = {"click2sync": c2s_rejected, "xtnd": xtnd_rejected, "stock2shop": s2s_rejected("invalid_token"),
             "printxpand": px_rejected(), "api2cart": a2c_rejected(2)}[api]
    headers, query = WRONG[api]
    for method, path in routes(api):
        check(call(client, method, path, headers, query))
    for variant in ({"C2SKey": "c2s-demo-key "}, {"Authorization": "Bearer"}, {"Authorization": "Basic eDp5"}):
        if api in ("click2sync", "xtnd"):
            check(call(client, *routes(api)[0], variant))


def test_wrong_secrets_for_a_real_printxpand_consumer(client, creds):
    good = creds["printxpand"]["consumers"][0]
    for method, path in routes("printxpand"):
        if "/oauth/" in path:
            continue
        px_rejected("The signature is invalid. Verify and try again.")(
            px_signed(client, method, path, {**good, "consumer_secret": "0" * 32}, body={}))


def test_wrong_store_key_on_every_api2cart_store_method(client, creds):
    api_key = creds["api2cart"]["api_key"]
    for method, path in routes("api2cart"):
        if a2c_needs_store(path):
            a2c_rejected(4)(call(client, method, path, query={"api_key": api_key, "store_key": "f" * 32}))
            a2c_rejected(4)(call(client, method, path, headers={"x-api-key": api_key}))


def test_disabled_and_planless_api2cart_keys(client, creds):
    notes = {a["api_key"]: a.get("note", "") for a in creds["api2cart"]["accounts"]}
    disabled = next(k for k, n in notes.items() if "disabled" in n)
    planless = next(k for k, n in notes.items() if "no API access" in n)
    for method, path in routes("api2cart"):
        a2c_rejected(6)(call(client, method, path, query={"api_key": disabled}))
        a2c_rejected(5)(call(client, method, path, query={"api_key": planless}))


def test_xtnd_read_only_key_on_every_write_route(client, creds):
    readonly = {"Authorization": f"Bearer {creds['xtnd']['readonly_key']}"}
    writes = [(m, p) for m, p in routes("xtnd") if m not in ("GET", "HEAD")]
    assert writes
    for method, path in writes:
        xtnd_rejected(call(client, method, path, readonly), 403, "Authorization")
    for method, path in routes("xtnd"):
        if method == "GET":
            assert call(client, method, path, readonly).status_code != 403


# -- expired credentials ------------------------------------------------------------------------
def test_expired_stock2shop_token_on_every_route(app_factory):
    app = app_factory(apis=["stock2shop"], options={"stock2shop": {"products": 5, "orders": 3, "customers": 3}})
    client = app.test_client()
    token = s2s_login(client, "admin")
    assert call(client, "GET", "/stock2shop/v1/sources", query={"token": token}).status_code == 200
    ttl = 86_400
    r = client.post("/__sandbox/clock", json={"advance_seconds": ttl - 1})
    assert r.status_code == 200
    assert call(client, "GET", "/stock2shop/v1/sources", query={"token": token}).status_code == 200
    client.post("/__sandbox/clock", json={"advance_seconds": 1})
    for method, path in routes("stock2shop"):
        s2s_rejected("token_expired")(call(client, method, path, query={"token": token}))
    # a fresh login works again
    assert call(client, "GET", "/stock2shop/v1/sources", query={"token": s2s_login(client, "admin")}).status_code == 200


def test_printxpand_stale_and_future_oauth_timestamps_on_every_route(app_factory):
    app = app_factory(apis=["printxpand"])
    client = app.test_client()
    who = client.get("/__sandbox/credentials").json["printxpand"]["consumers"][0]
    now = int(app.extensions["sandbox"].clock.now())
    from mocks.printxpand.auth import MAX_SKEW
    for method, path in routes("printxpand"):
        if "/oauth/" in path:
            continue
        for stamp in (now - MAX_SKEW - 60, now + MAX_SKEW + 60):
            r = px_signed(client, method, path, who, body={}, timestamp=str(stamp))
            px_rejected()(r)
            assert "timestamp" in r.get_json()["message"].lower(), r.get_json()
    # and the same signature with a current timestamp passes authentication
    r = px_signed(client, "POST", "/printxpand/rest/V1/product/delete/", who, body={"product": ["999999"]},
                  timestamp=str(now))
    assert r.status_code == 404


def test_the_sandbox_clock_never_moves_printxpand_timestamps(app_factory):
    """OAuth timestamps are checked against real time, as Magento does: a signature made at
    wall-clock time keeps passing once the sandbox clock is moved a day on, and one made with the
    sandbox's time is rejected."""
    app = app_factory(apis=["printxpand"])
    client = app.test_client()
    who = client.get("/__sandbox/credentials").json["printxpand"]["consumers"][0]
    now = int(time.time())
    client.post("/__sandbox/clock", json={"advance_seconds": 86_400})
    r = px_signed(client, "POST", "/printxpand/rest/V1/product/delete/", who, body={"product": ["999999"]},
                  timestamp=str(now))
    assert r.status_code == 404                                   # authenticated: the product is unknown
    px_rejected()(px_signed(client, "POST", "/printxpand/rest/V1/product/delete/", who,
                            body={"product": ["1"]}, timestamp=str(now + 86_400)))


# -- another tenant's credentials -------------------------------------------------------------
def test_printxpand_consumer_with_another_consumers_token(client, creds):
    a, b = creds["printxpand"]["consumers"][:2]
    mixed = {**a, "access_token": b["access_token"], "access_token_secret": b["access_token_secret"]}
    for method, path in routes("printxpand"):
        if "/oauth/" in path:
            continue
        px_rejected("Token is not associated with the specified consumer")(
            px_signed(client, method, path, mixed, body={}))


def test_api2cart_account_with_another_accounts_store_key(client, creds):
    first, second = creds["api2cart"]["accounts"][:2]
    foreign = second["stores"][0]["store_key"]
    for method, path in routes("api2cart"):
        if a2c_needs_store(path):
            a2c_rejected(4)(call(client, method, path, query={"api_key": first["api_key"], "store_key": foreign}))
            a2c_rejected(4)(call(client, method, path, headers={"x-api-key": first["api_key"],
                                                                 "x-store-key": foreign}))


def test_stock2shop_token_is_bound_to_its_client(client):
    """A client-91 token reads client 91 only: client 21's sources, channels and queue are not there."""
    t21, t91 = s2s_login(client, "admin"), s2s_login(client, "admin91")
    s21 = call(client, "GET", "/stock2shop/v1/sources", query={"token": t21}).get_json()
    s91 = call(client, "GET", "/stock2shop/v1/sources", query={"token": t91}).get_json()
    assert s21 != s91


# -- isolation: tenant B through every route with A's ids ------------------------------------
def tenant_pair(creds: dict[str, Any], client: Any, api: str) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """(tenant A, tenant B, B's headers, B's query) of one API."""
    c = creds[api]
    if api == "click2sync":
        return c["keys"][0]["tenant"], c["keys"][1]["tenant"], {"C2SKey": c["keys"][1]["key"]}, {}
    if api == "xtnd":
        return c["keys"][0]["tenant"], c["keys"][1]["tenant"], {"Authorization": f"Bearer {c['keys'][1]['api_key']}"}, {}
    if api == "printxpand":
        px = c["consumers"]
        return px[0]["tenant"], px[1]["tenant"], {"Authorization": f"Bearer {px[1]['bearer_token']}"}, {}
    if api == "stock2shop":
        return "21", "91", {}, {"token": s2s_login(client, "admin91")}
    a2c = c["accounts"]
    return (a2c[0]["stores"][0]["tenant"], a2c[1]["stores"][0]["tenant"], {},
            {"api_key": a2c[1]["api_key"], "store_key": a2c[1]["stores"][0]["store_key"]})


def snapshot(client: Any, api: str, tenant: str) -> Any:
    r = client.get(f"/__sandbox/data/{api}", query_string={"tenant": tenant})
    assert r.status_code == 200
    return r.get_json()["tenants"].get(tenant, {})


def ids_of(data: Any, limit: int = 4) -> list[str]:
    """A few ids that exist in a tenant's data (first item of each collection)."""
    out: list[str] = []
    for rows in data.values():
        for row in rows[:1]:
            if isinstance(row, dict):
                for key in ("id", "_id", "number", "orderNumber", "itemNumber", "sku", "entity_id"):
                    if row.get(key) not in (None, "") and str(row[key]) not in out and "/" not in str(row[key]):
                        out.append(str(row[key]))
                        break
    return out[:limit] or ["1"]


def strings(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for v in node.values():
            strings(v, out)
    elif isinstance(node, list):
        for v in node:
            strings(v, out)
    elif isinstance(node, str) and len(node) >= 12 and re.search(r"[A-Za-z]{4}", node) \
            and not re.match(r"^\d{4}-\d\d-\d\d", node) and not node.startswith("http"):
        out.add(node)
    return out


@pytest.mark.parametrize("api", APIS)
def test_tenant_b_never_reads_or_changes_tenant_a(app_factory, api):
    app = app_factory(apis=[api], options={"stock2shop": {"products": 10, "orders": 5, "customers": 5}})
    client = app.test_client()
    creds = client.get("/__sandbox/credentials").json
    a, b, headers, query = tenant_pair(creds, client, api)
    before_a = snapshot(client, api, a)
    assert before_a, f"tenant {a} of {api} has no data to protect"
    call(client, *routes(api)[0], headers, query)          # B's first request seeds B if it is lazy
    b_strings = strings(snapshot(client, api, b), set())
    seen = []
    for ident in ids_of(before_a):
        for method, path in routes(api, fill=ident):
            r = call(client, method, path, headers, query)
            assert r.status_code < 500, (method, path, r.get_data(as_text=True)[:300])
            seen.append((method, path, r.get_data(as_text=True)))
    # B's own data (seeded on B's first request) may hold the same strings: those are not leaks
    only_a = strings(before_a, set()) - b_strings - strings(snapshot(client, api, b), set())
    assert only_a, "seeded tenants should differ"
    # a whole JSON string of A's ("Green Sneaker"), not a part of B's own ("MediumSeaGreen Sneaker")
    quoted = {json.dumps(s, ensure_ascii=False)[1:-1]: s for s in only_a}
    leaks = [(m, p, s) for m, p, text in seen for q, s in quoted.items()
             if re.search(r'"' + re.escape(q) + r'"', text)]
    assert not leaks, f"tenant {b} saw tenant {a}'s data: {leaks[:3]}"
    assert snapshot(client, api, a) == before_a, f"tenant {b}'s requests changed tenant {a}'s data"


@pytest.mark.parametrize("api", APIS)
def test_tenant_b_writes_with_real_bodies_do_not_touch_a(app_factory, api):
    """B sends well-formed updates/deletes naming A's own ids: answered as not found (or applied
    to B's own copy), never to A's records."""
    app = app_factory(apis=[api], options={"stock2shop": {"products": 10, "orders": 5, "customers": 5}})
    client = app.test_client()
    creds = client.get("/__sandbox/credentials").json
    a, b, headers, query = tenant_pair(creds, client, api)
    before_a = snapshot(client, api, a)
    ids = ids_of(before_a)
    for ident in ids:
        for method, path, body in WRITES[api](ident):
            r = call(client, method, path, headers, query, body)
            assert r.status_code < 500, (method, path, r.get_data(as_text=True)[:300])
    assert snapshot(client, api, a) == before_a


WRITES: dict[str, Callable[[str], list[tuple[str, str, Any]]]] = {
    "click2sync": lambda i: [("POST", f"/click2sync/api/product/{i}", {"title": "B was here"}),
                             ("POST", f"/click2sync/api/order/{i}", {"status": "cancelled"})],
    "xtnd": lambda i: [("PUT", f"/xtnd/api/v1/ProductAvailability/{i}/01", {"availableBalance": 0}),
                       ("POST", f"/xtnd/api/v1/CustomerOrders/{i}/advance", None),
                       ("DELETE", f"/xtnd/api/v1/CustomerOrders/{i}", None)],
    "printxpand": lambda i: [("POST", "/printxpand/rest/V1/product/delete/", {"product": [i]}),
                             ("POST", "/printxpand/rest/V1/customer/delete/", {"customer": [i]}),
                             ("POST", "/printxpand/rest/V1/category/delete/", {"category": [i]})],
    "stock2shop": lambda i: [("POST", "/stock2shop/v1/products/queue",
                              {"system_products": [{"source": {"source_id": 57, "source_product_code": i},
                                                    "product": {"title": "B", "variants": []}}]})],
    "api2cart": lambda i: [("PUT", "/api2cart/v1.1/product.update.json", {"id": i, "price": 1}),
                           ("DELETE", f"/api2cart/v1.1/product.delete.json?id={i}", None),
                           ("DELETE", f"/api2cart/v1.1/customer.delete.json?id={i}", None)],
}


# -- isolation through the control plane: per-tenant views ------------------------------------
def test_control_plane_per_tenant_views(app_factory):
    app = app_factory(apis=["click2sync", "xtnd"])
    client = app.test_client()
    creds = client.get("/__sandbox/credentials").json
    ka, kb = creds["click2sync"]["keys"][:2]
    for k in (ka, kb):
        assert client.get("/click2sync/api/product", headers={"C2SKey": k["key"]}).status_code == 200
    # journal
    rows = client.get("/__sandbox/requests", query_string={"tenant": ka["tenant"]}).json["requests"]
    assert rows and {r["tenant"] for r in rows} == {ka["tenant"]}
    # data
    data = client.get("/__sandbox/data/click2sync", query_string={"tenant": kb["tenant"]}).json["tenants"]
    assert set(data) == {kb["tenant"]}
    # scenarios: A's scenario fires for A only; deactivating for B leaves A's
    rule = {"name": "a-only", "tenant": ka["tenant"],
            "rules": [{"match": {"api": "click2sync"}, "action": {"status": 503}}]}
    assert client.post("/__sandbox/scenarios", json=rule).status_code == 201
    assert client.get("/click2sync/api/product", headers={"C2SKey": ka["key"]}).status_code == 503
    assert client.get("/click2sync/api/product", headers={"C2SKey": kb["key"]}).status_code == 200
    listed_b = client.get("/__sandbox/scenarios", query_string={"tenant": kb["tenant"]}).json["active"]
    assert "a-only" not in [s["name"] for s in listed_b]
    client.delete("/__sandbox/scenarios/a-only", query_string={"tenant": kb["tenant"]})
    assert client.get("/click2sync/api/product", headers={"C2SKey": ka["key"]}).status_code == 503
    client.delete("/__sandbox/scenarios/a-only", query_string={"tenant": ka["tenant"]})
    assert client.get("/click2sync/api/product", headers={"C2SKey": ka["key"]}).status_code == 200
    # reset of B leaves A
    created = client.post("/click2sync/api/product", headers={"C2SKey": ka["key"]},
                          json={"sku": "ISO-1", "title": "A's own"})
    assert created.status_code == 200
    before = snapshot(client, "click2sync", ka["tenant"])
    client.post("/__sandbox/reset", json={"api": "click2sync", "tenant": kb["tenant"]})
    assert snapshot(client, "click2sync", ka["tenant"]) == before
    # webhooks
    from mocks.core import webhooks
    sb = app.extensions["sandbox"]
    webhooks.enqueue(sb, "click2sync", ka["tenant"], "http://127.0.0.1:9/a", "x", {"who": "a"})
    webhooks.enqueue(sb, "click2sync", kb["tenant"], "http://127.0.0.1:9/b", "x", {"who": "b"})
    listed = client.get("/__sandbox/webhooks", query_string={"tenant": kb["tenant"]}).json["webhooks"]
    assert [w["payload"] for w in listed] == [{"who": "b"}]


# -- the control plane's access rule ------------------------------------------------------------
def control_routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/__sandbox"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "click2sync" if m.group(1) == "api" else "x", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, path))
    return out


def test_control_plane_refuses_non_loopback_clients(world):
    client = world.test_client()
    routes_ = control_routes(world)
    assert len(routes_) >= 15
    before = client.get("/__sandbox/data/click2sync").get_data()
    for addr in ("10.1.2.3", "192.168.0.9", "2001:db8::1", "::ffff:10.0.0.1", ""):
        remote = world.test_client()
        remote.environ_base["REMOTE_ADDR"] = addr
        for method, path in routes_:
            r = remote.open(path, method=method, json={} if method != "GET" else None)
            assert r.status_code == 403, (addr, method, path, r.status_code)
            assert r.get_json()["error"] and "loopback" in r.get_json()["message"], r.get_json()
    # a spoofed forwarding header does not make a remote client local
    remote = world.test_client()
    remote.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert remote.get("/__sandbox/health", headers={"X-Forwarded-For": "127.0.0.1",
                                                    "X-Real-IP": "127.0.0.1"}).status_code == 403
    assert client.get("/__sandbox/data/click2sync").get_data() == before
    for addr in ("127.0.0.1", "127.9.9.9", "::1"):
        local = world.test_client()
        local.environ_base["REMOTE_ADDR"] = addr
        assert local.get("/__sandbox/health").status_code == 200


def test_control_plane_with_an_admin_token(app_factory):
    app = app_factory(apis=["click2sync"], admin_token="s3cret-admin")
    for addr in ("10.1.2.3", "127.0.0.1"):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = addr
        for method, path in control_routes(app):
            for headers in ({}, {"X-Sandbox-Admin-Token": "wrong"}, {"Authorization": "Bearer wrong"},
                            {"X-Sandbox-Admin-Token": "s3cret-admin-"}, {"X-Sandbox-Admin-Token": ""}):
                r = c.open(path, method=method, headers=headers, json={} if method != "GET" else None)
                assert r.status_code == 401, (addr, method, path, headers, r.status_code)
        assert c.get("/__sandbox/health", headers={"X-Sandbox-Admin-Token": "s3cret-admin"}).status_code == 200
        assert c.get("/__sandbox/health", headers={"Authorization": "Bearer s3cret-admin"}).status_code == 200
    # the APIs themselves are not behind the admin token
    c = app.test_client()
    assert c.get("/click2sync/api/product", headers={"C2SKey": "c2s-demo-key"}).status_code == 200


# -- redaction ------------------------------------------------------------------------------------
def test_secrets_never_reach_the_journal_or_exports(app_factory):
    app = app_factory()
    client = app.test_client()
    creds = client.get("/__sandbox/credentials").json
    secrets: set[str] = set()
    # Click2Sync, XTND: keys in headers
    for k in creds["click2sync"]["keys"]:
        client.get("/click2sync/api/product", headers={"C2SKey": k["key"]})
        secrets.add(k["key"])
    for k in creds["xtnd"]["keys"]:
        client.get("/xtnd/api/v1/Warehouses", headers={"Authorization": f"Bearer {k['api_key']}"})
        secrets.add(k["api_key"])
    # PrintXpand: OAuth header (signature, token), bearer, token flow bodies
    px = creds["printxpand"]["consumers"][0]
    r = px_signed(client, "POST", "/printxpand/rest/V1/product/delete/", px, body={"product": ["424242"]})
    assert r.status_code == 404
    oauth_header = None
    auth = OAuth1(px["consumer_key"], px["consumer_secret"], px["access_token"], px["access_token_secret"])
    prepared = requests.Request("POST", HOST + "/printxpand/rest/V1/product/delete/", json={"product": ["1"]},
                                auth=auth).prepare()
    oauth_header = prepared.headers["Authorization"]
    oauth_header = oauth_header.decode() if isinstance(oauth_header, bytes) else oauth_header
    signature = re.search(r'oauth_signature="([^"]+)"', oauth_header).group(1)
    client.post("/printxpand/rest/V1/product/delete/", headers={"Authorization": oauth_header},
                json={"product": ["1"]})
    client.post("/printxpand/rest/V1/product/delete/", headers={"Authorization": f"Bearer {px['bearer_token']}"},
                json={"product": ["1"]})
    secrets |= {px["consumer_secret"], px["access_token"], px["access_token_secret"], signature,
                requests.utils.unquote(signature)}
    treq = OAuth1(px["consumer_key"], px["consumer_secret"])
    prepared = requests.Request("POST", HOST + "/printxpand/oauth/token/request", auth=treq).prepare()
    r = client.post("/printxpand/oauth/token/request", headers={"Authorization": prepared.headers["Authorization"]})
    for part in r.get_data(as_text=True).split("&"):
        name, _, value = part.partition("=")
        if name in ("oauth_token", "oauth_token_secret") and value:
            secrets.add(value)
    # Stock2Shop: password in the body, token in the query and in the answer
    r = client.post("/stock2shop/v1/users/authenticate",
                    json={"system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}})
    token = r.json["system_user"]["token"]
    secrets |= {"admin-s2s-demo", token}
    client.get("/stock2shop/v1/sources", query_string={"token": token})
    # API2Cart: keys in the query and in headers
    acc = creds["api2cart"]["accounts"][0]
    client.get("/api2cart/v1.1/product.count.json",
               query_string={"api_key": acc["api_key"], "store_key": acc["stores"][0]["store_key"]})
    client.get("/api2cart/v1.1/account.cart.list.json", headers={"x-api-key": acc["api_key"]})
    secrets |= {acc["api_key"], acc["stores"][0]["store_key"]}
    secrets = {s for s in secrets if len(s) >= 8}
    outputs = {
        "journal": client.get("/__sandbox/requests", query_string={"limit": 1000}).get_data(as_text=True),
        "export json": client.get("/__sandbox/export").get_data(as_text=True),
        "export har": client.get("/__sandbox/export", query_string={"format": "har"}).get_data(as_text=True),
    }
    assert json.loads(outputs["export har"])["log"]["entries"]
    leaks = sorted({(where, s[:6] + "...") for where, text in outputs.items() for s in secrets
                    if s in text or requests.utils.quote(s, safe="") in text})
    assert not leaks, f"secrets leaked: {leaks} " + str([(s, k) for s in secrets for k, text in outputs.items()
                                                          if s in text][:2])


def test_a_token_in_the_path_is_redacted(app_factory):
    app = app_factory(apis=["stock2shop"], options={"stock2shop": {"products": 3, "orders": 1, "customers": 1}})
    client = app.test_client()
    token = s2s_login(client, "admin")
    assert client.get(f"/stock2shop/v1/users/valid_token/{token}").status_code == 200
    for url, params in (("/__sandbox/requests", {}), ("/__sandbox/export", {}), ("/__sandbox/export", {"format": "har"})):
        text = client.get(url, query_string=params).get_data(as_text=True)
        assert "valid_token" in text and token not in text, url
