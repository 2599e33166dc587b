"""The Plugin Builder "Connect" webhook (encrypted store credentials) and polled-platform webhooks."""
from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mocks.core import webhooks as core_webhooks
from tests.api2cart.conftest import MAGENTO, WOO
from tests.api2cart.receiver import Receiver

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def decrypt_like_the_faq(text: str) -> dict:
    """The FAQ's steps, on the receiving side: base64-decode, cut into key-length parts, decrypt each
    with the private key (OAEP), join, parse the JSON."""
    raw = base64.b64decode(text)
    size = KEY.key_size // 8
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    return json.loads(b"".join(KEY.decrypt(raw[i:i + size], oaep) for i in range(0, len(raw), size)))


def test_connect_webhook_carries_encrypted_credentials_that_add_the_store(app, a2c):
    sandbox = app.extensions["sandbox"]
    control = app.test_client()
    long_root = "/var/www/" + "deep/" * 60 + "shop"  # more than one RSA block of plaintext
    with Receiver(lambda req: (200, {"ok": True})) as rx:
        r = control.post("/__sandbox/api2cart/plugin/connect", json={
            "callback": rx.url + "/connect", "public_key": PUBLIC_PEM, "cart_id": "Woocommerce",
            "store_url": "https://plugin-shop.example.com", "store_root": long_root})
        assert r.status_code == 202, r.get_data()
        assert "store_key" not in r.get_json()  # the secret travels encrypted only
        core_webhooks.deliver_due(sandbox)
        assert len(rx.requests) == 1
        req = rx.requests[0]
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["x-webhook-cart-id"] == "Woocommerce" and headers["x-webhook-timestamp"].isdigit()
    assert not [k for k in headers if k.startswith("x-sandbox")], headers  # a real receiver sees none
    body = json.loads(req["raw"])
    blocks, rest = divmod(len(base64.b64decode(body["data"])), 256)
    assert set(body) == {"data"} and rest == 0 and blocks >= 2  # chunked: several 2048-bit blocks
    creds = decrypt_like_the_faq(body["data"])
    assert set(creds) == {"store_url", "store_key", "store_root", "bridge_url"}
    assert creds["store_url"] == "https://plugin-shop.example.com" and creds["store_root"] == long_root
    assert creds["bridge_url"] == "https://plugin-shop.example.com/bridge2cart/bridge.php"
    # FAQ: "As a result, you will receive data that can be used in the account.cart.add method"
    added = a2c.ok("account.cart.add", "POST", store_key=None, body={"cart_id": "Woocommerce", **creds})
    assert added == {"store_key": creds["store_key"]}
    assert a2c.ok("cart.info", store_key=creds["store_key"])["url"] == "https://plugin-shop.example.com"


def test_connect_rejects_bad_input_in_the_control_planes_shape(app):
    control = app.test_client()
    base = {"callback": "http://127.0.0.1:9/x", "public_key": PUBLIC_PEM, "cart_id": "Woocommerce",
            "store_url": "https://x.example.com"}
    for bad in ({"public_key": "not a key"}, {"cart_id": "Shopify"}, {"callback": "ftp://x"}, {"store_url": "x"}):
        r = control.post("/__sandbox/api2cart/plugin/connect", json={**base, **bad})
        assert r.status_code == 400, (bad, r.get_data())
        assert "error" in r.get_json()
    assert control.post("/__sandbox/api2cart/plugin/connect", json={**base, "api_key": "nope"}).status_code == 404


def test_polled_platforms_deliver_at_the_next_300_second_tick(app, a2c):
    """FAQ: Magento/OpenCart have no native webhooks; API2Cart polls every 300 s."""
    sandbox = app.extensions["sandbox"]
    with Receiver(lambda req: (200, {})) as rx:
        for store in (MAGENTO, WOO):
            a2c.ok("webhook.create", "POST", store_key=store, body={"entity": "product", "action": "add", "callback": rx.url + "/" + store[:6]})
            a2c.ok("product.add", "POST", store_key=store, body={"name": "n", "model": "poll-1", "description": "d", "price": 1})
        core_webhooks.deliver_due(sandbox)
        assert [r["path"] for r in rx.requests] == ["/" + WOO[:6]]  # WooCommerce: native, at once
        pending = [d for d in core_webhooks.listing(sandbox, api="api2cart") if d["status"] == "pending"]
        assert len(pending) == 1 and 0 < pending[0]["next_attempt_at"] - sandbox.clock.now() <= 300
        sandbox.clock.advance(300)
        core_webhooks.deliver_due(sandbox)
        assert sorted(r["path"] for r in rx.requests) == sorted(["/" + WOO[:6], "/" + MAGENTO[:6]])
        assert rx.requests[-1]["headers"]["X-Webhook-Cart-Id"] == "Magento1212"
