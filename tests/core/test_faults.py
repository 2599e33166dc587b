"""The scenario engine in-process: every matcher, trigger and action; activation; determinism."""
from __future__ import annotations

import json
import random
import time

import pytest

from mocks.click2sync import tenant_id
from mocks.core.scenarios import actions as A
from mocks.core.scenarios import matchers as M
from mocks.core.scenarios import triggers as T
from tests.conftest import make_app

K1 = {"C2SKey": "c2s-demo-key"}
K2 = {"C2SKey": "c2s-demo-key-2"}
T1, T2 = tenant_id("c2s-demo-key"), tenant_id("c2s-demo-key-2")
LIST = "/click2sync/api/product?offset=0"


@pytest.fixture
def app(shared_app):
    return shared_app(apis=["click2sync"])


def activate(client, rules, name="t", **extra):
    r = client.post("/__sandbox/scenarios", json={"name": name, "seed": extra.pop("seed", 1), "rules": rules, **extra})
    assert r.status_code == 201, r.json
    return r.json["scenario"]


def statuses(client, n, path=LIST, headers=K1, **kw):
    return [client.get(path, headers=headers, **kw).status_code for _ in range(n)]


def fired(shared_app, rule_when, n=8):
    """Which of n matching requests the trigger fired on (1-based), on a just-built app (a new one
    for each call after the first in a test)."""
    app = shared_app(apis=["click2sync"])
    client = app.test_client()
    activate(client, [{"when": rule_when, "action": {"status": 503}}])
    return [i + 1 for i, s in enumerate(statuses(client, n)) if s == 503]


# -- matchers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("match, hit", [
    ({}, True),
    ({"api": "click2sync"}, True),
    ({"api": ["stock2shop", "click2sync"]}, True),
    ({"api": "stock2shop"}, False),
    ({"method": "get"}, True),
    ({"method": ["POST", "PUT"]}, False),
    ({"path": "/click2sync/api/*"}, True),
    ({"path": "/click2sync/api/order*"}, False),
    ({"path": ["/nope", "/click2sync/*/product"]}, True),
    ({"tenant": T1}, True),
    ({"tenant": [T2]}, False),
    ({"tenant": "*"}, True),
    ({"tenant": "c2s-*"}, True),
    ({"query": {"offset": "0"}}, True),
    ({"query": {"offset": "[1-9]*"}}, False),
    ({"query": {"offset": True}}, True),
    ({"query": {"limit": False}}, True),
    ({"query": {"limit": True}}, False),
    ({"headers": {"c2skey": "c2s-*"}}, True),
    ({"headers": {"X-Debug": True}}, False),
])
def test_request_matchers(client, match, hit):
    activate(client, [{"match": match, "action": {"status": 503}}])
    assert client.get(LIST, headers=K1).status_code == (503 if hit else 200)


@pytest.mark.parametrize("body_match, hit", [
    ({"$.sku": "body-1"}, True),
    ({"$.sku": "other"}, False),
    ({"$.variants[0].qty": 5}, True),
    ({"$.variants[0].qty": "5"}, True),
    ({"$.variants[*].sku": "v2"}, True),
    ({"$['variants'][-1].sku": "v2"}, True),
    ({"$.variants[5].sku": "v2"}, False),
    ({"$.flag": True}, True),
    ({"$.flag": "1"}, False),
])
def test_json_body_matchers(client, body_match, hit):
    activate(client, [{"match": {"method": "POST", "body": body_match}, "action": {"status": 503}}])
    body = {"sku": "body-1", "flag": True, "variants": [{"sku": "v1", "qty": 5}, {"sku": "v2", "qty": 1}]}
    r = client.post("/click2sync/api/product", headers=K1, data=json.dumps(body), content_type="application/json")
    assert (r.status_code == 503) is hit


def test_jsonpath_subset():
    assert M.parse_path("$.a.b[0]['c d'][*].*") == ["a", "b", 0, "c d", "*", "*"]
    assert M.json_values({"a": [{"b": 1}, {"b": 2}]}, M.parse_path("$.a[*].b")) == [1, 2]
    with pytest.raises(ValueError):
        M.parse_path("a.b")
    with pytest.raises(ValueError):
        M.parse_path("$..a")


# -- triggers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("when, expected", [
    ({"always": True}, [1, 2, 3, 4, 5, 6, 7, 8]),
    ({"always": False}, []),
    ({"nth": [1, 3]}, [1, 3]),
    ({"first": 2}, [1, 2]),
    ({"every": 3}, [3, 6]),
    ({"after": 5}, [6, 7, 8]),
    ({"after": 2, "every": 2}, [4, 6, 8]),
])
def test_counting_triggers(when, expected, shared_app):
    assert fired(shared_app, when) == expected


