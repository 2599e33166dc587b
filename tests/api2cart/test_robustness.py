"""Every documented method, called with nothing and with garbage: always the envelope, never an
internal error, never a response that breaks the contract (``app_factory`` checks that)."""
from __future__ import annotations

from mocks.core.contracts import load_document
from tests.api2cart.conftest import API_KEY, SHOPIFY

DOC = load_document("api2cart")
LAST = ("/v1.1/account.config.update.json", "/v1.1/cart.delete.json")  # they change the store's key or remove it
OPS = sorted(((path, method, op) for path, item in DOC["paths"].items() for method, op in item.items()),
             key=lambda o: (o[0] in LAST, o[0]))
GARBAGE = ["x", "-1", "99999999999999999999", "", "{", "true", "0"]
BODIES = [None, {}, {"id": "x", "name": 5, "price": "free", "order_products": "none", "order_item": [1]}, [1, 2]]


def test_no_method_fails_internally(app_factory):
    client = app_factory(apis=["api2cart"]).test_client()
    for path, method, op in OPS:
        names = [p["name"] for p in op.get("parameters", []) if "name" in p][:40]
        for n, query in enumerate([{}] + [{name: g for name in names} for g in GARBAGE]):
            body = BODIES[n % len(BODIES)] if "requestBody" in op else None
            resp = client.open("/api2cart" + path, method=method.upper(),
                               query_string={**query, "api_key": API_KEY, "store_key": SHOPIFY}, json=body)
            assert resp.status_code == 200, (path, query, resp.get_data())
            data = resp.get_json()
            assert data["return_code"] != 9, (path, query, body, data)
            assert isinstance(data["return_message"], str) and isinstance(data["result"], dict)
