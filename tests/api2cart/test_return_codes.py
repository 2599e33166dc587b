"""Every one of the 27 documented return codes, each reached by its natural cause (or, for the
codes only the platform or the service itself produces, by a ready scenario from scenarios/)."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from mocks.api2cart import errors as X
from tests.api2cart.conftest import (A2C, API_KEY, DISABLED_KEY, NO_ACCESS_KEY, PRESTA, SECOND_SHOPIFY, SHOPIFY,
                                     WOO)
from tests.api2cart.test_catalog_orders import ORDER

BRIDGE = {"cart_id": "Woocommerce", "store_url": "https://codes.example.com"}


def add_store(a2c: A2C, **body: Any) -> dict[str, Any]:
    return a2c.call("account.cart.add", "POST", store_key=None, body=body)


def scenario(name: str, method: str, http: str = "GET", **kw: Any) -> Callable[[Any], dict[str, Any]]:
    """Activate a ready scenario from the library, then call."""
    def run(env: Any) -> dict[str, Any]:
        client = env.app.test_client()
        assert client.post("/__sandbox/scenarios", json={"name": name}).status_code == 201
        return env.a2c.call(method, http, **kw)
    return run


def limited(option: str, method: str, **kw: Any) -> Callable[[Any], dict[str, Any]]:
    def run(env: Any) -> dict[str, Any]:
        a2c = A2C(env.factory(apis=["api2cart"], options={"api2cart": {option: 1}}).test_client())
        a2c.ok(method, **kw)
        return a2c.call(method, **kw)
    return run


def injected(status: int, method: str = "product.count") -> Callable[[Any], dict[str, Any]]:
    def run(env: Any) -> dict[str, Any]:
        client = env.app.test_client()
        rule = {"match": {"api": "api2cart"}, "when": {"always": True}, "action": {"status": status}}
        assert client.post("/__sandbox/scenarios", json={"name": f"inject-{status}", "rules": [rule]}).status_code == 201
        resp = client.get(f"/api2cart/v1.1/{method}.json", query_string={"api_key": API_KEY, "store_key": SHOPIFY})
        assert resp.status_code == status  # the injected HTTP status, the envelope inside
        return resp.get_json()
    return run


def unknown_method(env: Any) -> dict[str, Any]:
    resp = env.app.test_client().get("/api2cart/v1.1/product.teleport.json", query_string={"api_key": API_KEY})
    return resp.get_json()


def duplicate_return(env: Any) -> dict[str, Any]:
    c = env.a2c.on(WOO)
    oid = c.ok("order.add", "POST", body={**ORDER, "order_status": "complete"})["order_id"]
    body = {"order_id": oid, "return_status_id": "pending", "return_action_id": "refund", "return_reason_id": "defective",
            "order_products": [{"order_product_id": "1", "order_product_quantity": 3, "order_product_reason_id": "defective",
                                "order_product_action_id": "refund"}]}
    c.ok("order.return.add", "POST", body=body)
    return c.call("order.return.add", "POST", body=body)  # nothing left to return


#: return_code -> (natural cause or scenario, how to reach it)
CAUSES: dict[int, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    0: ("success", lambda env: env.a2c.call("product.count")),
    1: ("scenario: injected 503", injected(503)),
    2: ("unknown api_key", lambda env: env.a2c.call("product.count", api_key="0" * 32)),
    3: ("unknown method", unknown_method),
    4: ("another account's store_key", lambda env: env.a2c.call("product.count", store_key=SECOND_SHOPIFY)),
    5: ("a plan without API access", lambda env: env.a2c.call("cart.list", api_key=NO_ACCESS_KEY, store_key=None)),
    6: ("a disabled API key", lambda env: env.a2c.call("cart.list", api_key=DISABLED_KEY, store_key=None)),
    7: ("store request limit (option store_request_limit)", limited("store_request_limit", "product.count")),
    8: ("the store URL is already in the account",
        lambda env: add_store(env.a2c, cart_id="Shopify", store_url="https://demo-outfitters.myshopify.com",
                              shopify_access_token="t")),
    9: ("scenario: injected 500", injected(500)),
    10: ("account request limit (option account_request_limit)",
         limited("account_request_limit", "cart.list", store_key=None)),
    100: ("a store URL that is not a URL",
          lambda env: add_store(env.a2c, cart_id="Shopify", store_url="shop", shopify_access_token="t")),
    101: ("a store_key that is not 32 hex characters", lambda env: add_store(env.a2c, **BRIDGE, store_key="short")),
    102: ("a bridge platform without store_key, bridge_url or FTP data", lambda env: add_store(env.a2c, **BRIDGE)),
    103: ("credentials the platform rejects",
          lambda env: add_store(env.a2c, cart_id="Shopify", store_url="https://new.myshopify.com",
                                shopify_access_token="invalid-token")),
    104: ("a disconnected store", lambda env: env.a2c.call("product.count", store_key=PRESTA)),
    105: ("FTP data without a password",
          lambda env: add_store(env.a2c, **BRIDGE, ftp_host="ftp.codes.example.com", ftp_user="u")),
    106: ("a relative FTP store directory",
          lambda env: add_store(env.a2c, **BRIDGE, ftp_host="ftp.codes.example.com", ftp_user="u", ftp_password="p",
                                ftp_store_dir="public_html")),
    107: ("scenario api2cart-bridge-upload-failed",
          scenario("api2cart-bridge-upload-failed", "account.cart.add", "POST", store_key=None,
                   body={**BRIDGE, "ftp_host": "ftp.codes.example.com", "ftp_user": "u", "ftp_password": "p"})),
    109: ("a parameter of the wrong type", lambda env: env.a2c.call("product.list", start="first")),
    110: ("scenario api2cart-platform-rate-limit",
          lambda env: [scenario("api2cart-platform-rate-limit", "product.count")(env), env.a2c.call("product.count"),
                       env.a2c.call("product.count")][-1]),
    111: ("count above 250", lambda env: env.a2c.call("product.list", count=251)),
    112: ("an id that does not exist", lambda env: env.a2c.call("product.info", id="99999")),
    113: ("more units returned than were ordered", duplicate_return),
    114: ("a required parameter missing", lambda env: env.a2c.call("product.info")),
    115: ("live shipping on Bol.com",
          lambda env: env.a2c.call("basket.live_shipping_service.list", store_key=env.bol)),
    116: ("scenario api2cart-store-busy",
          scenario("api2cart-store-busy", "product.add", "POST",
                   body={"name": "n", "model": "busy-1", "description": "d", "price": 1})),
}


class Env:
    def __init__(self, app: Any, factory: Any) -> None:
        from tests.api2cart.conftest import BOL
        self.app, self.factory, self.a2c, self.bol = app, factory, A2C(app.test_client()), BOL


def test_the_table_covers_every_documented_code():
    assert set(CAUSES) == set(X.RETURN_CODES)
    assert len(CAUSES) == 27


@pytest.mark.parametrize("code", sorted(CAUSES), ids=lambda c: f"{c}-{CAUSES[c][0].split(':')[0].replace(' ', '_')[:30]}")
def test_each_return_code_has_its_cause(app, app_factory, code):
    answer = CAUSES[code][1](Env(app, app_factory))
    assert answer["return_code"] == code, answer
    if code:
        assert answer["result"] == {} and answer["return_message"], answer
    else:
        assert answer["return_message"] == "" and answer["result"]