def test_probability_is_seeded_and_repeatable(shared_app):
    first = fired(shared_app, {"probability": 0.5}, 40)
    assert first == fired(shared_app, {"probability": 0.5}, 40)
    assert 8 < len(first) < 32
    assert fired(shared_app, {"probability": 0}, 10) == [] and fired(shared_app, {"probability": 1}, 5) == [1, 2, 3, 4, 5]


def test_probability_differs_by_seed(client):
    activate(client, [{"when": {"probability": 0.5}, "action": {"status": 503}}], seed=1)
    a = statuses(client, 30)
    activate(client, [{"when": {"probability": 0.5}, "action": {"status": 503}}], seed=2)
    assert statuses(client, 30) != a


def test_rate_trigger_is_a_token_bucket():
    state, hits, now = None, [], 1000.0
    for t in [0, 0.1, 0.2, 1.3, 1.4, 3.0, 3.1, 3.2]:
        state = T.step(state, {"rate": {"per_second": 1}}, now + t, 0, lambda n: 0.0)
        hits.append(state["hit"])
    assert hits == [False, True, True, False, True, False, True, True]
    state = None
    for _ in range(3):
        state = T.step(state, {"rate": {"per_second": 1, "burst": 3}}, now, 0, lambda n: 0.0)
        assert not state["hit"]
    assert T.step(state, {"rate": {"per_second": 1, "burst": 3}}, now, 0, lambda n: 0.0)["hit"]


def test_rate_trigger_over_http(client):
    activate(client, [{"when": {"rate": {"per_second": 1}}, "action": {"status": 429, "headers": {"Retry-After": "1"}}}])
    got = statuses(client, 3)
    assert got == [200, 429, 429]


def test_window_follows_the_sandbox_clock(client):
    activate(client, [{"when": {"window": {"from_s": 60, "to_s": 120}}, "action": {"status": 503}}])
    assert statuses(client, 1) == [200]
    client.post("/__sandbox/clock", json={"advance_seconds": 61})
    assert statuses(client, 1) == [503]
    client.post("/__sandbox/clock", json={"advance_seconds": 60})
    assert statuses(client, 1) == [200]


def test_first_matching_rule_whose_trigger_fires_applies(client):
    activate(client, [
        {"name": "odd", "when": {"every": 2}, "action": {"status": 502}},
        {"name": "rest", "when": {"nth": [1, 3]}, "action": {"status": 503}},
    ])
    # rule 2 counts only what rule 1 let through: requests 1, 3, 5 are its 1st, 2nd, 3rd
    assert statuses(client, 5) == [503, 502, 200, 502, 503]
    rows = client.get("/__sandbox/requests?limit=5").json["requests"][::-1]
    assert [r["rule"] for r in rows] == ["rest", "odd", None, "odd", "rest"]
    assert all(r["scenario"] == ("t" if r["rule"] else None) for r in rows)


# -- tenants, activation ----------------------------------------------------------------------
def test_counters_are_per_tenant(client):
    activate(client, [{"when": {"nth": [2]}, "action": {"status": 503}}])
    assert statuses(client, 1, headers=K1) == [200]
    assert statuses(client, 1, headers=K2) == [200]
    assert statuses(client, 1, headers=K2) == [503]
    assert statuses(client, 2, headers=K1) == [503, 200]


def test_tenant_scoped_activation(client):
    activate(client, [{"action": {"status": 503}}], tenant=T2)
    assert statuses(client, 1, headers=K1) == [200]
    assert statuses(client, 1, headers=K2) == [503]
    listing = client.get(f"/__sandbox/scenarios?tenant={T2}").json
    assert listing["active"][0]["tenant"] == T2
    assert client.delete(f"/__sandbox/scenarios/t?tenant={T1}").status_code == 404
    assert client.delete(f"/__sandbox/scenarios/t?tenant={T2}").status_code == 200
    assert statuses(client, 1, headers=K2) == [200]


def test_library_activation_by_name_and_seed(client):
    r = client.post("/__sandbox/scenarios", json={"name": "flaky-5xx", "seed": 99})
    assert r.status_code == 201 and r.json["scenario"]["seed"] == 99
    shown = client.get("/__sandbox/scenarios/flaky-5xx").json
    assert shown["scenario"]["name"] == "flaky-5xx" and shown["active"][0]["seed"] == 99
    assert client.delete("/__sandbox/scenarios").json["removed"][0]["name"] == "flaky-5xx"
    assert client.get("/__sandbox/scenarios").json["active"] == []


