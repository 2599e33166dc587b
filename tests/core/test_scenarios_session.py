"""Export (JSON, HAR 1.2), replay with shape comparison, and the scenarios CLI."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests

from mocks import cli
from mocks.core.replay import client as C
from tests.core.test_faults import K1, K2, LIST, activate, statuses
from tests.conftest import make_app


@pytest.fixture
def app(shared_app):
    return shared_app(apis=["click2sync"])


class ClientSession:
    """Just enough of requests.Session, answered by a Flask test client."""

    def __init__(self, client):
        self.client = client

    def request(self, method, url, params=None, headers=None, data=None, json=None, timeout=None):
        parts = urlsplit(url)
        try:
            r = self.client.open(parts.path, method=method, query_string=params, headers=headers or {},
                                 data=data, json=json)
            content = r.get_data()
        except ConnectionError as exc:
            raise requests.ConnectionError(str(exc)) from None
        out = requests.Response()
        out.status_code, out._content = r.status_code, content
        return out

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)


def record_some(client):
    activate(client, [{"match": {"method": "GET"}, "when": {"probability": 0.4}, "action": {"status": 503}},
                      {"when": {"nth": [3]}, "action": {"reset": True}},
                      {"when": {"every": 4}, "action": {"malformed": True}}], seed=3)
    for i in range(12):
        headers = K1 if i % 3 else K2
        try:
            client.get(LIST, headers=headers).get_data()
        except ConnectionError:
            pass
    client.post("/click2sync/api/product", headers=K1, json={"sku": "rec-1", "title": "t"})
    return client.get("/__sandbox/export").json


def test_export_has_the_journal_scenarios_and_seeds(client):
    data = record_some(client)
    assert data["format"] == "commerce-sandbox-session" and data["seed"] == 1
    assert data["scenarios"][0]["seed"] == 3 and data["scenarios"][0]["definition"]["rules"]
    assert len(data["requests"]) == 13
    assert any(e["status"] == 503 and e["scenario"] == "t" for e in data["requests"])
    assert any(e["status"] is None for e in data["requests"])
    assert all(e["request"]["headers"].get("C2Skey", "***") == "***" for e in data["requests"])


def test_har_export(client):
    record_some(client)
    har = client.get("/__sandbox/export?format=har").json
    log = har["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "commerce-sandbox"
    entry = log["entries"][0]
    for key in ("startedDateTime", "time", "request", "response", "cache", "timings"):
        assert key in entry
    assert entry["request"]["url"].startswith("http://localhost/click2sync/api/product?offset=0")
    assert {"name": "offset", "value": "0"} in entry["request"]["queryString"]
    assert {e["response"]["status"] for e in log["entries"]} >= {0, 200, 503}
    post = log["entries"][-1]["request"]
    assert post["method"] == "POST" and json.loads(post["postData"]["text"])["sku"] == "rec-1"
    assert client.get("/__sandbox/export?format=xml").status_code == 400


def test_replay_of_a_session_shows_no_differences():
    source = make_app(apis=["click2sync"]).test_client()
    data = record_some(source)
    target = make_app(apis=["click2sync"]).test_client()
    result = C.replay(data, "http://target", session=ClientSession(target))
    assert result == {"requests": 13, "differences": []}
    replayed = target.get("/__sandbox/requests?limit=100").json["requests"][::-1]
    assert [e["status"] for e in replayed] == [e["status"] for e in data["requests"]]


def test_replay_reports_status_and_shape_differences():
    source = make_app(apis=["click2sync"]).test_client()
    data = record_some(source)
    data["requests"][0]["status"] = 418
    ok = next(e for e in data["requests"] if e["status"] == 200 and e["response"]["body"].startswith('{"paging'))
    ok["response"]["body"] = json.dumps({"paging": {"pageSize": "20"}, "products": [], "extra": 1})
    target = make_app(apis=["click2sync"]).test_client()
    result = C.replay(data, "http://target", session=ClientSession(target))
    problems = [p for d in result["differences"] for p in d["problems"]]
    assert any(p.startswith("status 418 != ") for p in problems)
    assert "body /paging/pageSize: string != number" in problems
    assert "body /extra: missing" in problems
    with pytest.raises(ValueError):
        C.replay({"format": "other"}, "http://target", session=ClientSession(target))


def test_shapes():
    assert C.body_shape('{"a": [1, 2], "b": null}') == {"json": {"a": ["number"], "b": "null"}}
    assert C.body_shape("") == "empty" and C.body_shape("hello") == "text" and C.body_shape('{"cut') is None
    assert C.shape_diff({"a": ["number"]}, {"a": []}) == []
    assert C.shape_diff({"a": "number"}, {"a": {"b": "string"}}) == ["/a: number != object"]


def test_secrets_are_filled_from_overrides_responses_and_credentials():
    creds = {"click2sync": {"key": "k1", "header": "C2SKey"},
             "stock2shop": {"users": [{"username": "admin", "password": "pa"}, {"username": "ro", "password": "pr"}]},
             "xtnd": {"api_key": "x1", "header": "Authorization", "scheme": "Bearer"}}
    s = C.Secrets(creds, {"X-Other": "o"})
    assert s.fill("click2sync", "C2SKey", "***") == "k1"
    assert s.fill("xtnd", "Authorization", "***") == "Bearer x1"
    assert s.fill("click2sync", "x-other", "***") == "o"
    assert s.fill_json("stock2shop", {"username": "ro", "password": "***"}) == {"username": "ro", "password": "pr"}
    s.learn({"system_user": {"token": "tok-1"}})
    assert s.fill("stock2shop", "token", "***") == "tok-1"
    assert s.fill("stock2shop", "token", "given") == "given"


def test_cli_scenarios_list_show_validate(capsys, tmp_path):
    assert cli.main(["scenarios", "list"]) == 0
    out = capsys.readouterr().out
    assert "flaky-5xx" in out and "stock2shop-rate-limit" in out
    assert cli.main(["scenarios", "show", "flaky-5xx"]) == 0
    assert "probability: 0.1" in capsys.readouterr().out
    assert cli.main(["scenarios", "show", "nope"]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nrules:\n  - action: {status: 99}\n")
    assert cli.main(["scenarios", "validate", str(bad)]) == 1
    assert f"{bad}:3: rules[0].action.status" in capsys.readouterr().out
