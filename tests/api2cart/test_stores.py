"""account.cart.add per platform, account.cart.list, account.config.update, cart.info, cart.delete."""
from __future__ import annotations

import pytest

from tests.api2cart.conftest import API_KEY, BOL, MAGENTO, SHOPIFY, WOO


def add(a2c, **body):
    return a2c.call("account.cart.add", "POST", store_key=None, body=body)


@pytest.mark.parametrize("body, code, needle", [
    ({"cart_id": "Shopify", "store_url": "https://new.myshopify.com"}, 114, "shopify_access_token"),
    ({"cart_id": "Shopify", "store_url": "https://new.myshopify.com", "shopify_api_key": "k"}, 114, "shopify_api_password"),
    ({"cart_id": "Shopify", "shopify_access_token": "t"}, 114, "store_url"),
    ({"cart_id": "WoocommerceApi", "store_url": "https://w.example.com", "wc_consumer_key": "ck"}, 114, "wc_consumer_secret"),
    ({"cart_id": "Bol", "bol_api_key": "k", "bol_api_secret": "s"}, 114, "bol_retailer_id"),
    ({"cart_id": "Shopify", "store_url": "not a url", "shopify_access_token": "t"}, 100, "not a url"),
    ({"cart_id": "Woocommerce", "store_url": "https://w2.example.com"}, 102, "bridge"),
    ({"cart_id": "Magento1212", "store_url": "https://m2.example.com", "store_key": "xyz"}, 101, "xyz"),
    ({"cart_id": "Woocommerce", "store_url": "https://w2.example.com", "ftp_host": "ftp.example.com"}, 105, "ftp_user"),
    ({"cart_id": "Woocommerce", "store_url": "https://w2.example.com", "ftp_host": "ftp.example.com",
      "ftp_user": "u", "ftp_password": "p", "ftp_store_dir": "public"}, 106, "public"),
    ({"cart_id": "Shopify", "store_url": "https://x.myshopify.com", "shopify_access_token": "invalid-token"}, 103, "Shopify"),
    ({"cart_id": "Shopify", "store_url": "https://demo-outfitters.myshopify.com/", "shopify_access_token": "t"}, 8, "exists"),
    ({"cart_id": "Bol", "bol_api_key": "51369628-feee-11ed-be56-0242ac120002", "bol_api_secret": "demo-secret",
      "bol_retailer_id": 145001}, 8, "exists"),
    ({"store_url": "https://x.example.com"}, 114, "cart_id"),
    ({"cart_id": "NoSuchCart", "store_url": "https://x.example.com"}, 109, "cart_id"),
])
def test_cart_add_rules(a2c, body, code, needle):
    data = add(a2c, **body)
    assert data["return_code"] == code, data
    assert needle in data["return_message"], data
    assert data["result"] == {}
    assert a2c.ok("account.cart.list", store_key=None)["carts_count"] == 5  # nothing was added


@pytest.mark.parametrize("body", [
    {"cart_id": "Shopify", "store_url": "https://fresh.myshopify.com", "shopify_access_token": "shpat_x"},
    {"cart_id": "Shopify", "store_url": "https://fresh.myshopify.com", "shopify_api_key": "k", "shopify_api_password": "p"},
    {"cart_id": "Woocommerce", "store_url": "https://fresh.example.com", "bridge_url": "https://fresh.example.com/b/bridge.php"},
    {"cart_id": "Woocommerce", "store_url": "https://fresh.example.com", "ftp_host": "ftp.fresh.example.com",
     "ftp_user": "u", "ftp_password": "p", "ftp_store_dir": "/public_html"},
    {"cart_id": "Magento1212", "store_url": "https://fresh.example.com", "store_key": "ab37fc230bc5df63a5be1b11220949be"},
    {"cart_id": "Bol", "bol_api_key": "k2", "bol_api_secret": "s2", "bol_retailer_id": 1},
    {"cart_id": "WoocommerceApi", "store_url": "https://fresh.example.com", "wc_consumer_key": "ck", "wc_consumer_secret": "cs"},
])
def test_cart_add_then_use_the_new_store(a2c, body):
    key = a2c.ok("account.cart.add", "POST", store_key=None, body=body)["store_key"]
    assert len(key) == 32
    carts = a2c.ok("account.cart.list", store_key=None)
    assert carts["carts_count"] == 6
    assert any(c["store_key"] == key and c["cart_id"] == body["cart_id"] for c in carts["carts"])
    assert a2c.ok("product.count", store_key=key) == {"products_count": 0}   # a new store starts empty
    pid = a2c.ok("product.add", "POST", store_key=key, body={"name": "n", "model": "m", "description": "d", "price": 2})
    assert a2c.ok("product.info", store_key=key, id=pid["product_id"])["name"] == "n"


def test_cart_list_filters(a2c):
    one = a2c.ok("account.cart.list", store_key=SHOPIFY)  # store_key is a filter here
    assert one["carts_count"] == 1 and one["carts"][0]["cart_id"] == "Shopify"
    assert a2c.ok("account.cart.list", store_key=None, store_url="https://woo.demo-outfitters.example.com")["carts_count"] == 1


def test_cart_info(a2c):
    info = a2c.ok("cart.info", store_key=MAGENTO)
    assert info["url"] == "https://magento2.demo-outfitters.example.com"
    assert info["version"].startswith("2.4")
    assert info["stores_info"][0]["currency"]["iso3"] == "USD"
    assert a2c.ok("cart.info", store_key=BOL)["url"] == ""