def test_activation_errors(client):
    r = client.post("/__sandbox/scenarios", json={"name": "no-such"})
    assert r.status_code == 400 and "no scenario named" in r.json["message"]
    r = client.post("/__sandbox/scenarios", json={"name": "x", "rules": [{"when": {"nth": [1]}, "action": {}}]})
    assert r.status_code == 400 and r.json["errors"][0]["pointer"] == "/rules/0/action"
    assert client.get("/__sandbox/scenarios/no-such").status_code == 404
    assert client.post("/__sandbox/scenarios", json={"name": "flaky-5xx", "seed": "x"}).status_code == 400


def test_header_scenario_applies_to_that_request_only(app, tmp_path, monkeypatch):
    (tmp_path / "always-503.yaml").write_text(
        "name: always-503\nseed: 1\nrules:\n  - when: {nth: [1, 2]}\n    action: {status: 503}\n")
    monkeypatch.setenv("SANDBOX_SCENARIOS", str(tmp_path))
    client = app.test_client()
    hdr = {**K1, "X-Sandbox-Scenario": "always-503"}
    assert statuses(client, 1, headers=hdr) == [503]
    assert statuses(client, 1, headers=K1) == [200]
    assert statuses(client, 2, headers=hdr) == [503, 200]  # its own counter, across requests
    assert statuses(client, 1, headers={**K1, "X-Sandbox-Scenario": "unknown"}) == [200]


def test_config_scenarios_are_active_from_the_start(app_factory, tmp_path, monkeypatch):
    (tmp_path / "boot.yaml").write_text("name: boot\nrules:\n  - action: {status: 503}\n")
    monkeypatch.setenv("SANDBOX_SCENARIOS", str(tmp_path))
    app = app_factory(apis=["click2sync"], scenarios=["boot"])
    assert statuses(app.test_client(), 1) == [503]
    with pytest.raises(ValueError):
        app_factory(apis=["click2sync"], scenarios=["missing"])


def test_rules_without_tenant_fire_before_authentication(client):
    activate(client, [{"match": {"tenant": T1}, "action": {"status": 502}},
                      {"match": {"api": "click2sync"}, "when": {"nth": [1]}, "action": {"status": 503}}])
    assert client.get(LIST, headers={"C2SKey": "wrong"}).status_code == 503
    assert client.get(LIST, headers={"C2SKey": "wrong"}).status_code == 401
    assert client.get(LIST, headers=K1).status_code == 502
    activate(client, [{"match": {"tenant": "*"}, "action": {"status": 502}}])
    assert client.get(LIST, headers={"C2SKey": "wrong"}).status_code == 401


def test_same_seed_same_faults_across_apps(shared_app):
    def run() -> list[tuple[int, float]]:
        app = shared_app(apis=["click2sync"])  # the second call: a new app
        client = app.test_client()
        activate(client, [{"when": {"probability": 0.3}, "action": {"status": 503}},
                          {"when": {"probability": 0.3}, "action": {"delay": {"uniform_ms": [0, 5]}}}], seed=5)
        statuses(client, 30, headers=K1)
        statuses(client, 10, headers=K2)
        return [(e["status"], (e["fault"] or {}).get("delay_ms")) for e in
                client.get("/__sandbox/requests?limit=100").json["requests"]]
    assert run() == run()


# -- actions ----------------------------------------------------------------------------------
def test_status_uses_the_apis_own_error_body(client):
    activate(client, [{"action": {"status": 503, "headers": {"Retry-After": "7"}}}])
    r = client.get(LIST, headers=K1)
    assert r.status_code == 503 and r.headers["Retry-After"] == "7"
    assert r.json["success"] is False and r.json["code"] == 503 and "Service Unavailable" in r.json["error"]


def test_status_with_a_body_and_message(client):
    activate(client, [{"match": {"method": "GET"}, "action": {"status": 418, "body": {"teapot": True}}},
                      {"action": {"status": 500, "body": "plain"}}])
    r = client.get(LIST, headers=K1)
    assert (r.status_code, r.json) == (418, {"teapot": True})
    r = client.delete("/click2sync/api/product/x", headers=K1)
    assert (r.status_code, r.data, r.mimetype) == (500, b"plain", "text/plain")


def test_message_and_code_reach_the_error_body(client):
    activate(client, [{"action": {"status": 409, "message": "Busy", "code": "E42"}}])
    r = client.get(LIST, headers=K1)
    assert r.status_code == 409 and "Busy" in json.dumps(r.json)


