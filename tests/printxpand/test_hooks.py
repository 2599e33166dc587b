"""The scenario engine's hooks as PrintXpand carries them out: item_failures, expire_token, fault errors.

The engine sets ``RequestContext.item_failures`` and calls ``Api.expire_credentials``; these tests do the same
directly, so they do not depend on a particular scenario file.
"""
from __future__ import annotations

from mocks.core import errors as E
from mocks.core.chain.context import current
from mocks.core.scenarios.item_failures import ItemFailures
from mocks.printxpand import API
from mocks.printxpand.models.products import Products
from tests.printxpand.conftest import items, oauth1, prepare, send


def with_item_failures(app, spec):
    def inject():
        current().item_failures = ItemFailures.from_spec(spec)

    app.before_request_funcs.setdefault(None, []).insert(0, inject)  # runs before the gateway, like the engine


def test_every_third_item_fails_in_its_own_result(app, client, call, creds):
    with_item_failures(app, {"every": 3, "code": 400, "message": "Could not save the product"})
    body = {"product": {str(i): {"id": str(6000 + i), "name": f"P{i}", "type": "simple"} for i in range(1, 7)}}
    r = call("POST", "/rest/V1/product/create/", body)
    assert r.status_code == 201
    got = items(r)
    assert [i["code"] for i in got] == [200, 200, 400, 200, 200, 400]
    assert got[2] == {"id": "6003", "code": 400, "status": "error", "message": "Could not save the product"}
    stored = {p["id"] for p in client.get(f"/__sandbox/data/printxpand/products?tenant={creds['tenant']}")
              .json["tenants"][creds["tenant"]]}
    assert "6003" not in stored and "6006" not in stored and "6001" in stored  # failed items are not written


def test_item_failures_by_id_on_delete(app, call):
    with_item_failures(app, {"ids": ["10002"], "code": 404, "message": "Product Id is Not Found!"})
    r = call("POST", "/rest/V1/product/delete/", {"product": ["10002", "10034"]})
    assert [i["code"] for i in items(r)] == [404, 200]


def test_model_takes_the_spec_directly(app):
    state = app.extensions["sandbox"].state("printxpand", "model-test")
    data, status = Products(state).create({"product": {"a": {"id": "1", "name": "A", "type": "simple"}}}, {"first": 1})
    assert status == 400 and data[0]["response"][0]["message"] == "Could not save the item."


def test_expire_token_revokes_the_access_token(app, client, creds):
    auth = {"Authorization": f"Bearer {creds['bearer_token']}"}
    with app.test_request_context("/printxpand/rest/V1/customer/create/", method="POST", headers=auth):
        assert API.expire_credentials(app.extensions["sandbox"], creds["tenant"], __import__("flask").request) == {
            "revoked": "access_token", "consumer_id": creds["consumer_id"]}
    r = client.post("/printxpand/rest/V1/customer/create/", json={"customer": {}}, headers=auth)
    assert r.status_code == 401 and r.get_json()["message"] == "The consumer isn't authorized to access %resources."
    r = send(client, prepare("POST", "/printxpand/rest/V1/customer/create/", oauth1(creds), {"customer": {}}))
    assert r.status_code == 401 and r.get_json() == {"message": "Access token has been revoked", "parameters": []}
    assert client.post("/__sandbox/reset", json={"api": "printxpand"}).status_code == 200
    assert client.post("/printxpand/rest/V1/customer/create/", json={"customer": {}}, headers=auth).status_code == 200


def test_fault_errors_render_in_magento_shape():
    body, status, _ = API.error_body(E.for_status(503, "Service Unavailable"))
    assert status == 503 and body["message"].startswith("Internal Error.") and body["parameters"]
    body, status, _ = API.error_body(E.TooManyRequests("Too many requests"))
    assert (status, body) == (429, {"message": "Too many requests", "parameters": []})


# -- through the scenario engine ---------------------------------------------------------------
def test_ready_partial_failure_scenario(client, call, creds):
    r = client.post("/__sandbox/scenarios", json={"name": "printxpand-partial-failure"})
    assert r.status_code == 201, r.get_data(as_text=True)
    body = {"product": {str(i): {"id": str(6100 + i), "name": f"P{i}", "type": "simple"} for i in range(1, 5)}}
    r = call("POST", "/rest/V1/product/create/", body)
    assert r.status_code == 201
    assert [(i["code"], i["message"]) for i in items(r)] == [
        (200, "Product Created Successfully!"), (200, "Product Created Successfully!"),
        (400, "Could not save the product"), (200, "Product Created Successfully!")]


def test_expire_token_scenario_then_reset(client, creds):
    scenario = {"name": "px-expire", "rules": [{"name": "expire", "match": {"api": "printxpand"},
                                                "when": {"nth": [2]},
                                                "action": {"expire_token": True, "status": 401}}]}
    assert client.post("/__sandbox/scenarios", json=scenario).status_code == 201
    auth = {"Authorization": f"Bearer {creds['bearer_token']}"}
    path = "/printxpand/rest/V1/customer/create/"
    assert client.post(path, json={"customer": {}}, headers=auth).status_code == 200
    second = client.post(path, json={"customer": {}}, headers=auth)
    assert second.status_code == 401 and set(second.get_json()) == {"message", "parameters"}
    client.delete("/__sandbox/scenarios")  # the token stays revoked without the scenario
    third = client.post(path, json={"customer": {}}, headers=auth)
    assert third.status_code == 401
    r = send(client, prepare("POST", path, oauth1(creds), {"customer": {}}))
    assert r.get_json() == {"message": "Access token has been revoked", "parameters": []}
    client.post("/__sandbox/reset", json={"api": "printxpand"})
    assert client.post(path, json={"customer": {}}, headers=auth).status_code == 200
