"""What diff counts as a difference, per aspect, and what it leaves alone as data."""
from __future__ import annotations

import json

from mocks.drift import diff as D
from mocks.drift import session as S

JSON = {"Content-Type": "application/json"}


def cmp(api, want, got, want_status=200, got_status=200, want_headers=JSON, got_headers=JSON):
    differences, unknown = D.compare(api, want_status, want_headers, json.dumps(want), got_status, got_headers,
                                     json.dumps(got).encode())
    return differences


def test_values_are_data_keys_and_types_are_shape():
    want = {"items": [{"id": 1, "name": "a", "price": 1.5, "note": None}, {"id": 2, "name": "b", "extra": True}]}
    got = {"items": [{"id": 9, "name": "zz", "price": 3, "note": "text", "extra": False}]}
    assert cmp("xtnd", want, got) == {}  # other values, other counts, int vs float, null vs string: data
    assert cmp("xtnd", want, {"items": []}) == {}  # an empty list matches a list of anything
    got = {"items": [{"id": "9", "title": "zz", "price": 3, "extra": False}]}
    assert cmp("xtnd", want, got) == {"shape": [
        "/items/*/id: number != string",
        "/items/*/name: missing",
        "/items/*/note: missing",
        "/items/*/title: unexpected"]}


def test_objects_keyed_by_ids_are_maps():
    want = {"prices": {"100001": 12.5, "100002": 3}}
    assert cmp("xtnd", want, {"prices": {"200007": 1.0}}) == {}
    assert cmp("xtnd", want, {"prices": {}}) == {}
    assert cmp("xtnd", want, {"prices": {"200007": "1.0"}}) == {"shape": ["/prices/<id>: number != string"]}


def test_stock2shop_error_types_and_retry_after():
    want = {"error": {"code": 429, "message": "Too Many Requests", "type": "rate_limited"}}
    got = {"error": {"code": 429, "message": "Too Many Requests", "type": "too_many_requests"}}
    limited = {**JSON, "Retry-After": "1", "x-S2S-RateLimit": "1"}
    d = cmp("stock2shop", want, got, 429, 429, limited, JSON)
    assert d == {"errors": ["$.error.type: recorded ['rate_limited'], target ['too_many_requests']"],
                 "headers": ["retry-after: recorded, missing from the target's answer",
                             "x-s2s-ratelimit: recorded, missing from the target's answer"]}
    assert cmp("stock2shop", want, want, 429, 429, limited, {**JSON, "retry-after": "7", "X-S2S-RateLimit": "9"}) == {}


def test_printxpand_per_item_codes_and_api2cart_messages():
    want = [{"response": [{"code": "200", "status": "success", "message": "ok"},
                          {"code": 400, "status": "error", "message": "SKU 12 exists"}]}]
    got = [{"response": [{"code": 200, "status": "success", "message": "ok"},
                         {"code": 409, "status": "error", "message": "SKU 7 exists"}]}]
    assert cmp("printxpand", want, got) == {
        "errors": ["$[*].response[*].code: recorded ['200', '400'], target ['200', '409']"],
        "shape": ["/*/response/*/code: string != number"]}
    a2c = {"return_code": 112, "return_message": "Product with ID '5' not found", "result": {}}
    assert cmp("api2cart", a2c, {**a2c, "return_message": "Product with ID '77' not found"}) == {}
    assert cmp("api2cart", a2c, {**a2c, "return_message": "Not found"}) == {"errors": [
        "$.return_message: recorded [\"Product with ID '#' not found\"], target ['Not found']"]}


def test_status_media_type_and_no_answer():
    assert cmp("click2sync", {"a": 1}, {"a": 1}, 200, 201) == {"status": ["recorded 200, target 201"]}
    d, unknown = D.compare("click2sync", 200, JSON, '{"a": 1}', 200, {"Content-Type": "text/html"}, b"<html>")
    assert d == {"shape": ["body: recorded JSON, target not JSON"],
                 "headers": ["content-type: recorded application/json, target text/html"]}
    d, unknown = D.compare("click2sync", None, {}, "", 200, JSON, b"{}")
    assert d == {"status": ["recorded no answer, target 200"]}


def test_a_body_cut_by_the_journal_is_not_compared_and_not_scored():
    cut = json.dumps({"items": list(range(3000))})[:4096]
    d, unknown = D.compare("xtnd", 200, JSON, cut, 200, JSON, b'{"other": 1}')
    assert d == {} and unknown == ["errors", "shape"]
    e = D.Exchange(1, "xtnd", "op", "#1", {"status": ["x"]}, unknown)
    assert e.score == 0.5  # one of the two aspects compared differs


