"""Hostile input at the edge, a table per API: every case is the API's own 4xx (API2Cart: its
envelope), and the stored data is byte-for-byte what it was (a ``/__sandbox/data`` snapshot).

Also: one request's writes are all or nothing (an unexpected error mid-route leaves nothing
behind, and the journal still records the request with its 500), on every backend; PrintXpand's
bulk answers keep per-item results; paging tags the sandbox did not issue are refused; only ASCII
digits are numbers; 405 carries Allow; OPTIONS is 204 with Allow.
"""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from mocks.core.state import Collection
from tests.conftest import make_app
from tests.reliability.test_hostile_input import APIS, Harness, h  # noqa: F401  (the per-API fixture)


def first_string_field(good: dict[str, Any]) -> str:
    return next((k for k, v in good.items() if isinstance(v, str)), next(iter(good)))


def with_raw(good: dict[str, Any], key: str, literal: str) -> bytes:
    """``good`` with ``key``'s value replaced by a raw JSON ``literal``."""
    return json.dumps({**good, key: "__RAW__"}).replace('"__RAW__"', literal).encode()


def hostile_cases(good: dict[str, Any]) -> dict[str, bytes]:
    key = first_string_field(good)
    text = json.dumps(good)
    return {
        "lone high surrogate": with_raw(good, key, '"abc\\ud800"'),
        "lone low surrogate": with_raw(good, key, '"\\udfff"'),
        "surrogate in a key": json.dumps({**good}).replace("{", '{"k\\ud83d": 1, ', 1).encode(),
        "invalid UTF-8 bytes in a value": with_raw(good, key, '"a\xff\xfeb"'.encode("latin-1").decode("latin-1"))
        .replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe"),
        "NUL in a value": with_raw(good, key, '"a\\u0000b"'),
        "number beyond float range": with_raw(good, key, "1e400"),
        "negative number beyond float range": with_raw(good, key, "-1e400"),
        "integer beyond float range": with_raw(good, key, "1" + "0" * 320),
        "10,000 levels of nesting": with_raw(good, key, "[" * 10_000 + "]" * 10_000),
        "duplicate keys": ("{" + json.dumps(key) + ": " + json.dumps(good[key]) + ", " + text[1:]).encode(),
        "huge array": with_raw(good, key, "[" + ",".join(["0"] * 20_000) + "]"),
        "every field null": json.dumps({k: None for k in good}).encode(),
    }


def test_hostile_table_each_case_is_the_apis_4xx_and_changes_nothing(h):
    method, path, good = h.t.write
    for what, raw in hostile_cases(good).items():
        r = h.rejected_and_unchanged(what, method, path, raw)
        if h.api != "api2cart":
            assert 400 <= r.status_code < 500, (what, r.status_code)
    # the same body without the poison still goes through
    assert h.send(method, path, json.dumps(good).encode()).status_code < 500


def test_text_problems_name_the_field(h):
    method, path, good = h.t.write
    if h.api == "printxpand":
        pytest.skip("bulk: the item answers for itself (test_printxpand_bulk_keeps_per_item_results)")
    key = first_string_field(good)
    for literal, words in (('"x\\ud800"', "surrogate"), ('"x\\u0000"', "NUL")):
        r = h.rejected_and_unchanged(literal, method, path, with_raw(good, key, literal))
        text = r.get_data(as_text=True)
        assert key in text and (words in text or h.api == "api2cart"), text  # API2Cart: "Parameter 'id' is not valid."
    r = h.rejected_and_unchanged("bytes", method, path, with_raw(good, key, '"a__B__"').replace(b"__B__", b"\xc3\x28"))
    text = r.get_data(as_text=True)
    assert key in text and ("UTF-8" in text or h.api == "api2cart"), text


def test_the_journal_keeps_hostile_requests_with_their_status(h):
    method, path, good = h.t.write
    h.client.delete("/__sandbox/requests")
    h.send(method, path, with_raw(good, first_string_field(good), '"\\ud800"'))
    entries = h.client.get("/__sandbox/requests").get_json()["requests"]
    assert entries and entries[-1]["status"] is not None and entries[-1]["status"] < 500


# -- atomic requests ------------------------------------------------------------------------------
@pytest.fixture(params=["memory", "sqlite", "redis"])
def state_url(request, tmp_path):
    if request.param == "memory":
        return "memory"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    import redis
    url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/3"
    redis.Redis.from_url(url).flushdb()
    return url