def test_headers_alone_decorate_the_real_answer(client):
    activate(client, [{"action": {"headers": {"X-Injected": "yes"}}}])
    r = client.get(LIST, headers=K1)
    assert r.status_code == 200 and r.headers["X-Injected"] == "yes" and r.json["products"]


def test_fixed_delay_then_status(client):
    activate(client, [{"action": {"delay": {"fixed_ms": 120}, "status": 503}}])
    started = time.perf_counter()
    assert statuses(client, 1) == [503]
    assert time.perf_counter() - started >= 0.12
    assert client.get("/__sandbox/requests?limit=1").json["requests"][0]["fault"]["delay_ms"] == 120


def test_delay_distributions_are_seeded():
    rng = lambda: random.Random(3)  # noqa: E731
    assert A.delay_seconds({"fixed_ms": 250}, rng()) == 0.25
    u = A.delay_seconds({"uniform_ms": [100, 500]}, rng())
    assert 0.1 <= u <= 0.5 and u == A.delay_seconds({"uniform_ms": [100, 500]}, rng())
    draws = sorted(A.delay_seconds({"lognormal": {"median_ms": 80, "sigma": 0.4}}, random.Random(i))
                   for i in range(401))
    assert 0.07 < draws[200] < 0.09
    assert A.delay_seconds({"lognormal": {"median_ms": 80, "sigma": 5, "max_ms": 100}}, random.Random(1)) <= 0.1


def test_empty(client):
    activate(client, [{"action": {"empty": True}}])
    r = client.get(LIST, headers=K1)
    assert (r.status_code, r.data) == (200, b"")


def test_malformed_is_seeded_and_not_json(client):
    activate(client, [{"match": {"method": "GET"}, "action": {"malformed": True}},
                      {"action": {"status": 503, "malformed": "bytes"}}])
    r = client.get(LIST, headers=K1)
    assert r.status_code == 200 and r.data[:1] == b"{"
    with pytest.raises(ValueError):
        json.loads(r.data)
    r = client.delete("/click2sync/api/product/x", headers=K1)
    assert r.status_code == 503 and r.data[:1] == b"\xff"
    assert A.malformed(b'{"a": 1}', True, random.Random(1)) == A.malformed(b'{"a": 1}', True, random.Random(1))
    with pytest.raises(ValueError):
        json.loads(A.malformed(b"[1, 2, 3]", "truncate", random.Random(2)))


def test_dribble_streams_the_real_body(client):
    whole = client.get(LIST, headers=K1).data
    activate(client, [{"action": {"dribble": {"chunks": 3, "seconds": 0.2}}}])
    r = client.get(LIST, headers=K1)
    started = time.perf_counter()
    pieces = list(r.response)
    assert len(pieces) == 3 and b"".join(pieces) == whole
    assert time.perf_counter() - started >= 0.19
    assert r.headers["Content-Length"] == str(len(whole))
    assert client.get("/__sandbox/requests?limit=1").json["requests"][0]["response"]["body"]


@pytest.mark.parametrize("action, no_answer", [({"reset": True}, "reset"), ({"timeout": {"seconds": 0.05}}, "timeout"),
                                               ({"empty": "close"}, "close")])
def test_connection_faults_give_no_answer(client, action, no_answer):
    activate(client, [{"action": action}])
    with pytest.raises(ConnectionError):
        client.get(LIST, headers=K1).get_data()
    entry = client.get("/__sandbox/requests?limit=1").json["requests"][0]
    assert entry["status"] is None and entry["scenario"] == "t"


def test_hooks_are_called_and_recorded(client, app, monkeypatch):
    api = app.extensions["sandbox"].apis["click2sync"]
    calls = []
    monkeypatch.setattr(api, "expire_credentials", lambda sb, t, req: calls.append(("expire", t)) or "expired",
                        raising=False)
    monkeypatch.setattr(api, "index_lag", lambda sb, t, s: calls.append(("lag", t, s)), raising=False)
    monkeypatch.setattr(api, "item_failures", lambda sb, t, spec: calls.append(("items", spec)), raising=False)
    monkeypatch.setattr(api, "webhook_failure", lambda sb, t, spec: calls.append(("hooks", spec)), raising=False)
    activate(client, [{"action": {"expire_token": True, "index_lag": {"seconds": 5},
                                  "item_failures": {"every": 3, "code": 400},
                                  "webhook_failure": {"status": 500, "times": 2}}}])
    assert statuses(client, 1) == [200]
    assert calls == [("expire", T1), ("lag", T1, 5.0), ("items", {"every": 3, "code": 400}),
                     ("hooks", {"status": 500, "times": 2})]
    fault = client.get("/__sandbox/requests?limit=1").json["requests"][0]["fault"]
    assert fault["hooks"]["expire_token"] == "expired"