def test_har_sessions_read_back_as_journal_entries(tmp_path):
    session = {"format": S.SESSION_FORMAT, "version": 1, "base_url": "http://127.0.0.1:8080", "scenarios": [],
               "requests": [{"seq": 4, "api": "xtnd", "tenant": None, "method": "POST",
                             "path": "/xtnd/api/v1/CustomerOrders", "query": {"dry": "1"}, "status": 201,
                             "duration_ms": 1.0, "time": 0,
                             "request": {"headers": {"Authorization": "***", "Content-Type": "application/json"},
                                         "body": "{\"a\": 1}"},
                             "response": {"headers": {"Content-Type": "application/json"}, "body": "{\"b\": 2}"}}]}
    path = tmp_path / "s.har"
    path.write_text(json.dumps(S.to_har(session)))
    entry = S.load(str(path))["requests"][0]
    for key in ("seq", "api", "method", "path", "query", "status"):
        assert entry[key] == session["requests"][0][key], key
    assert entry["request"] == session["requests"][0]["request"]
    assert entry["response"] == session["requests"][0]["response"]


def test_operations_are_named_by_the_contract():
    assert S.operation_of("xtnd", "POST", "/xtnd/api/v1/customerorders")[:2] == ("/xtnd", "createCustomerOrder")
    assert S.operation_of("stock2shop", "GET", "/stock2shop/v1/users/valid_token/***")[1] == "validToken"
    assert S.operation_of("stock2shop", "GET", "/stock2shop/v9/nothing")[1] == "GET /v9/nothing"


def entry(api, method, path, body, status=200):
    return {"api": api, "method": method, "path": path, "query": {}, "status": status,
            "request": {"headers": {}, "body": ""}, "response": {"headers": JSON, "body": json.dumps(body)}}


def test_seed_from_reads_the_records_of_every_api():
    from mocks.drift import seed as SEED

    session = {"requests": [
        entry("stock2shop", "POST", "/stock2shop/v1/products/elastic_search",
              {"hits": {"hits": [{"_source": {"id": 7, "title": "a"}}, {"_source": {"id": 8, "title": "b"}}]}}),
        entry("stock2shop", "POST", "/stock2shop/v1/orders/elasticsearch", {"hits": {"hits": [{"_source": {"id": 70}}]}}),
        entry("stock2shop", "POST", "/stock2shop/v1/customers/elastic_search", {"hits": {"hits": []}}),
        entry("click2sync", "GET", "/click2sync/api/product", {"products": [{"_id": "p1", "sku": "p1"}]}),
        entry("xtnd", "GET", "/xtnd/api/v1/products/100001", {"itemNumber": "100001", "description": "new"}),
        entry("xtnd", "GET", "/xtnd/api/v1/Products/100001", {"itemNumber": "100001", "description": "newer"}),
        entry("xtnd", "GET", "/xtnd/api/v1/Products", {"items": ["100001"]}),  # ids only: nothing to load
        entry("api2cart", "GET", "/api2cart/v1.1/order.info.json", {"return_code": 0, "result": {"id": "5"}}),
        entry("api2cart", "GET", "/api2cart/v1.1/product.list.json", {"return_code": 0, "result": {"product": []}}),
        entry("api2cart", "GET", "/api2cart/v1.1/customer.info.json", {"return_code": 112, "result": {}}),
        entry("xtnd", "GET", "/xtnd/api/v1/Customers/1", {"customerNumber": "1"}, status=404),  # errors: skipped
        {**entry("click2sync", "GET", "/click2sync/api/order", {}), "response": {"headers": {}, "body": '{"orders": [{"_id'}},
    ]}
    found = SEED.records(session)
    assert {k: (key, sorted(v)) for k, (key, v) in found.items()} == {
        ("stock2shop", "products"): ("id", ["7", "8"]),
        ("stock2shop", "orders"): ("id", ["70"]),
        ("click2sync", "products"): ("_id", ["p1"]),
        ("xtnd", "products"): ("itemNumber", ["100001"]),
        ("api2cart", "orders"): ("id", ["5"]),
    }
    assert found[("xtnd", "products")][1]["100001"]["description"] == "newer"  # the last answer wins
    creds = {"stock2shop": {"users": [{"tenant": "21"}]}, "api2cart": {"api_key": "k", "stores": [{"tenant": "s1"}]},
             "xtnd": {"tenant": "x1"}}
    assert [SEED.default_tenant(creds, a) for a in ("stock2shop", "api2cart", "xtnd", "click2sync")] == \
        ["21", "s1", "x1", None]
