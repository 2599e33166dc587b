"""The manual bridge flow, as the FAQ lists it (store_key; "For Open-source Carts"):

  • Call cart.bridge method from which you could get store_key.
  • Call bridge.download method and pass store_key which was generated in cart_bridge.
  • Upload the bridge to the root ftp server folder.
  • Call account.cart.add method [cart_create] and paste previously generated store_url.

and the bridge itself: "a zip file named "bridge.zip". Extract the file. It will contain the
"bridge2cart" folder."
"""
from __future__ import annotations

import io
import zipfile

import pytest

from tests.api2cart.conftest import API_KEY, SECOND_KEY, SHOPIFY, WOO

DOWNLOAD = "/api2cart/v1.1/bridge.download.file"


def download(client, store_key, api_key=API_KEY, headers=False, **query):
    if headers:
        return client.get(DOWNLOAD, query_string=query, headers={"x-api-key": api_key, "x-store-key": store_key})
    return client.get(DOWNLOAD, query_string={"api_key": api_key, "store_key": store_key, **query})


def files(resp):
    assert resp.status_code == 200 and resp.mimetype == "application/zip", resp.get_data()[:300]
    assert 'filename="bridge.zip"' in resp.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(resp.get_data()))
    return {i.filename: (i, archive.read(i)) for i in archive.infolist()}


def test_the_faq_steps_connect_an_opencart_store(client, a2c):
    issued = a2c.ok("cart.bridge", store_key=None)
    key = issued["store_key"]
    assert len(key) == 32 and int(key, 16) >= 0
    assert issued["bridge"].endswith(f"/api2cart/v1.1/bridge.download.file?store_key={key}")

    got = files(download(client, key))
    assert set(got) == {"bridge2cart/", "bridge2cart/bridge.php", "bridge2cart/config.php"}
    assert f"define('A2C_STORE_KEY', '{key}');".encode() in got["bridge2cart/config.php"][1]
    php = got["bridge2cart/bridge.php"][1].decode()
    assert php.startswith("<?php") and "BRIDGE INSTALLED." in php and "API2Cart" in php
    assert got["bridge2cart/bridge.php"][0].external_attr >> 16 == 0o100644  # FAQ: 644 for bridge.php
    assert got["bridge2cart/"][0].external_attr >> 16 == 0o40755  # FAQ: 755 for the folder

    # "Call account.cart.add method and paste previously generated store_url"
    added = a2c.ok("account.cart.add", "POST", store_key=None, body={
        "cart_id": "Opencart14", "store_url": "https://manual-bridge.example.com", "store_key": key})
    assert added == {"store_key": key}
    carts = a2c.ok("account.cart.list", store_key=None)["carts"]
    mine = next(c for c in carts if c["store_key"] == key)
    assert mine["cart_id"] == "Opencart14" and mine["bridge_version"]
    assert a2c.on(key).ok("cart.info")["url"] == "https://manual-bridge.example.com"
    assert a2c.on(key).ok("product.count")["products_count"] == 0  # the store answers store methods


def test_cart_create_is_the_faqs_other_name(client, a2c):
    key = a2c.ok("cart.bridge", store_key=None)["store_key"]
    files(download(client, key, headers=True))
    body = {"cart_id": "Prestashop", "store_url": "https://cart-create.example.com", "store_key": key}
    assert a2c.ok("cart.create", "POST", store_key=None, body=body) == {"store_key": key}
    assert a2c.on(key).ok("cart.info")["db_prefix"] == "ps_"
    # the key now opens a store: adding it again is 8, as for account.cart.add
    a2c.err(8, "cart.create", "POST", store_key=None, body={**body, "store_url": "https://other.example.com"})


def test_a_bridge_never_downloaded_is_not_on_the_store(a2c):
    key = a2c.ok("cart.bridge", store_key=None)["store_key"]
    msg = a2c.err(102, "account.cart.add", "POST", store_key=None, body={
        "cart_id": "Opencart14", "store_url": "https://not-uploaded.example.com", "store_key": key})
    assert key in msg and "bridge.download" in msg
    assert key not in {c["store_key"] for c in a2c.ok("account.cart.list", store_key=None)["carts"]}


@pytest.mark.parametrize("store_key, code", [("f" * 32, 4), ("not-a-key", 4), (None, 4)])
def test_unknown_store_keys_get_store_access_denied(client, store_key, code):
    query = {"api_key": API_KEY} if store_key is None else {"api_key": API_KEY, "store_key": store_key}
    resp = client.get(DOWNLOAD, query_string=query)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["return_code"] == code and body["result"] == {} and body["return_message"]


def test_a_key_of_another_account_is_denied(client, a2c):
    key = a2c.ok("cart.bridge", store_key=None)["store_key"]
    body = download(client, key, api_key=SECOND_KEY).get_json()
    assert body["return_code"] == 4


def test_no_api_key_is_incorrect_api_key(client, a2c):
    key = a2c.ok("cart.bridge", store_key=None)["store_key"]
    assert client.get(DOWNLOAD, query_string={"store_key": key}).get_json()["return_code"] == 2


def test_a_bridge_stores_own_key_downloads_its_bridge_again(client):
    got = files(download(client, WOO))
    assert f"'{WOO}'".encode() in got["bridge2cart/config.php"][1]


def test_an_api_platform_has_no_bridge(client):
    body = download(client, SHOPIFY).get_json()
    assert body["return_code"] == 115 and "bridge.download" in body["return_message"]


def test_whitelabel_bridge_does_not_name_api2cart(client, a2c):
    key = a2c.ok("cart.bridge", store_key=None)["store_key"]
    php = files(download(client, key, whitelabel="true"))["bridge2cart/bridge.php"][1].decode()
    assert "API2Cart" not in php and "BRIDGE INSTALLED." in php
    assert download(client, key, whitelabel="maybe").get_json()["return_code"] == 109


def test_the_same_key_downloads_the_same_bytes(client, a2c):
    key = a2c.ok("cart.bridge", store_key=None)["store_key"]
    assert download(client, key).get_data() == download(client, key).get_data()


def test_each_cart_bridge_call_issues_a_new_key(a2c):
    keys = {a2c.ok("cart.bridge", store_key=None)["store_key"] for _ in range(3)}
    assert len(keys) == 3


def test_cart_create_without_store_id_and_with_the_official_fields(a2c):
    """The official CartCreate requires store_id; the FAQ's cart_create call has none: both work."""
    for n, extra in enumerate(({}, {"store_id": "1"})):
        key = a2c.ok("cart.create", "POST", store_key=None, body={
            "cart_id": "Shopify", "store_url": f"https://cart-create-{n}.myshopify.com",
            "shopify_access_token": "shpat_cc", **extra})["store_key"]
        assert a2c.on(key).ok("cart.info")["url"] == f"https://cart-create-{n}.myshopify.com"
    a2c.err(114, "cart.create", "POST", store_key=None, body={"store_url": "https://x.example.com"})


def test_the_journal_keeps_the_issued_key_secret(client, a2c):
    key = a2c.ok("cart.bridge", store_key=None)["store_key"]
    files(download(client, key))
    entries = client.get("/__sandbox/requests").get_json()["requests"]
    assert entries and key not in str(entries)