def test_default_hooks_are_no_ops(client):
    activate(client, [{"action": {"expire_token": True, "status": 401}}])
    r = client.get(LIST, headers=K1)
    assert r.status_code == 401 and r.json["success"] is False


def test_control_plane_is_never_faulted(client):
    activate(client, [{"action": {"status": 503}}])
    assert client.get("/__sandbox/health").status_code == 200


def test_path_globs_follow_the_apis_case_sensitivity(app):
    from flask import request

    with app.test_request_context("/XTND/api/v1/CustomerOrders"):
        assert M.matches({"path": "/xtnd/api/v1/customerorders*"}, M.RequestView(request, "xtnd", None, True))
        assert not M.matches({"path": "/xtnd/api/v1/customerorders*"}, M.RequestView(request, "xtnd", None, False))


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_two_apps_on_one_store_share_counters_and_activations(request, tmp_path, backend):
    """Two workers in one process: activations and rule counters live in the shared store."""
    if backend == "sqlite":
        state = f"sqlite:///{tmp_path}/state.db"
    else:
        url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/14"
        import redis
        redis.Redis.from_url(url).flushdb()
        state = url
    a = make_app(apis=["click2sync"], state=state).test_client()
    b = make_app(apis=["click2sync"], state=state).test_client()
    activate(a, [{"when": {"every": 3}, "action": {"status": 503}}])
    got = [(a if i % 2 else b).get(LIST, headers=K1).status_code for i in range(9)]
    assert [i + 1 for i, s in enumerate(got) if s == 503] == [3, 6, 9]
    assert b.delete("/__sandbox/scenarios/t").status_code == 200
    assert statuses(a, 3) == [200, 200, 200]


def test_a_failing_engine_never_turns_an_answer_into_a_500(client, app, monkeypatch):
    activate(client, [{"action": {"status": 503}}])

    def broken(*a, **kw):
        raise RuntimeError("store down")

    monkeypatch.setattr(app.extensions["gateway"].faults, "evaluate", broken)
    assert statuses(client, 1) == [200]


def test_restarting_one_activation_keeps_the_others_counters(client):
    for i in range(11):
        activate(client, [{"match": {"headers": {"X-N": str(i)}}, "when": {"nth": [2]}, "action": {"status": 503}}],
                 name=f"s{i}")
    assert statuses(client, 1, headers={**K1, "X-N": "10"}) == [200]
    activate(client, [{"when": {"nth": [2]}, "action": {"status": 503}}], name="s0")  # id 1: a prefix of 11
    assert statuses(client, 1, headers={**K1, "X-N": "10"}) == [503]


def test_matchers_say_why_they_did_not_match(app):
    from flask import request

    with app.test_request_context("/click2sync/api/product?offset=0", method="GET",
                                  json={"a": [1, 2]}, headers={"X-Debug": "0"}):
        view = M.RequestView(request, "click2sync", None)
        assert M.matches({"method": "POST"}, view) == M.Verdict(False, 'method GET is not "POST"')
        matched, reason = M.matches({"path": "/stock2shop/*"}, view)
        assert not matched and reason == 'path /click2sync/api/product does not match "/stock2shop/*"'
        assert "no tenant" in M.matches({"tenant": "*"}, view).reason
        assert M.matches({"headers": {"X-Debug": "1"}}, view).reason == 'header X-Debug is "0", wanted "1"'
        assert M.matches({"query": {"limit": True}}, view).reason == "query parameter limit is absent, wanted true"
        assert M.matches({"body": {"$.a[*]": 3}}, view).reason == "body $.a[*]: values [1, 2], wanted 3"
        assert M.matches({"method": "GET", "body": {"$.a[0]": 1}}, view) == M.Verdict(True, "")


def test_the_journal_shows_why_the_other_rules_did_not_fire(client):
    activate(client, [{"name": "posts", "match": {"method": "POST"}, "action": {"status": 500}},
                      {"name": "third", "when": {"nth": [3]}, "action": {"status": 503}},
                      {"name": "always", "action": {"headers": {"X-Hit": "1"}}}])
    r = client.get(LIST, headers=K1)
    assert r.headers["X-Hit"] == "1"
    entry = client.get("/__sandbox/requests").json["requests"][-1]
    assert entry["rule"] == "always"
    assert entry["rule_misses"] == [
        {"scenario": "t", "rule": "posts", "reason": 'method GET is not "POST"'},
        {"scenario": "t", "rule": "third", "reason": 'matched (request 1), but when {"nth": [3]} did not fire'}]
