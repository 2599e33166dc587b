"""The envelope, the return codes reached by their natural causes, and authentication."""
from __future__ import annotations

from mocks.api2cart import errors as X
from tests.api2cart.conftest import (API_KEY, BOL, DISABLED_KEY, NO_ACCESS_KEY, PRESTA, SECOND_KEY, SECOND_SHOPIFY,
                                     SHOPIFY, WOO)


def test_the_27_return_codes_are_declared_once():
    assert sorted(X.RETURN_CODES) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 101, 102, 103, 104, 105, 106, 107,
                                      109, 110, 111, 112, 113, 114, 115, 116]


def test_success_envelope(a2c):
    data = a2c.call("product.list", count=2)
    assert data["return_code"] == 0 and data["return_message"] == ""
    assert data["result"]["products_count"] == 30
    assert [p["id"] for p in data["result"]["product"]] == ["1", "2"]
    assert set(data["pagination"]) == {"previous", "next"}


def test_auth_by_query_and_by_headers(a2c):
    by_query = a2c.ok("product.count")
    by_headers = a2c.ok("product.count", headers=True)
    assert by_query == by_headers == {"products_count": 30}


def test_missing_or_wrong_api_key_is_2(a2c):
    assert "api_key" in a2c.err(2, "product.list", api_key=None)
    assert a2c.err(2, "product.list", api_key="0" * 32) == "Incorrect API Key"
    a2c.err(2, "account.cart.list", api_key="nope", store_key=None, headers=True)


def test_wrong_or_missing_store_key_is_4(a2c):
    a2c.err(4, "product.list", store_key="f" * 32)
    a2c.err(4, "product.list", store_key=None)
    a2c.err(4, "order.list", store_key="f" * 32, headers=True)


def test_account_methods_need_the_api_key_only(a2c):
    carts = a2c.ok("account.cart.list", store_key=None)
    assert carts["carts_count"] == 5
    assert {c["cart_id"] for c in carts["carts"]} == {"Shopify", "Woocommerce", "Magento1212", "Bol", "Prestashop"}
    assert a2c.ok("cart.list", store_key=None)["supported_carts_count"] > 20


def test_disabled_key_is_6_and_no_api_access_is_5(a2c):
    a2c.err(6, "account.cart.list", api_key=DISABLED_KEY, store_key=None)
    a2c.err(5, "account.cart.list", api_key=NO_ACCESS_KEY, store_key=None)


def test_disconnected_store_is_104(a2c):
    a2c.err(104, "product.list", store_key=PRESTA)


def test_unknown_method_is_3(a2c, client):
    assert "product.explode" in a2c.err(3, "product.explode")
    resp = client.get("/api2cart/v1.1/product.list", query_string={"api_key": API_KEY, "store_key": SHOPIFY})
    assert resp.status_code == 200 and resp.get_json()["return_code"] == 3
    resp = client.get("/api2cart/nothing-here")
    assert resp.status_code == 200 and resp.get_json() == {"return_code": 3, "return_message": X.RETURN_CODES[3],
                                                           "result": {}}


def test_wrong_http_method_is_109(a2c):
    assert "HTTP GET" in a2c.err(109, "product.list", "POST", body={})


def test_validation_messages_in_vendor_style(a2c):
    assert a2c.err(109, "product.list", start="abc") == \
        "Parameter 'start' is not valid. The required type of parameter is unsigned integer."
    assert a2c.err(109, "product.list", count=-1) == \
        "Parameter 'count' is not valid. The required type of parameter is unsigned integer."
    assert "boolean" in a2c.err(109, "product.list", avail_view="maybe")


def test_count_over_250_is_111(a2c):
    assert "250" in a2c.err(111, "product.list", count=251)
    assert len(a2c.ok("product.list", count=250)["product"]) == 30


def test_required_parameter_is_114(a2c):
    assert a2c.err(114, "product.info") == "Parameter 'id' is required"
    assert "price" in a2c.err(114, "product.add", "POST", body={"name": "x", "model": "m", "description": "d"})


def test_item_not_found_is_112(a2c):
    assert "999" in a2c.err(112, "product.info", id="999")
    a2c.err(112, "order.info", order_id="999")


def test_malformed_json_body_is_109(client):
    resp = client.post("/api2cart/v1.1/product.add.json", data=b"{nope", content_type="application/json",
                       headers={"x-api-key": API_KEY, "x-store-key": SHOPIFY})
    assert resp.status_code == 200 and resp.get_json()["return_code"] == 109


def test_tenants_are_isolated(a2c):
    pid = a2c.ok("product.add", "POST", body={"name": "Only here", "model": "iso-1", "description": "d", "price": 1})[
        "product_id"]
    a2c.ok("product.info", id=pid)
    a2c.err(112, "product.info", id=pid, store_key=WOO)
    a2c.err(4, "product.list", api_key=SECOND_KEY, store_key=SHOPIFY)     # another account's store
    a2c.err(4, "product.list", api_key=API_KEY, store_key=SECOND_SHOPIFY)
    assert a2c.ok("account.cart.list", api_key=SECOND_KEY, store_key=None)["carts_count"] == 2
    assert a2c.ok("product.count", api_key=SECOND_KEY, store_key=SECOND_SHOPIFY) == {"products_count": 30}


def test_store_request_limit_is_7_and_account_limit_is_10(app_factory):
    from tests.api2cart.conftest import A2C
    app = app_factory(apis=["api2cart"], options={"api2cart": {"store_request_limit": 2}})
    a2c = A2C(app.test_client())
    a2c.ok("product.count")
    a2c.ok("product.count")
    a2c.err(7, "product.count")
    a2c.ok("product.count", store_key=BOL)  # a limit per store
    app = app_factory(apis=["api2cart"], options={"api2cart": {"account_request_limit": 1}})
    a2c = A2C(app.test_client())
    a2c.ok("cart.list", store_key=None)
    a2c.err(10, "cart.list", store_key=None)


def test_response_fields_and_params(a2c):
    data = a2c.call("product.list", count=1, response_fields="{return_code,result{product{id,name}}}")
    assert data == {"return_code": 0, "return_message": "", "result": {"product": [{"id": "1", "name": "Bag"}]}}
    one = a2c.ok("product.info", id="1", params="id,u_model,price")
    assert one == {"id": "1", "u_model": "bag_01", "price": 10.0}
    full = a2c.ok("product.info", id="1", params="force_all", exclude="images")
    assert "images" not in full and "u_sku" in full


def test_keys_never_reach_the_journal(a2c, client):
    a2c.ok("product.count")
    a2c.ok("product.count", headers=True)
    a2c.ok("account.cart.add", "POST", store_key=None, body={
        "cart_id": "Shopify", "store_url": "https://j.myshopify.com", "shopify_access_token": "SECRETTOKEN"})
    journal = client.get("/__sandbox/requests").get_data(as_text=True)
    assert "product.count" in journal
    assert API_KEY not in journal and SHOPIFY not in journal and "SECRETTOKEN" not in journal