def test_config_update_changes_key_and_label(a2c):
    new_key = "0123456789abcdef0123456789abcdef"
    res = a2c.ok("account.config.update", "PUT", store_key=WOO, new_store_key=new_key, custom_label="Renamed")
    assert res["updated_items"] == 2
    a2c.err(4, "product.count", store_key=WOO)
    assert a2c.ok("product.count", store_key=new_key) == {"products_count": 30}  # same data, new key
    carts = a2c.ok("account.cart.list", store_key=None, custom_label="Renamed")
    assert carts["carts"][0]["store_key"] == new_key
    a2c.err(101, "account.config.update", "PUT", store_key=new_key, new_store_key="short")
    a2c.err(8, "account.config.update", "PUT", store_key=new_key, new_store_url="https://demo-outfitters.myshopify.com")
    a2c.err(4, "account.config.update", "PUT", store_key=None, custom_label="x")


def test_cart_delete(a2c):
    assert a2c.ok("cart.delete", "DELETE", store_key=WOO) == {"store": "deleted"}
    a2c.err(4, "product.list", store_key=WOO)
    assert a2c.ok("account.cart.list", store_key=None)["carts_count"] == 4
    # the URL is free again
    key = a2c.ok("account.cart.add", "POST", store_key=None, body={
        "cart_id": "Woocommerce", "store_url": "https://woo.demo-outfitters.example.com", "store_key": WOO})["store_key"]
    assert key == WOO
    assert a2c.ok("product.count", store_key=WOO) == {"products_count": 0}


def test_new_store_is_a_registered_tenant(app, a2c):
    key = a2c.ok("account.cart.add", "POST", store_key=None, body={
        "cart_id": "Shopify", "store_url": "https://t.myshopify.com", "shopify_access_token": "t"})["store_key"]
    sandbox = app.extensions["sandbox"]
    creds = [t.credentials for t in sandbox.tenants("api2cart").values()]
    assert any(c.get("store_key") == key for c in creds)
    listed = app.test_client().get("/__sandbox/credentials").get_json()["api2cart"]
    assert any(s["store_key"] == key for s in listed["stores"])
    assert {s["cart_id"] for s in listed["stores"]} >= {"Shopify", "Woocommerce", "Magento1212", "Bol"}


def test_supported_platforms_list_the_credential_sets(a2c):
    res = a2c.ok("account.supported_platforms", store_key=None)
    by_id = {p["cart_id"]: p for p in res["supported_platforms"]}
    assert res["supported_platforms_count"] == len(by_id) >= 70
    # every cart_id the official document's account.cart.add accepts
    import json
    from pathlib import Path
    official = json.loads((Path(__file__).resolve().parents[2] / "schemas/api2cart/official/api2cart-openapi.json").read_text())
    assert set(official["components"]["schemas"]["AccountCartAdd"]["properties"]["cart_id"]["enum"]) == set(by_id)

    def sets(cart_id):
        return [[p["name"] for p in s] for s in by_id[cart_id]["params"]["required"]]

    assert sets("Shopify") == [["store_url", "shopify_access_token"], ["store_url", "shopify_api_key", "shopify_api_password"]]
    assert sets("Bol") == [["bol_api_key", "bol_api_secret", "bol_retailer_id"]]  # a marketplace: no store URL
    assert ["store_url", "bridge_url"] in sets("Woocommerce") and by_id["Woocommerce"]["cart_method"] == "bridge"
    assert {p["name"] for p in by_id["Shopify"]["params"]["additional"]} >= {"shopify_shared_secret", "verify"}
    described = by_id["Shopify"]["params"]["required"][0][1]
    assert described["description"] == "Access token authorizing the app to access resources on behalf of a user"


@pytest.mark.parametrize("cart_id, credentials", [
    ("EtsyAPIv3", {"etsy_client_id": "c", "etsy_refresh_token": "r"}),
    ("Squarespace", {"store_url": "https://sq.example.com", "squarespace_api_key": "k"}),
    ("BigcommerceApi", {"store_url": "https://bc.example.com", "bigcommerceapi_client_id": "c",
                        "bigcommerceapi_access_token": "t", "bigcommerceapi_context": "stores/x"}),
    ("Magento2Api", {"store_url": "https://m2api.example.com", "magento_access_token": "t"}),
])
def test_every_platform_connects_with_one_of_its_sets(a2c, cart_id, credentials):
    key = a2c.ok("account.cart.add", "POST", store_key=None, body={"cart_id": cart_id, **credentials})["store_key"]
    assert a2c.ok("cart.info", store_key=key)["url"] == credentials.get("store_url", "")
    *given, (missing, _) = credentials.items()
    data = add(a2c, cart_id=cart_id, **dict(given))
    assert data["return_code"] == 114 and data["return_message"] == f"Parameter '{missing}' is required", data


def test_cart_list_params_and_exclude(a2c):
    rows = a2c.ok("account.cart.list", store_key=None, params="url,store_key")["carts"]
    assert set(rows[0]) == {"id", "url", "store_key"}
    rows = a2c.ok("account.cart.list", store_key=None, exclude="store_key,total_calls")["carts"]
    assert "store_key" not in rows[0] and "cart_id" in rows[0]
