"""Live shipping rates (FAQ, "Live Shipping Rates"): ``basket.live_shipping_service.*``.

Creating a service validates its callback the way the FAQ describes: API2Cart POSTs a test rate
request (``X-Shipping-Service-Test-Request: 1``), signed in ``X-Shipping-Service-Signature``:
base64(HMAC-SHA256(JSON of the sorted ``X-Shipping-Service-*`` headers + body, signing key)); the
sandbox uses the account's API key as the signing key. The callback must answer 200 with
``{"packages_rates": [{"package_id", "rates": [{"name", "code", "total_cost", ...}]}]}``, one entry
per package. 404 fails at once; another status, or an empty/invalid 200, is tried once more; no
answer within the timeout (15 s, api option ``live_shipping_timeout``) fails with 109.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any

import requests

from mocks.api2cart import errors as X
from mocks.api2cart import models as M

_ADDRESS = {"first_name": None, "last_name": None, "address2": "", "phone": "", "company": None,
            "country": {"code2": "US", "code3": "USA", "name": "United States of America"},
            "state": {"code": "AL", "name": "Alabama"}}
_ITEM = {"product_id": "1", "model": "t1", "name": "Test Product 1", "price": 100.99, "quantity": 5.5,
         "discount_amount": None, "total_price": 555.45, "tax_percent": 21, "tax_value": 116.64, "variant_id": None,
         "weight_unit": "kg", "weight": 5.5}
#: the FAQ's own test request
TEST_REQUEST = {"packages": [
    {"id": "1", "currency_code": "USD",
     "origin": {**_ADDRESS, "postcode": "35004", "address1": "Test, 1/1", "city": "Moody"},
     "destination": {**_ADDRESS, "postcode": "35005", "address1": "Test address", "city": "Adamsville"},
     "items": [_ITEM]},
]}


def sign(headers: dict[str, str], body: bytes, key: str) -> str:
    signed = {k: v for k, v in sorted(headers.items())
              if k.lower().startswith("x-shipping-service") and k.lower() != "x-shipping-service-signature"}
    message = json.dumps(signed, separators=(",", ":")).encode() + body
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def check_rates(data: Any, packages: int) -> str | None:
    """None if the callback's answer is valid, else the vendor-style reason."""
    if not isinstance(data, dict) or not isinstance(data.get("packages_rates"), list):
        return 'Bad Response. Field "packages_rates" is required'
    if len(data["packages_rates"]) != packages:
        return f'Bad Response. Expected {packages} "packages_rates" entries, got {len(data["packages_rates"])}'
    for pkg in data["packages_rates"]:
        rates = pkg.get("rates") if isinstance(pkg, dict) else None
        if not isinstance(rates, list):
            return 'Bad Response. Field "rates" has wrong type. It must be array'
        for n, rate in enumerate(rates):
            if not isinstance(rate, dict):
                return f'Bad Response. Field "rates->{n}" has wrong type. It must be object'
            for field in ("name", "code"):
                if not isinstance(rate.get(field), str):
                    return f'Bad Response. Field "rates->{n}->{field}" has wrong type. It must be string'
            cost = rate.get("total_cost")
            if isinstance(cost, bool) or not isinstance(cost, (int, float)):
                return f'Bad Response. Field "rates->{n}->total_cost" has wrong type. It must be decimal'
    return None


def call_callback(url: str, key: str, now: float, timeout: float, service_id: str | None = None) -> None:
    """Send the test request; raise the vendor's 109 when the callback fails."""
    body = json.dumps(TEST_REQUEST, separators=(",", ":")).encode()
    reason = "no answer"
    for _ in range(2):  # an empty or invalid 200 (or a non-404 error) is tried once more
        headers = {"X-Shipping-Service-Test-Request": "1", "X-Shipping-Service-Request-Timestamp": str(int(now))}
        if service_id:
            headers["X-Shipping-Service-Id"] = service_id
        headers["X-Shipping-Service-Signature"] = sign(headers, body, key)
        try:
            resp = requests.post(url, data=body, timeout=timeout, allow_redirects=False, headers={
                **headers, "Content-Type": "application/json", "Accept": "application/json"})
        except requests.Timeout:
            raise X.A2CError(109, f"Callback {url} did not respond within {timeout:g} sec") from None
        except requests.RequestException as exc:
            reason = f"Callback {url} is not reachable: {type(exc).__name__}"
            continue
        if resp.status_code == 404:
            raise X.A2CError(109, f"Callback {url} returned HTTP 404")
        if resp.status_code != 200:
            reason = f"Callback {url} returned HTTP {resp.status_code}"
            continue
        try:
            data = resp.json()
        except ValueError:
            reason = "Bad Response. The callback did not answer JSON"
            continue
        problem = check_rates(data, len(TEST_REQUEST["packages"]))
        if problem is None:
            return
        reason = problem
    raise X.A2CError(109, reason)


def create(data: M.StoreData, store: dict[str, Any], api_key: str, p: M.Params, now: float, timeout: float) -> dict[str, Any]:
    if store["cart_id"] not in M.LIVE_SHIPPING_CARTS:
        raise X.not_supported("basket.live_shipping_service.create", store["cart_id"])
    name, callback = p.need("name"), p.need("callback")
    if not re.fullmatch(r"https?://\S+", callback):
        raise X.invalid("callback", "URL")
    limit = M.LIVE_SHIPPING_CARTS[store["cart_id"]]
    if limit is not None and data.shipping.count() >= limit:
        raise X.exists(f"{M.cart_name(store['cart_id'])} allows only {limit} live shipping service per store")
    call_callback(callback, api_key, now, timeout)
    sid = data.state.next_id("shipping_service", start=1)
    data.shipping.put(str(sid), {"id": str(sid), "name": name, "callback": callback, "callback_err_cnt": 0,
                                 "enabled_on_store": True})
    return {"id": sid}


def listing(data: M.StoreData, store: dict[str, Any], p: M.Params) -> dict[str, Any]:
    if store["cart_id"] not in M.LIVE_SHIPPING_CARTS:
        raise X.not_supported("basket.live_shipping_service.list", store["cart_id"])
    start, count = M.window(p)
    items = sorted(data.shipping.values(), key=M.id_key)
    return {"live_shipping_services": items[start:start + count]}


def delete(data: M.StoreData, store: dict[str, Any], p: M.Params) -> dict[str, Any]:
    if store["cart_id"] not in M.LIVE_SHIPPING_CARTS:
        raise X.not_supported("basket.live_shipping_service.delete", store["cart_id"])
    sid = str(p.int("id"))
    if p.int("id") is None:
        raise X.required("id")
    if not data.shipping.delete(sid):
        raise X.not_found("Live shipping service", sid)
    return {"status": True}
