"""Plugin Builder "Connect" webhook (FAQ, "Plugin Builder").

A plugin built in the Plugin Builder carries the user's Callback URL and RSA public key. When the
store owner installs it and clicks "Connect", API2Cart sends a webhook to the callback with the
store's credentials, encrypted: ``{"data": base64(chunks)}`` plus the headers
``x-webhook-cart-id`` and ``x-webhook-timestamp``. The decrypted JSON holds ``store_url``,
``store_key``, ``store_root`` and ``bridge_url``, which are what ``account.cart.add`` takes.

Encryption, as the FAQ describes it: the JSON string is cut into parts of one length that
depends on the key (``key bytes - 42``: the most RSA-OAEP with SHA-1 takes, PHP openssl's
``OPENSSL_PKCS1_OAEP_PADDING``), each part is encrypted with the public key, the encrypted parts
(each ``key bytes`` long) are joined and base64-encoded. Decrypting reverses it: base64-decode,
cut into ``key bytes`` parts, decrypt each with the private key, join. The sandbox uses the
``cryptography`` library, never hand-written RSA.

Trigger: the sandbox control route ``POST /__sandbox/api2cart/plugin/connect`` (the "Connect"
click happens in a store's admin, which the sandbox does not have). The plugin has already put
the bridge in place, so the store key it reports is accepted by ``account.cart.add``.
"""
from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from mocks.api2cart import errors as X
from mocks.api2cart import models as M

if TYPE_CHECKING:  # pragma: no cover - cryptography is imported by the first plugin call, not by every start
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

#: the platforms the Plugin Builder builds plugins for (FAQ): Magento 2, OpenCart 2.x-4.x,
#: PrestaShop, Shopware 6, WooCommerce - as their bridge cart ids
PLUGIN_CARTS = {"Magento1212": "Magento 2", "Opencart14": "OpenCart", "Prestashop": "PrestaShop",
                "Shopware": "Shopware 6", "Woocommerce": "WooCommerce"}
OAEP_OVERHEAD = 2 * 20 + 2  # 2 * SHA-1 digest size + 2


def _oaep() -> padding.OAEP:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise X.A2CError(109, "Parameter 'public_key' is not valid. It must be an RSA public key in PEM format.") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 1024:
        raise X.A2CError(109, "Parameter 'public_key' is not valid. It must be an RSA key of at least 1024 bits.")
    return key


def encrypt(data: dict[str, Any], key: rsa.RSAPublicKey) -> str:
    plain = json.dumps(data, separators=(",", ":")).encode()
    size = key.key_size // 8 - OAEP_OVERHEAD
    parts = [key.encrypt(plain[i:i + size], _oaep()) for i in range(0, len(plain), size)]
    return base64.b64encode(b"".join(parts)).decode()


def decrypt(text: str, private_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The receiving side (what a user's callback does; used by tests and the docs' example)."""
    raw = base64.b64decode(text)
    size = private_key.key_size // 8
    plain = b"".join(private_key.decrypt(raw[i:i + size], _oaep()) for i in range(0, len(raw), size))
    return json.loads(plain)


def connect(sandbox: Any, account: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Queue the Connect webhook of a plugin installed on ``store_url``; answers what was sent (not the secret)."""
    from mocks.core import webhooks

    cart_id = str(body.get("cart_id") or "")
    if cart_id not in PLUGIN_CARTS:
        raise X.A2CError(109, f"Parameter 'cart_id' is not valid. The Plugin Builder builds plugins for: "
                              f"{', '.join(PLUGIN_CARTS)}.")
    callback = str(body.get("callback") or "")
    if not callback.startswith(("http://", "https://")):
        raise X.invalid("callback", "URL")
    key = load_public_key(str(body.get("public_key") or ""))
    store_url = str(body.get("store_url") or "").rstrip("/")
    if not store_url.startswith(("http://", "https://")):
        raise X.A2CError(100, f"Incorrect store URL '{store_url}'.")
    store_key = M.new_key(account["api_key"], "plugin", store_url, cart_id)
    data = {"store_url": store_url, "store_key": store_key, "store_root": str(body.get("store_root") or ""),
            "bridge_url": str(body.get("bridge_url") or f"{store_url}/bridge2cart/bridge.php")}
    now = int(sandbox.clock.now())
    delivery = webhooks.enqueue(sandbox, api="api2cart", tenant=M.account_tenant_id(account["api_key"]), url=callback,
                                event="plugin.connect", payload={"data": encrypt(data, key)},
                                headers={"x-webhook-cart-id": cart_id, "x-webhook-timestamp": str(now)})
    return {"delivery_id": delivery["id"], "cart_id": cart_id, "store_url": store_url, "callback": callback}