def test_an_unexpected_error_mid_request_leaves_data_as_it_was(state_url, monkeypatch):
    app = make_app(apis=["click2sync"], state=state_url)
    c = app.test_client()
    before = c.get("/__sandbox/data/click2sync").get_data()
    original = Collection.add

    def add_then_fail(self: Collection, key: str, value: Any) -> bool:
        original(self, key, value)  # the write happens (after the id sequence moved on) ...
        raise RuntimeError("disk on fire")  # ... and then the route fails

    monkeypatch.setattr(Collection, "add", add_then_fail)
    c.delete("/__sandbox/requests")
    r = c.post("/click2sync/api/product", headers={"C2SKey": "c2s-demo-key"}, json={"sku": "ATOM-1", "title": "t"})
    assert r.status_code == 500 and r.get_json()["success"] is False
    monkeypatch.setattr(Collection, "add", original)
    assert c.get("/__sandbox/data/click2sync").get_data() == before  # the id sequence too
    failed = c.get("/__sandbox/requests?status=500").get_json()["requests"]
    assert [e["path"] for e in failed] == ["/click2sync/api/product"]
    # and the next request works and takes the id the failed one would have taken
    r = c.post("/click2sync/api/product", headers={"C2SKey": "c2s-demo-key"}, json={"sku": "ATOM-1", "title": "t"})
    assert r.status_code == 200
    app.extensions["sandbox"].store.close()


def px_headers(c: Any) -> dict[str, str]:
    creds = c.get("/__sandbox/credentials").get_json()["printxpand"]
    return {"Authorization": f"Bearer {creds['bearer_token']}", "Content-Type": "application/json"}


def test_printxpand_bulk_keeps_per_item_results(state_url):
    app = make_app(apis=["printxpand"], state=state_url)
    c = app.test_client()
    body = ('{"customer": {"1": {"id": "901", "first_name": "Ann", "last_name": "Lee", "email": "a901@example.com"},'
            ' "2": {"id": "902", "first_name": "Bo\\ud800", "last_name": "Lee", "email": "a902@example.com"},'
            ' "3": {"id": "903", "first_name": "Cy", "last_name": "Lee\\u0000", "email": "a903@example.com"}}}')
    r = c.post("/printxpand/rest/V1/customer/create/", data=body, headers=px_headers(c))
    assert r.status_code == 201, r.get_data(as_text=True)
    results = r.get_json()[0]["response"]
    assert [(x["id"], x["code"], x["status"]) for x in results] == [
        ("901", 200, "success"), ("902", 400, "error"), ("903", 400, "error")]
    assert "first_name" in results[1]["message"] and "last_name" in results[2]["message"]
    data = c.get("/__sandbox/data/printxpand").get_data(as_text=True)
    assert "a901@example.com" in data and "a902@example.com" not in data and "a903@example.com" not in data
    app.extensions["sandbox"].store.close()


def test_printxpand_refuses_content_types_other_than_json():
    app = make_app(apis=["printxpand"])
    c = app.test_client()
    headers = px_headers(c)
    body = json.dumps({"customer": {"1": {"id": "950", "first_name": "A", "last_name": "B", "email": "x950@example.com"}}})
    before = c.get("/__sandbox/data/printxpand").get_data()
    for ctype in ("text/plain", None):
        hs = {k: v for k, v in headers.items() if k != "Content-Type"}
        if ctype:
            hs["Content-Type"] = ctype
        r = c.post("/printxpand/rest/V1/customer/create/", data=body, headers=hs)
        assert r.status_code == 400, (ctype, r.status_code)
        assert r.get_json()[0]["response"][0]["status"] == "error"
    assert c.get("/__sandbox/data/printxpand").get_data() == before


