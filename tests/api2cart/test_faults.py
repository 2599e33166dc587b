"""Return codes that only a scenario reaches, and how injected HTTP statuses map onto the envelope."""
from __future__ import annotations

import pytest

from mocks.api2cart import errors as X
from tests.api2cart.conftest import API_KEY, SHOPIFY

PATH = "/api2cart/v1.1/product.list.json"
Q = {"api_key": API_KEY, "store_key": SHOPIFY}


def activate(client, action, match=None):
    rule = {"match": match or {"api": "api2cart"}, "when": {"nth": [1]}, "action": action}
    r = client.post("/__sandbox/scenarios", json={"name": "a2c-test", "seed": 1, "rules": [rule]})
    assert r.status_code == 201, r.get_json()


@pytest.mark.parametrize("action, status, code", [
    ({"status": 200, "return_code": 110}, 200, 110),
    ({"status": 200, "return_code": 107}, 200, 107),
    ({"status": 200, "return_code": 116}, 200, 116),
    ({"status": 200, "return_code": 1}, 200, 1),
    ({"status": 429}, 429, 7),
    ({"status": 503}, 503, 1),
    ({"status": 500}, 500, 9),
])
def test_injected_faults_answer_the_envelope(client, action, status, code):
    activate(client, action)
    resp = client.get(PATH, query_string=Q)
    assert resp.status_code == status
    body = resp.get_json()
    assert body["return_code"] == code and body["result"] == {} and body["return_message"]
    nxt = client.get(PATH, query_string=Q)  # the rule fired once only
    assert nxt.status_code == 200 and nxt.get_json()["return_code"] == 0


@pytest.mark.parametrize("code", sorted(c for c in X.RETURN_CODES if c))
def test_every_code_renders(code):
    body, status, _ = X.error_body(X.fault_error({"status": 200, "return_code": code}))
    assert status == 200 and body == {"return_code": code, "return_message": X.RETURN_CODES[code], "result": {}}


def test_generic_errors_map_onto_codes():
    from mocks.core import errors as E
    cases = [(E.Unauthorized(), 2), (E.Forbidden(), 5), (E.NotFound(), 3), (E.Conflict(), 113),
             (E.TooManyRequests(), 7), (E.InternalError(), 9), (E.MalformedBody(), 109), (E.PayloadTooLarge(), 109),
             (E.UnsupportedMediaType(), 109), (E.for_status(503), 1),
             (E.ValidationFailed(errors=[{"pointer": "/query/count", "reason": "'x' is not of type 'integer'"}]), 109),
             (E.ValidationFailed(errors=[{"pointer": "/body", "reason": "'name' is a required property"}]), 114)]
    for error, code in cases:
        body, status, _ = X.error_body(error)
        assert status == 200 and body["return_code"] == code, (error, body)
