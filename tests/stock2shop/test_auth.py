"""Users, tokens, roles and tenancy."""
from __future__ import annotations

import pytest

from tests.stock2shop.conftest import P, advance, assert_error, login, search

ROLES = {"admin": "", "trade": "trade", "read_only": "read_only", "product_editor": "product_editor",
         "product_meta_editor": "product_meta_editor", "customer_read_only": "customer_read_only"}


def test_credentials_list_one_user_per_role_per_client(c):
    users = c.get("/__sandbox/credentials").json["stock2shop"]["users"]
    for client_id in (21, 91):
        roles = sorted(u["role"] for u in users if u["client_id"] == client_id)
        assert roles == sorted(r or "admin" for r in ROLES.values())  # no role is listed as "admin"
    assert all(set(u) >= {"username", "password", "role", "client_id"} for u in users)


@pytest.mark.parametrize("username,role", list(ROLES.items()))
def test_authenticate_answers_the_documented_system_user(c, username, role):
    r = c.post(f"{P}/v1/users/authenticate?format=json",
               json={"system_user_auth": {"username": username, "password": username + "-s2s-demo"}})
    assert r.status_code == 200
    user = r.json["system_user"]
    for key in ("id", "created", "name", "surname", "email", "username", "modified", "client_id", "active", "admin",
                "token", "client_name", "fulfillment_services", "channels", "sources", "customers", "roles",
                "role_description"):
        assert key in user, key
    assert user["username"] == username and user["client_id"] == 21 and len(user["token"]) >= 32
    assert user["role_description"] == (role or None)
    assert user["roles"] == ([{"id": user["roles"][0]["id"], "description": role}] if role else [])
    assert user["admin"] == (0 if role else 1)
    assert {ch["id"] for ch in user["channels"]} == {47, 255}
    assert {s["id"] for s in user["sources"]} == {57, 58}


def test_product_meta_editor_role_id_is_the_documents(c):
    r = c.post(f"{P}/v1/users/authenticate", json={"system_user_auth": {"username": "product_meta_editor",
                                                                        "password": "product_meta_editor-s2s-demo"}})
    assert r.json["system_user"]["roles"] == [{"id": 1, "description": "product_meta_editor"}]


@pytest.mark.parametrize("auth", [{"username": "admin", "password": "wrong"},
                                  {"username": "nobody", "password": "admin-s2s-demo"},
                                  {"username": "admin91", "password": "admin-s2s-demo"}])
def test_wrong_credentials_are_401(c, auth):
    r = c.post(f"{P}/v1/users/authenticate", json={"system_user_auth": auth})
    assert_error(r, 401, "invalid_credentials")


@pytest.mark.parametrize("body", [{}, {"system_user_auth": {"username": "admin"}}, {"username": "admin", "password": "x"},
                                  {"system_user_auth": {"username": "", "password": "x"}}, []])
def test_malformed_authentication_is_400(c, body):
    err = assert_error(c.post(f"{P}/v1/users/authenticate", json=body), 400, "invalid_request")
    assert err["details"][0]["pointer"].startswith("/body")


def test_broken_json_is_400_in_the_error_shape(c):
    r = c.post(f"{P}/v1/users/authenticate", data=b'{"system_user_auth": ', content_type="application/json")
    assert_error(r, 400, "invalid_json")


def test_valid_token_answers_the_user_and_rejects_others(c):
    token = login(c, "trade")
    r = c.get(f"{P}/v1/users/valid_token/{token}?format=json")
    assert r.status_code == 200
    assert r.json["system_user"]["token"] == token and r.json["system_user"]["username"] == "trade"
    assert "roles" not in r.json["system_user"]
    assert_error(c.get(f"{P}/v1/users/valid_token/nope"), 401, "invalid_token")


def test_authenticating_again_invalidates_earlier_tokens(c):
    first = login(c, "admin")
    assert c.get(f"{P}/v1/sources?token={first}").status_code == 200
    second = login(c, "admin")
    assert second != first
    assert_error(c.get(f"{P}/v1/sources?token={first}"), 401, "invalid_token")
    assert_error(c.get(f"{P}/v1/users/valid_token/{first}"), 401, "invalid_token")
    assert c.get(f"{P}/v1/sources?token={second}").status_code == 200
    # another user's login leaves this one's token alone
    login(c, "read_only")
    assert c.get(f"{P}/v1/sources?token={second}").status_code == 200