# -- paging tags and numbers ----------------------------------------------------------------------
def test_click2sync_refuses_step_tags_it_did_not_issue():
    app = make_app(apis=["click2sync"])
    c = app.test_client()
    key = {"C2SKey": "c2s-demo-key"}
    issued = c.get("/click2sync/api/product", headers=key).get_json()["paging"]["next"]
    assert c.get("/click2sync/api/product", headers=key, query_string={"next": issued}).status_code == 200
    forged = [base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
              for d in ({"o": 1e300, "s": "asc"}, {"o": 20, "s": "asc"}, {"o": True, "s": "asc"})]
    edited = issued.replace(issued.split(".")[0], forged[1])
    for tag in [*forged, edited, issued + "0", "x", "٣"]:
        r = c.get("/click2sync/api/product", headers=key, query_string={"next": tag})
        body = r.get_json()
        assert r.status_code in (400, 404) and body["success"] is False, (tag, r.status_code, body)
        assert body["code"] == r.status_code and r.status_code == 400 or body["reasons"][0]["code"] == "invalid_next"


@pytest.mark.parametrize("digit", ["٣", "３", "³", "߃"])
def test_only_ascii_digits_are_numbers(digit):
    app = make_app(apis=["click2sync", "xtnd"])
    c = app.test_client()
    r = c.get("/click2sync/api/product", headers={"C2SKey": "c2s-demo-key"}, query_string={"offset": digit})
    assert r.status_code == 400 and r.get_json()["success"] is False
    creds = c.get("/__sandbox/credentials").get_json()["xtnd"]
    r = c.get("/xtnd/api/v1/CustomerOrders", headers={"Authorization": f"Bearer {creds['api_key']}"},
              query_string={"pageSize": digit})
    assert r.status_code == 400 and r.get_json()["status"] == 400


# -- HTTP details -------------------------------------------------------------------------------------
def test_405_carries_allow_and_options_is_204_with_allow():
    app = make_app(apis=["click2sync", "stock2shop"])
    c = app.test_client()
    r = c.put("/click2sync/api/product", headers={"C2SKey": "c2s-demo-key"}, json={})
    assert r.status_code == 405 and r.get_json()["code"] == 405
    assert set(r.headers["Allow"].split(", ")) >= {"GET", "POST", "OPTIONS"}
    r = c.options("/click2sync/api/product")
    assert r.status_code == 204 and r.get_data() == b""
    assert set(r.headers["Allow"].split(", ")) >= {"GET", "POST", "OPTIONS"}
    r = c.options("/click2sync/api/nothing-here")
    assert r.status_code == 404 and r.get_json()["success"] is False


@pytest.mark.parametrize("encoded", ["%FF%FE", "%ED%A0%80", "%C0%AF", "a%00b"])
def test_query_text_the_store_cannot_hold_is_the_apis_400(h, encoded):
    for method, path, body in h.t.lists or [h.t.write[:2] + (h.t.write[2],)]:
        before = h.data()
        full = f"{path}{'&' if '?' in path else '?'}sortorder={encoded}"
        r = h.client.open(full, method=method, headers=h.t.headers, query_string=None,
                          data=json.dumps(body).encode() if body else None,
                          content_type="application/json" if body else None)
        if h.t.query:  # credentials in the query: send them too
            from urllib.parse import urlencode
            r = h.client.open(full + "&" + urlencode(h.t.query), method=method, headers=h.t.headers,
                              data=json.dumps(body).encode() if body else None,
                              content_type="application/json" if body else None)
        h.check(r, f"{path} sortorder={encoded}", must_reject=True)
        assert "sortorder" in r.get_data(as_text=True)
        assert h.data() == before


def test_api2cart_refuses_page_cursors_it_did_not_issue():
    app = make_app(apis=["api2cart"])
    c = app.test_client()
    acc = c.get("/__sandbox/credentials").get_json()["api2cart"]["accounts"][0]
    q = {"api_key": acc["api_key"], "store_key": acc["stores"][0]["store_key"]}
    first = c.get("/api2cart/v1.1/product.list.json", query_string={**q, "count": 2}).get_json()
    issued = first["pagination"]["next"]
    assert issued
    assert c.get("/api2cart/v1.1/product.list.json", query_string={**q, "page_cursor": issued}).get_json()["return_code"] == 0
    forged = base64.urlsafe_b64encode(json.dumps({"s": 1e300, "c": 10}).encode()).decode().rstrip("=")
    for tag in (forged, forged + "." + issued.split(".")[1], issued[:-1] + "0"):
        body = c.get("/api2cart/v1.1/product.list.json", query_string={**q, "page_cursor": tag}).get_json()
        assert body["return_code"] != 0 and "page_cursor" in body["return_message"], (tag, body)
