"""The ready scenarios against the emulated APIs they were written for."""
from __future__ import annotations

import pytest


@pytest.fixture
def app(shared_app):
    return shared_app(apis=["stock2shop", "api2cart", "click2sync"])


def s2s_token(client, username="admin"):
    users = client.get("/__sandbox/credentials").json["stock2shop"]["users"]
    user = next(u for u in users if u["username"] == username)
    r = client.post("/stock2shop/v1/users/authenticate",
                    json={"system_user_auth": {"username": user["username"], "password": user["password"]}})
    assert r.status_code == 200
    return r.json["system_user"]["token"]


def a2c_keys(client):
    account = client.get("/__sandbox/credentials").json["api2cart"]["accounts"][0]
    return account["api_key"], account["stores"][0]["store_key"]


def test_stock2shop_rate_limit(client):
    assert client.post("/__sandbox/scenarios", json={"name": "stock2shop-rate-limit"}).status_code == 201
    token = s2s_token(client)
    first = client.get(f"/stock2shop/v1/channels?token={token}")
    second = client.get(f"/stock2shop/v1/channels?token={token}")
    assert first.status_code == 200
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"
    assert second.is_json and second.json != first.json
    other = s2s_token(client, "admin91")  # another client (tenant 91) has its own bucket
    assert client.get(f"/stock2shop/v1/channels?token={other}").status_code == 200


def test_stock2shop_token_expiry_mid_paging(client):
    client.post("/__sandbox/scenarios", json={"name": "stock2shop-token-expiry-mid-paging"})
    token = s2s_token(client)
    got = [client.post(f"/stock2shop/v1/products/elastic_search?token={token}",
                       json={"from": i * 2, "size": 2}).status_code for i in range(3)]
    assert got[2] == 401 and got[:2] != [401, 401]
    entry = client.get("/__sandbox/requests?limit=1").json["requests"][0]
    assert entry["scenario"] == "stock2shop-token-expiry-mid-paging" and entry["rule"] == "expire-on-third-page"


def test_api2cart_store_limit_and_unreachable(client):
    api_key, store_key = a2c_keys(client)
    client.post("/__sandbox/scenarios", json={"name": "api2cart-store-unreachable"})
    codes = []
    for _ in range(6):
        r = client.get(f"/api2cart/v1.1/product.list.json?api_key={api_key}&store_key={store_key}")
        assert r.status_code == 200
        codes.append(r.json["return_code"])
    assert codes == [106, 106, 106, 105, 105, 0]
    client.delete("/__sandbox/scenarios")
    client.post("/__sandbox/scenarios", json={"name": "api2cart-store-limit"})
    r = client.post(f"/api2cart/v1.1/account.cart.add.json?api_key={api_key}",
                    json={"cart_id": "Shopify", "store_url": "https://x.myshopify.com"})
    assert r.status_code == 200 and r.json["return_code"] == 7


def test_flaky_5xx_is_the_same_for_the_same_seed(shared_app):
    def run(seed):
        client = shared_app(apis=["click2sync"]).test_client()  # a new app after the first
        client.post("/__sandbox/scenarios", json={"name": "flaky-5xx", "seed": seed})
        return [client.get("/click2sync/api/product?offset=0", headers={"C2SKey": "c2s-demo-key"}).status_code
                for _ in range(60)]
    a = run(7)
    assert a == run(7) and a != run(8)
    assert set(a) <= {200, 502, 503} and 2 <= sum(s != 200 for s in a) <= 20