def test_tokens_expire_after_the_configured_ttl_on_the_sandbox_clock(s2s_factory):
    c = s2s_factory(token_ttl_seconds=100).test_client()
    token = login(c, "admin")
    advance(c, 99)
    assert c.get(f"{P}/v1/channels?token={token}").status_code == 200
    advance(c, 1)
    assert_error(c.get(f"{P}/v1/channels?token={token}"), 401, "token_expired")
    assert_error(c.get(f"{P}/v1/users/valid_token/{token}"), 401, "token_expired")
    fresh = login(c, "admin")
    assert c.get(f"{P}/v1/channels?token={fresh}").status_code == 200


def test_default_ttl_is_a_day(c):
    token = login(c, "admin")
    advance(c, 86_399)
    assert c.get(f"{P}/v1/channels?token={token}").status_code == 200
    advance(c, 2)
    assert c.get(f"{P}/v1/channels?token={token}").status_code == 401


@pytest.mark.parametrize("method,path", [("GET", "/v1/sources"), ("GET", "/v1/channels"),
                                         ("POST", "/v1/products/elastic_search"), ("POST", "/v1/orders/elastic_search"),
                                         ("POST", "/v1/products/queue"), ("POST", "/v1/images/queue"),
                                         ("POST", "/v2-queue/order?client_id=21&channel_id=47"),
                                         ("GET", "/v1/queue/summary")])
@pytest.mark.parametrize("token", [None, "", "deadbeef"])
def test_every_route_needs_a_valid_token(c, method, path, token):
    sep = "&" if "?" in path else "?"
    url = P + path + ("" if token is None else f"{sep}token={token}")
    r = c.open(url, method=method, json={})
    assert_error(r, 401, "missing_token" if not token else "invalid_token")


# -- roles -------------------------------------------------------------------------------------------
PRODUCT = {"system_products": [{"source": {"source_id": "57", "product_active": "true", "source_product_code": "ROLE1",
                                           "sync_token": "0", "fetch_token": "0"},
                                "product": {"title": "Role test", "variants": {"source_variant_code": "ROLE1", "sku": "ROLE1"}}}]}
WITH_META = {"system_products": [{**PRODUCT["system_products"][0],
                                  "product": {**PRODUCT["system_products"][0]["product"], "meta": [{"key": "k", "value": "v"}]}}]}
IMAGE = {"system_images": [{"source": {"source_id": 57, "source_product_code": "CDROM"},
                            "image": {"image_id": "a", "action": "I", "image": "iVBORw0KGgoAAAANSUhEUgAAAAUA"}}]}

ACTIONS = {
    "sources": ("GET", "/v1/sources", None),
    "channels": ("GET", "/v1/channels", None),
    "products": ("POST", "/v1/products/elastic_search", {"size": 1}),
    "orders": ("POST", "/v1/orders/elastic_search", {"size": 1}),
    "customers": ("POST", "/v1/customers/elastic_search", {"size": 1}),
    "queue_products": ("POST", "/v1/products/queue", PRODUCT),
    "queue_meta": ("POST", "/v1/products/queue", WITH_META),
    "queue_images": ("POST", "/v1/images/queue", IMAGE),
    "queue_order": ("POST", "/v2-queue/order?client_id=21&channel_id=47", {"id": 5, "line_items": []}),
    "queue_summary": ("GET", "/v1/queue/summary", None),
}
ALLOWED = {
    "admin": set(ACTIONS),
    "trade": {"sources", "channels", "products", "orders", "queue_order", "queue_summary"},
    "read_only": {"sources", "channels", "products", "orders", "customers", "queue_summary"},
    "product_editor": {"sources", "channels", "products", "queue_products", "queue_images", "queue_summary"},
    "product_meta_editor": {"sources", "channels", "products", "queue_products", "queue_meta", "queue_images",
                            "queue_summary"},
    "customer_read_only": {"customers"},
}


@pytest.mark.parametrize("username", list(ROLES))
def test_roles_matrix(c, username):
    token = login(c, username)
    for action, (method, path, body) in ACTIONS.items():
        sep = "&" if "?" in path else "?"
        r = c.open(f"{P}{path}{sep}token={token}", method=method, json=body)
        if action in ALLOWED[username]:
            assert r.status_code == 200, (username, action, r.json)
        else:
            assert_error(r, 403, "role_forbidden")


