"""Stock2Shop's own rate limiter: off by default; per client (3/s with a token) or for everyone;
1/s per caller for authenticate/valid_token; 429 in the API's error shape with Retry-After and
x-S2S-RateLimit; buckets refill on the sandbox clock. And the stock2shop-rate-limit scenario."""
from __future__ import annotations

from tests.stock2shop.conftest import P, advance, assert_error, login


def channels(c, tok):
    return c.get(f"{P}/v1/channels?token={tok}")


def test_off_by_default(c):
    tok = login(c, "admin")
    got = [channels(c, tok) for _ in range(8)]
    assert {r.status_code for r in got} == {200} and "x-S2S-RateLimit" not in got[0].headers


def test_per_client_switch_three_per_second_with_a_token(c):
    r = c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 21, "enabled": True})
    assert r.status_code == 200 and r.json["enabled"] is True
    assert c.get("/__sandbox/stock2shop/rate_limit?client_id=21").json["per_second"] == 3
    tok = login(c, "admin")
    other = login(c, "admin91")          # client 91 is not limited
    got = [channels(c, tok) for _ in range(4)]
    assert [r.status_code for r in got[:3]] == [200, 200, 200] or got[0].status_code == 200
    limited = [r for r in got if r.status_code == 429]
    assert limited, [r.status_code for r in got]
    err = assert_error(limited[0], 429, "rate_limited")
    assert "Too Many Requests" in err["message"]
    assert limited[0].headers["Retry-After"] == "1" and limited[0].headers["x-S2S-RateLimit"] == "3"
    assert got[0].headers["x-S2S-RateLimit"] == "3"
    assert {channels(c, other).status_code for _ in range(5)} == {200}
    advance(c, 1)                        # the bucket refills on the sandbox clock
    assert channels(c, tok).status_code == 200
    c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 21, "enabled": False})
    assert {channels(c, tok).status_code for _ in range(6)} == {200}


def test_unauthenticated_routes_one_per_second_per_caller(c):
    c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 21, "enabled": True})
    body = {"system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}}
    first = c.post(f"{P}/v1/users/authenticate?format=json", json=body)
    assert first.status_code == 200 and first.headers["x-S2S-RateLimit"] == "1"
    second = c.post(f"{P}/v1/users/authenticate?format=json", json=body)
    assert_error(second, 429, "rate_limited")
    assert second.headers["x-S2S-RateLimit"] == "1" and int(second.headers["Retry-After"]) >= 1
    tok = first.json["system_user"]["token"]   # the refused attempt issued no token: the first still works
    advance(c, 1)
    assert c.get(f"{P}/v1/users/valid_token/{tok}").status_code == 200
    assert_error(c.get(f"{P}/v1/users/valid_token/{tok}"), 429, "rate_limited")


def test_option_switches_every_client_and_custom_rates(s2s_factory):
    c = s2s_factory(rate_limit=True).test_client()
    tok = login(c, "admin91")
    codes = [channels(c, tok).status_code for _ in range(5)]
    assert 429 in codes
    c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 91, "enabled": True, "per_second": 10})
    advance(c, 5)
    assert [channels(c, tok).status_code for _ in range(10)] == [200] * 10


def test_control_errors(c):
    assert c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 5, "enabled": True}).status_code == 404
    assert c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 21, "enabled": "yes"}).status_code == 400
    assert c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 21, "per_second": 0}).status_code == 400
    assert c.post("/__sandbox/stock2shop/index_lag", json={"seconds": -1}).status_code == 400
    assert c.post("/__sandbox/stock2shop/index_lag", json={"seconds": 3}).status_code == 200


def test_scenario_limits_each_client_with_the_documented_headers(c):
    assert c.post("/__sandbox/scenarios", json={"name": "stock2shop-rate-limit"}).status_code == 201
    tok = login(c, "admin")
    assert channels(c, tok).status_code == 200
    r = channels(c, tok)
    assert_error(r, 429)
    assert r.headers["Retry-After"] == "1" and r.headers["x-S2S-RateLimit"] == "1"
