"""proxy, diff and seed-from against a local stand-in "real service" (tests/drift/standin.py).

Nothing here calls an outside address: the stand-in, the proxy and the target sandbox all listen on
127.0.0.1.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests

from mocks import cli
from mocks.drift import diff as D
from mocks.drift import seed as SEED
from mocks.drift import session as S
from tests.drift import standin

PRODUCT = {"name": "Trail Tent", "model": "TENT-9", "description": "Two person", "price": 199.5, "quantity": 4}


def creds(real_app: Any) -> tuple[str, str]:
    c = real_app.extensions["real"].extensions["sandbox"].credentials()["api2cart"]
    return c["api_key"], c["stores"][0]["store_key"]


def call(proxy: Any, method: str, http: str = "GET", body: Any = None, **params: Any) -> dict[str, Any]:
    r = proxy.open(f"/api2cart/v1.1/{method}.json", method=http, query_string=params, json=body)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def record(real: tuple[Any, str], proxy: Any) -> dict[str, Any]:
    """A short session through the proxy: lists, an info, an unknown product, counts."""
    key, store = creds(real[0])
    auth = {"api_key": key, "store_key": store}
    call(proxy, "product.list", count=50, params="force_all", **auth)
    call(proxy, "product.info", id=1, **auth)
    assert call(proxy, "product.info", id=99999, **auth)["return_code"] == standin.STANDIN_CODE
    call(proxy, "customer.list", **auth)
    call(proxy, "order.list", **auth)
    call(proxy, "product.count", **auth)
    return proxy.get("/__sandbox/export").get_json()


# -- proxy ------------------------------------------------------------------------------------------
def test_proxy_forwards_the_request_unchanged(real, proxy):
    app, url = real
    body = b'{"name": "x",  "model": "y"}'
    r = proxy.post("/api2cart/v1.1/product.add.json?api_key=K1&store_key=S%2F1&b=2&b=1",
                   data=body, headers={"Content-Type": "application/json", "X-Custom": "kept",
                                       "Authorization": "Bearer secret-1", "Host": "sandbox.local"})
    got = app.extensions["received"][-1]
    assert got["method"] == "POST"
    assert got["raw_uri"] == "/v1.1/product.add.json?api_key=K1&store_key=S%2F1&b=2&b=1"
    headers = dict(got["headers"])
    assert headers["X-Custom"] == "kept" and headers["Authorization"] == "Bearer secret-1"
    assert headers["Host"] == url.split("//")[1]  # only Host is rewritten
    # nothing added, nothing dropped (but Content-Length, framed again): no defaults of the proxy's own
    assert set(headers) == {"Host", "User-Agent", "Content-Type", "X-Custom", "Authorization", "Content-Length"}
    assert headers["User-Agent"].startswith("Werkzeug/")  # the client's own
    assert got["body"] == body
    assert r.status_code == 200 and r.get_json()["return_code"] != 0  # the stand-in's own answer


def test_proxy_passes_the_answer_back_and_records_it_masked(real, proxy):
    key, store = creds(real[0])
    r = proxy.get("/api2cart/v1.1/order.list.json", query_string={"api_key": key, "store_key": store})
    assert r.headers[standin.EXTRA_HEADER[0]] == standin.EXTRA_HEADER[1]
    assert r.get_json()["result"]["orders_count"] == 25
    entry = proxy.get("/__sandbox/export").get_json()["requests"][-1]
    assert entry["api"] == "api2cart" and entry["status"] == 200
    assert entry["query"] == {"api_key": "***", "store_key": "***"}
    assert key not in json.dumps(entry) and store not in json.dumps(entry)
    assert entry["response"]["headers"][standin.EXTRA_HEADER[0]] == "100"
    har = proxy.get("/__sandbox/export?format=har").get_json()
    assert har["log"]["entries"][-1]["response"]["status"] == 200


def test_proxy_checks_both_directions_and_forwards_anyway(real, proxy):
    key, store = creds(real[0])
    before = len(real[0].extensions["received"])
    # a request that breaks the contract (count is an integer) still reaches the service
    proxy.get("/api2cart/v1.1/product.list.json", query_string={"api_key": key, "store_key": store, "count": "many"})
    assert len(real[0].extensions["received"]) == before + 1
    # an answer outside the contract (an HTML page) is recorded as the service's violation
    r = proxy.get("/api2cart/v1.1/customer.list.json", query_string={"api_key": key, "store_key": store, "break": 1})
    assert r.get_data() == b"<html>upstream trouble</html>" and r.mimetype == "text/html"
    rows = proxy.get("/__sandbox/violations").get_json()["violations"]
    directions = {(v["direction"], v["operation"]) for v in rows}
    assert ("request", "ProductList") in directions
    assert ("response", "CustomerList") in directions
    assert all(key not in json.dumps(v) for v in rows)


def test_proxy_only_calls_the_upstream(real, proxy):
    app, url = real
    before = len(app.extensions["received"])
    proxy.get("/api2cart/@127.0.0.2:1/x")
    proxy.get("/api2cart//evil.invalid/x")
    uris = [r["raw_uri"] for r in app.extensions["received"][before:]]
    # both landed on the stand-in (its server reads a leading "//" as "/")
    assert uris[0] == "/@127.0.0.2:1/x" and uris[1].endswith("/evil.invalid/x") and len(uris) == 2


def test_unreachable_upstream_is_a_502_in_the_apis_shape_and_diff_skips_it(sandbox_url):
    from mocks.drift import proxy as P
    from tests.conftest import free_port

    client = P.build_app("api2cart", f"http://127.0.0.1:{free_port()}", testing=True, timeout=2).test_client()
    r = client.get("/api2cart/v1.1/product.count.json?api_key=a&store_key=b")
    assert r.status_code == 502 and r.headers[P.ERROR_HEADER] == "ConnectionError"
    assert "return_code" in r.get_json()
    data = client.get("/__sandbox/export").get_json()
    report = D.run(data, sandbox_url)  # the one exchange is the proxy's own answer: skipped
    assert report.skipped == 1 and not report.exchanges


def test_upstream_must_be_an_http_url():
    from mocks.drift import proxy as P

    for bad in ("ftp://x", "http://user:pw@host", "http:///nohost", "http://h/?q=1"):
        with pytest.raises(ValueError):
            P.upstream_url(bad)


# -- diff -------------------------------------------------------------------------------------------
def expected_differences() -> set[tuple[str, str, str]]:
    return {
        ("CustomerList", "shape", "/result/customer/*/email: unexpected"),
        ("CustomerList", "shape", "/result/customer/*/email_address: missing"),
        ("ProductInfo", "errors", "$.return_code: recorded ['113'], target ['112']"),
        ("OrderList", "headers", "x-ratelimit-limit: recorded, missing from the target's answer"),
    }


def found(report: D.Report) -> set[tuple[str, str, str]]:
    return {(e.operation, aspect, d) for e in report.exchanges for aspect, ds in e.differences.items() for d in ds}


def test_diff_finds_exactly_the_stand_ins_differences(real, proxy, sandbox_url):
    data = record(real, proxy)
    report = D.run(data, sandbox_url)
    assert len(report.exchanges) == 6
    assert found(report) == expected_differences()
    summary = report.as_dict()["apis"]["api2cart"]
    ops = summary["operations"]
    assert ops["ProductList"]["score"] == 100.0 and ops["ProductCount"]["score"] == 100.0
    assert ops["CustomerList"]["score"] == 75.0 and ops["OrderList"]["score"] == 75.0
    assert ops["ProductInfo"]["score"] == 87.5  # one of its two exchanges differs, on one aspect of four
    assert summary["score"] == pytest.approx(100 * (6 - 3 * 0.25) / 6, abs=0.1)


def test_diff_of_the_sandbox_against_itself_finds_nothing(sandbox_url):
    from mocks.drift import proxy as P

    proxy = P.build_app("api2cart", sandbox_url + "/api2cart", testing=True).test_client()
    creds = requests.get(sandbox_url + "/__sandbox/credentials", timeout=10).json()["api2cart"]
    auth = {"api_key": creds["api_key"], "store_key": creds["stores"][1]["store_key"]}
    call(proxy, "product.list", count=5, **auth)
    call(proxy, "product.info", id=424242, **auth)
    call(proxy, "order.list", **auth)
    report = D.run(proxy.get("/__sandbox/export").get_json(), sandbox_url)
    assert len(report.exchanges) == 3 and not report.different
    assert report.as_dict()["score"] == 100.0


def test_diff_cli_reports_and_exit_codes(real, proxy, sandbox_url, tmp_path, capsys):
    session = tmp_path / "session.json"
    session.write_text(json.dumps(record(real, proxy)))
    md, xml = tmp_path / "drift.md", tmp_path / "drift.xml"
    code = cli.main(["diff", str(session), "--target", sandbox_url, "--report-md", str(md), "--report-junit", str(xml)])
    assert code == 1
    out = capsys.readouterr().out
    assert "api2cart: fidelity" in out and "6 exchanges replayed" in out
    text = md.read_text()
    assert "| `CustomerList` | 1 | 75.0% | 2 |" in text and "x-ratelimit-limit" in text
    suite = ET.parse(xml).getroot().find("testsuite")
    # one failing case per difference (4), one passing case per operation without any (2)
    assert suite.get("tests") == "6" and suite.get("failures") == "4"
    failing = {tc.get("classname") for tc in suite.iter("testcase") if tc.find("failure") is not None}
    assert failing == {"drift.api2cart CustomerList", "drift.api2cart ProductInfo", "drift.api2cart OrderList"}
    assert "api2cart ProductInfo: errors differ" in {tc.get("name") for tc in suite.iter("testcase")}
    # the same session as HAR gives the same differences
    har = tmp_path / "session.har"
    har.write_text(json.dumps(S.to_har(json.loads(session.read_text()))))
    assert found(D.run(S.load(str(har)), sandbox_url)) == expected_differences()
    # could not run: no such file, not a session, a target that does not answer
    assert cli.main(["diff", str(tmp_path / "missing.json"), "--target", sandbox_url]) == 2
    (tmp_path / "x.json").write_text("{}")
    assert cli.main(["diff", str(tmp_path / "x.json"), "--target", sandbox_url]) == 2
    from tests.conftest import free_port
    assert cli.main(["diff", str(session), "--target", f"http://127.0.0.1:{free_port()}"]) == 2


def test_diff_cli_exit_0_without_differences(sandbox_url, tmp_path):
    session = {"format": S.SESSION_FORMAT, "version": 1, "requests": [], "scenarios": []}
    creds = requests.get(sandbox_url + "/__sandbox/credentials", timeout=10).json()["api2cart"]
    r = requests.get(sandbox_url + "/api2cart/v1.1/product.count.json",
                     params={"api_key": creds["api_key"], "store_key": creds["stores"][0]["store_key"]}, timeout=10)
    session["requests"].append({"seq": 1, "api": "api2cart", "method": "GET", "path": "/api2cart/v1.1/product.count.json",
                                "query": {"api_key": "***", "store_key": "***"}, "status": r.status_code,
                                "request": {"headers": {}, "body": ""},
                                "response": {"headers": dict(r.headers), "body": r.text}})
    path = tmp_path / "s.json"
    path.write_text(json.dumps(session))
    assert cli.main(["diff", str(path), "--target", sandbox_url, "--quiet"]) == 0
    assert cli.main(["diff", str(path), "--target", sandbox_url, "--quiet", "--reset"]) == 0


def test_set_overrides_a_masked_value(real, proxy, sandbox_url):
    data = record(real, proxy)
    report = D.run(data, sandbox_url, overrides={"store_key": "not-a-store"})
    # every exchange now reaches an unknown store: API2Cart's return_code for it, on every operation
    codes = [e.differences["errors"][0] for e in report.exchanges]
    assert codes == ["$.return_code: recorded ['0'], target ['4']"] * 2 + [
        "$.return_code: recorded ['113'], target ['4']"] + ["$.return_code: recorded ['0'], target ['4']"] * 3


# -- seed-from --------------------------------------------------------------------------------------
def test_seed_from_loads_the_sessions_records_and_reads_them_back(real, proxy, sandbox_url, tmp_path):
    # the real service has a product the sandbox does not
    inner = real[0].extensions["real"].test_client()
    key, store = creds(real[0])
    added = inner.post("/api2cart/v1.1/product.add.json", query_string={"api_key": key, "store_key": store},
                       json=PRODUCT).get_json()["result"]["product_id"]
    session = tmp_path / "session.json"
    session.write_text(json.dumps(record(real, proxy)))
    code = cli.main(["seed-from", str(session), "--target", sandbox_url])
    assert code == 0
    target_creds = requests.get(sandbox_url + "/__sandbox/credentials", timeout=10).json()["api2cart"]
    params = {"api_key": target_creds["api_key"], "store_key": target_creds["stores"][0]["store_key"],
              "id": added, "params": "force_all"}
    got = requests.get(sandbox_url + "/api2cart/v1.1/product.info.json", params=params, timeout=10).json()
    assert got["return_code"] == 0, got
    assert (got["result"]["name"], got["result"]["u_model"], got["result"]["price"]) == ("Trail Tent", "TENT-9", 199.5)
    # additions only: the 30 products both have were left as the sandbox had them
    again = SEED.load(S.load(str(session)), sandbox_url)
    assert again["api2cart/products"]["added"] == 0 and again["api2cart/products"]["skipped"] == 31
    assert again["api2cart/customers"]["skipped"] == 10  # a list page: count defaults to 10
    violations = requests.get(sandbox_url + "/__sandbox/violations?direction=response", timeout=10).json()
    assert violations["total"] == 0


def test_seed_from_an_empty_session_loads_nothing(sandbox_url, tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"format": S.SESSION_FORMAT, "requests": []}))
    assert cli.main(["seed-from", str(path), "--target", sandbox_url]) == 0
    assert "no records" in capsys.readouterr().out
    from tests.conftest import free_port
    assert cli.main(["seed-from", str(path), "--target", f"http://127.0.0.1:{free_port()}"]) == 2


# -- the other APIs: credentials filled from the target ------------------------------------------------
def test_sessions_of_the_other_apis_replay_with_the_targets_credentials():
    """A sandbox as the "real service": its session replays against another sandbox with no differences.
    Stock2Shop: the password from the target's matching user, the token learned from the replayed
    authenticate, the masked /valid_token/*** segment filled; XTND: its bearer key; Click2Sync: C2SKey;
    PrintXpand: a bearer token for the masked OAuth header."""
    from mocks.drift import proxy as P
    from tests.conftest import make_app

    config = {"apis": ["stock2shop", "xtnd", "click2sync", "printxpand"],
              "options": {"stock2shop": {"products": 20, "orders": 10}}}
    upstream, target = make_app(**config), make_app(**config)
    creds = upstream.extensions["sandbox"].credentials()
    with standin.serving(upstream) as up, standin.serving(target) as target_url:
        s2s = P.build_app("stock2shop", up + "/stock2shop", testing=True).test_client()
        user = creds["stock2shop"]["users"][1]
        token = s2s.post("/stock2shop/v1/users/authenticate", json={"system_user_auth": {
            "username": user["username"], "password": user["password"]}}).get_json()["system_user"]["token"]
        assert s2s.get(f"/stock2shop/v1/users/valid_token/{token}").status_code == 200
        assert s2s.post(f"/stock2shop/v1/products/elastic_search?token={token}",
                        json={"query": {"match_all": {}}, "size": 3}).status_code == 200
        xtnd = P.build_app("xtnd", up + "/xtnd", testing=True).test_client()
        assert xtnd.get("/xtnd/api/v1/Products/100001", headers={
            "Authorization": "Bearer " + creds["xtnd"]["api_key"]}).status_code == 200
        c2s = P.build_app("click2sync", up + "/click2sync", testing=True).test_client()
        assert c2s.get("/click2sync/api/product?offset=0", headers={"C2SKey": creds["click2sync"]["key"]}).status_code == 200
        px = P.build_app("printxpand", up + "/printxpand", testing=True).test_client()
        bearer = {"Authorization": "Bearer " + creds["printxpand"]["bearer_token"]}
        assert px.post("/printxpand/rest/V1/product/delete/", json={"product": ["10002"]}, headers=bearer).status_code == 200
        for client in (s2s, xtnd, c2s, px):
            data = client.get("/__sandbox/export").get_json()
            assert token not in json.dumps(data) and user["password"] not in json.dumps(data)
            report = D.run(data, target_url)
            assert report.exchanges and not report.different, report.as_dict()
        # a recorded OAuth 1.0a header (signature masked) replays as the target's bearer token
        stored = requests.get(target_url + "/__sandbox/data/printxpand/products", timeout=10).json()["tenants"]
        other = next(p["id"] for p in stored[creds["printxpand"]["tenant"]] if p["id"] != "10002")
        oauth = {"format": S.SESSION_FORMAT, "requests": [{
            "seq": 1, "api": "printxpand", "method": "POST", "path": "/printxpand/rest/V1/product/delete/",
            "query": {}, "status": 200,
            "request": {"headers": {"Authorization": 'OAuth oauth_consumer_key="***", oauth_signature="***"',
                                    "Content-Type": "application/json"}, "body": json.dumps({"product": [other]})},
            "response": {"headers": {"Content-Type": "application/json"},
                         "body": json.dumps([{"response": [{"code": "200", "status": "success", "message": "ok"}]}])}}]}
        report = D.run(oauth, target_url)
        assert report.exchanges[0].differences.get("status") is None, report.as_dict()  # authenticated


def test_the_real_service_against_itself_through_a_proxy_with_set(real, proxy):
    """A target that is not a sandbox: the real service behind a second proxy (which maps the prefix);
    its credentials cannot come from a sandbox, so --set gives them. Same service: no differences."""
    from mocks.drift import proxy as P

    data = record(real, proxy)
    key, store = creds(real[0])
    with standin.serving(P.build_app("api2cart", real[1])) as second:
        unfilled = D.run(data, second)
        assert unfilled.different  # the masked keys went as "***": the service refused them
        report = D.run(data, second, overrides={"api_key": key, "store_key": store})
    assert len(report.exchanges) == 6 and not report.different, report.as_dict()


def test_a_scenario_in_front_of_the_real_service(real, proxy):
    """Faults still work on the proxy: the injected answer is in the API's own terms, the service is not called."""
    key, store = creds(real[0])
    r = proxy.post("/__sandbox/scenarios", json={"name": "down", "rules": [
        {"match": {"path": "/api2cart/v1.1/order.list.json"}, "action": {"status": 503}}]})
    assert r.status_code == 201
    before = len(real[0].extensions["received"])
    r = proxy.get("/api2cart/v1.1/order.list.json", query_string={"api_key": key, "store_key": store})
    assert r.get_json()["return_code"] != 0 and len(real[0].extensions["received"]) == before
