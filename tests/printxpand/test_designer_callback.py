"""The designer callback ("Save design URL and image URL"): the sandbox POSTs the documented payload
to a URL the user configures, over real HTTP, and reports whether the answer kept the contract."""
from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mocks.printxpand.contract import CONTROL_RESPONSE, DESIGNER_REQUEST
from tests.api2cart.receiver import Receiver

ROUTE = "/__sandbox/printxpand/designer-callback"
SUCCESS = [{"response": "success"}]


def result_ok(body: dict[str, Any]) -> None:
    """The control answer keeps its own schema (it refers to the payload schema by file name)."""
    schema = {**CONTROL_RESPONSE, "properties": {**CONTROL_RESPONSE["properties"], "request": DESIGNER_REQUEST}}
    assert not list(Draft202012Validator(schema).iter_errors(body))


def test_configured_url_gets_the_documented_payload(client: Any) -> None:
    with Receiver(lambda req: (200, SUCCESS)) as rx:
        r = client.put(ROUTE, json={"url": rx.url + "/px/designer"})
        assert r.status_code == 200 and r.json["url"] == rx.url + "/px/designer"
        r = client.post(ROUTE, json={"integration_product_id": 10001, "image_url": "image_url",
                                     "designer_url": "designer_url", "enable_product_designer": 0})
    assert r.status_code == 200, r.json
    result_ok(r.json)
    assert r.json["ok"] is True and r.json["problems"] == [] and r.json["status"] == 200
    assert r.json["response"] == SUCCESS
    sent = rx.requests[0]
    assert sent["path"] == "/px/designer" and sent["headers"]["Content-Type"] == "application/json"
    # the document's example payload, byte for byte the fields it shows
    assert json.loads(sent["raw"]) == {"image_url": "image_url", "designer_url": "designer_url",
                                       "enable_product_designer": 0, "integration_product_id": 10001}
    history = client.get(ROUTE).json
    assert history["calls"][0]["request"]["integration_product_id"] == 10001 and history["calls"][0]["ok"] is True


def test_payload_defaults_come_from_the_stored_product(client: Any) -> None:
    with Receiver(lambda req: (200, SUCCESS)) as rx:
        r = client.post(ROUTE, json={"url": rx.url, "integration_product_id": "10002"})
    sent = json.loads(rx.requests[0]["raw"])
    assert sent["integration_product_id"] == "10002"          # as given
    assert sent["enable_product_designer"] == 1               # the seeded product has the designer enabled
    assert sent["image_url"] == "image_url"                   # its first image
    assert sent["designer_url"].endswith("/designer/10002")
    assert not list(Draft202012Validator(DESIGNER_REQUEST).iter_errors(sent))
    assert r.json["ok"] is True


@pytest.mark.parametrize("status,body,problem", [
    (500, {"error": "boom"}, "status 500"),
    (200, {"response": "success"}, "is not of type 'array'"),
    (200, [{"response": "ok"}], "'success' was expected"),
    (200, [{"response": "error", "message": "unknown product"}], "'success' was expected"),
    (200, b"success", "the body is not JSON"),
])
def test_answers_that_break_the_contract_are_reported(client: Any, status: int, body: Any, problem: str) -> None:
    with Receiver(lambda req: (status, body)) as rx:
        r = client.post(ROUTE, json={"url": rx.url})
    assert r.status_code == 200
    result_ok(r.json)
    assert r.json["ok"] is False and r.json["status"] == status
    assert any(problem in p for p in r.json["problems"]), r.json["problems"]


def test_unreachable_endpoint_is_reported_not_a_500(client: Any) -> None:
    with Receiver() as rx:
        url = rx.url
    r = client.post(ROUTE, json={"url": url, "timeout": 2})  # the server is gone: connection refused
    assert r.status_code == 200 and r.json["ok"] is False and r.json["status"] is None
    assert r.json["error"] and r.json["problems"][0].startswith("no answer")


@pytest.mark.parametrize("body,status", [
    ({}, 400),                                              # no url given, none configured
    ({"url": "ftp://x"}, 400),
    ({"url": "http://127.0.0.1:9", "enable_product_designer": 2}, 400),
    ({"url": "http://127.0.0.1:9", "surprise": 1}, 400),
    ({"url": "http://127.0.0.1:9", "tenant": "nobody"}, 404),
])
def test_bad_control_requests(client: Any, body: dict[str, Any], status: int) -> None:
    r = client.post(ROUTE, json=body)
    assert r.status_code == status and r.json["message"]


def test_put_rejects_a_non_http_url_and_null_forgets(client: Any) -> None:
    assert client.put(ROUTE, json={"url": "javascript:alert(1)"}).status_code == 400
    assert client.put(ROUTE, json={"url": "http://127.0.0.1:1/x"}).json["url"] == "http://127.0.0.1:1/x"
    assert client.put(ROUTE, json={"url": None}).json["url"] is None
    assert client.post(ROUTE, json={}).status_code == 400


def test_control_route_is_behind_the_guard(app_factory: Any) -> None:
    app = app_factory(apis=["printxpand"], admin_token="s3cret")
    client = app.test_client()
    assert client.get(ROUTE).status_code == 401
    assert client.get(ROUTE, headers={"X-Sandbox-Admin-Token": "s3cret"}).status_code == 200


def test_hosts_outside_the_outbound_allow_list_are_refused(client: Any, app_factory: Any) -> None:
    r = client.put(ROUTE, json={"url": "http://printxpand-endpoint.example.com/designer"})
    assert r.status_code == 400 and "not allowed for outbound calls" in r.json["message"]
    r = client.post(ROUTE, json={"url": "http://10.0.0.1/designer"})
    assert r.status_code == 400 and "not allowed" in r.json["message"]
    # once the operator allows the host (serve --allow-host), it can be configured
    allowed = app_factory(apis=["printxpand"], outbound_hosts=["printxpand-endpoint.example.com"]).test_client()
    assert allowed.put(ROUTE, json={"url": "http://printxpand-endpoint.example.com/designer"}).status_code == 200