def test_forbidden_writes_change_nothing(c):
    token = login(c, "read_only")
    assert c.post(f"{P}/v1/products/queue?token={token}", json=PRODUCT).status_code == 403
    editor = login(c, "product_editor")
    assert c.post(f"{P}/v1/products/queue?token={editor}", json=WITH_META).status_code == 403
    admin = login(c, "admin")
    assert c.get(f"{P}/v1/queue/summary?token={admin}").json["system_queue_summary"]["total"] == 0


# -- tenancy -----------------------------------------------------------------------------------------
def test_each_client_sees_only_its_own_data(c):
    a, b = login(c, "admin"), login(c, "admin91")
    assert {s["client_id"] for s in c.get(f"{P}/v1/sources?token={a}").json["system_sources"]} == {21}
    assert {s["id"] for s in c.get(f"{P}/v1/sources?token={b}").json["system_sources"]} == {318}
    assert {ch["id"] for ch in c.get(f"{P}/v1/channels?token={b}").json["system_channels"]} == {123, 191}
    pa = search(c, a, {"size": 1000}).json
    pb = search(c, b, {"size": 1000}).json
    assert {p["client_id"] for p in pa["system_products"]} == {21}
    assert {p["client_id"] for p in pb["system_products"]} == {91}
    assert not {p["id"] for p in pa["system_products"]} & {p["id"] for p in pb["system_products"]}
    # the example product is client 21's; client 91 cannot find it even by id
    assert search(c, b, {"query": {"ids": {"values": ["62777"]}}}).json["hits"]["total"] == 0
    assert search(c, a, {"query": {"ids": {"values": ["62777"]}}}).json["hits"]["total"] == 1
    oa = search(c, a, {"size": 1000}, "orders").json
    assert {o["client_id"] for o in oa["system_orders"]} == {21}
    assert search(c, a, {"query": {"term": {"id": 933302}}}, "orders").json["hits"]["total"] == 0


def test_posting_an_order_for_another_client_is_403(c):
    token = login(c, "admin")
    r = c.post(f"{P}/v2-queue/order?client_id=91&channel_id=123&token={token}", json={"id": 1})
    assert_error(r, 403, "wrong_client")


def test_internal_request_shows_the_clients_filter(c):
    token = login(c, "admin91")
    body = search(c, token, {"size": 1}).json["request"]["body"]
    assert {"term": {"client_id": 91}} in body["query"]["bool"]["filter"]
    assert body["aggs"] == {}


def test_reset_invalidates_tokens(c):
    token = login(c, "admin")
    assert c.post("/__sandbox/reset", json={"api": "stock2shop"}).status_code == 200
    assert_error(c.get(f"{P}/v1/sources?token={token}"), 401, "invalid_token")
    assert c.get(f"{P}/v1/sources?token={login(c, 'admin')}").status_code == 200


def test_trade_users_see_only_their_own_customers_orders(c):
    admin, trade = login(c, "admin"), login(c, "trade")
    customer_id = c.post(f"{P}/v1/users/authenticate", json={"system_user_auth": {
        "username": "trade", "password": "trade-s2s-demo"}}).json["system_user"]["customers"][0]["id"]
    trade = login(c, "trade")
    everything = search(c, admin, {"size": 1000}, "orders").json["system_orders"]
    mine = search(c, trade, {"size": 1000}, "orders").json
    expected = [o["id"] for o in everything if o["customer_id"] == customer_id]
    assert sorted(o["id"] for o in mine["system_orders"]) == sorted(expected)
    assert expected and len(everything) > len(expected)
    assert {"term": {"customer_id": customer_id}} in mine["request"]["body"]["query"]["bool"]["filter"]


def test_unknown_routes_and_methods_answer_in_the_error_shape(c):
    token = login(c, "admin")
    assert_error(c.get(f"{P}/v1/nothing?token={token}"), 404, "not_found")
    assert_error(c.get(f"{P}/v1/products/queue?token={token}"), 405, "method_not_allowed")
    assert_error(c.post(f"{P}/v1/sources?token={token}", json={}), 405, "method_not_allowed")
