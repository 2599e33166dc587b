"""Live shipping rates (FAQ, "Live Shipping Rates"): ``basket.live_shipping_service.*``.

Creating a service validates its callback the way the FAQ describes: API2Cart POSTs the FAQ's
test rate request (two packages, ``X-Shipping-Service-Test-Request: 1``,
``X-Shipping-Service-Request-Timestamp``), signed in ``X-Shipping-Service-Signature``:
base64(HMAC-SHA256(JSON of the sorted ``X-Shipping-Service-*`` headers except the signature,
followed by the body, signing key)). The FAQ does not name the signing key; the sandbox uses the
account's API key. Bodies and the header JSON are encoded as PHP's ``json_encode`` does (the FAQ's
example is PHP): no spaces, ``/`` escaped as ``\\/``.

The answer must be 200 and ``{"packages_rates": [{"package_id", "rates": [...]}]}`` with one entry
per package sent (``rates`` may be empty); rate fields are typed (``name``/``code`` strings,
``total_cost`` decimal, ...), and a wrong one is the FAQ's 109 ``Bad Response. Field
"rates->0->total_cost" has wrong type. It must be decimal``. Retries, as the FAQ says: 404 is not
retried; a 200 with an empty or invalid body is tried once more after 2 s (a non-404 error
status or a refused connection is treated the same way, a sandbox choice); no answer within
15 s fails at once with ``Callback URL did not respond within 15 sec``. The waits are the real
defaults; api options ``live_shipping_timeout`` / ``live_shipping_retry_wait`` and the module's
``SLEEP`` make them injectable (tests never sleep).

Rate requests at checkout (FAQ step 2: "When the store requests rates ... we send
X-Shipping-Service-Id header") are emulated by the sandbox control route
``POST /__sandbox/api2cart/live-shipping/rates``: an invalid answer or no answer increments the
service's ``callback_err_cnt``; the next valid answer resets it to 0.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import time
from typing import Any, Callable

from mocks.api2cart import errors as X
from mocks.api2cart import models as M

TIMEOUT_S = 15.0        # FAQ: "If the callback don't respond in 15 seconds, we will throw an error"
RETRY_WAIT_S = 2.0      # FAQ: "with empty or incorrect response, we will wait 2 seconds and will try again"
SLEEP: Callable[[float], None] = time.sleep  # replaced in tests: the 2 s wait is recorded, not slept


def _address(postcode: str, address1: str, city: str) -> dict[str, Any]:
    return {"first_name": None, "last_name": None, "postcode": postcode, "address1": address1, "address2": "",
            "phone": "", "city": city,
            "country": {"code2": "US", "code3": "USA", "name": "United States of America"},
            "state": {"code": "AL", "name": "Alabama"}, "company": None}


def _item(model: str, name: str) -> dict[str, Any]:
    return {"product_id": "1", "model": model, "name": name, "price": 100.99, "quantity": 5.5, "discount_amount": None,
            "total_price": 555.45, "tax_percent": 21, "tax_value": 116.64, "variant_id": None, "weight_unit": "kg",
            "weight": 5.5}


#: the FAQ's own test request ("Test request example (from API2Cart)"): two packages
TEST_REQUEST: dict[str, Any] = {"packages": [
    {"id": "1", "currency_code": "USD", "origin": _address("35004", "Test, 1/1", "Moody"),
     "destination": _address("35005", "Test, 1/1", "Adamsville"), "items": [_item("t1", "Test Product 1")]},
    {"id": "2", "currency_code": "USD", "origin": _address("35004", "Test, 1/1", "Moody"),
     "destination": _address("35005", "Test address", "Adamsville"),
     "items": [_item("t1", "Test Product 1"),
               {**_item("t2", "Test product 2"),
                "additional_fields": {"dimensions_unit": "cm", "height": 3.5, "width": 2.15, "length": 10.36}}]},
]}


def php_json(data: Any) -> bytes:
    """``json_encode`` as PHP writes it: compact, ``/`` escaped, non-ASCII as \\uXXXX."""
    return json.dumps(data, separators=(",", ":")).replace("/", "\\/").encode()


def signed_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(headers.items()) if k.lower().startswith("x-shipping-service")
            and k.lower() != "x-shipping-service-signature"}


def sign(headers: dict[str, str], body: bytes, key: str) -> str:
    """The FAQ's algorithm: sorted X-Shipping-Service-* headers as JSON, then the body; HMAC-SHA256; base64."""
    message = php_json(signed_headers(headers)) + body
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def request_headers(key: str, now: float, body: bytes, *, test: bool, service_id: str | None = None) -> dict[str, str]:
    headers = {"X-Shipping-Service-Request-Timestamp": str(int(now))}
    if test:
        headers["X-Shipping-Service-Test-Request"] = "1"
    if service_id is not None:
        headers["X-Shipping-Service-Id"] = str(service_id)
    headers["X-Shipping-Service-Signature"] = sign(headers, body, key)
    return headers


_RATE_FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "name": ("string", lambda v: isinstance(v, str)),
    "code": ("string", lambda v: isinstance(v, str)),
    "total_cost": ("decimal", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
}
_OPTIONAL_FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "description": ("string", lambda v: isinstance(v, str)),
    "currency": ("string", lambda v: isinstance(v, str)),
    "min_delivery_timestamp": ("integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "max_delivery_timestamp": ("integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "taxable": ("boolean", lambda v: isinstance(v, bool)),
    "tax_value": ("decimal", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
}


#: rule names of the answer checks (the verify target reports them)
RULE_SHAPE = "the answer is {\"packages_rates\": [...]}"
RULE_ONE_PER_PACKAGE = "one packages_rates entry per package"
RULE_PACKAGE_ID = "package_id names a package that was sent, once"
RULE_TYPES = "rate fields have the documented types"


def rate_problems(data: Any, package_ids: list[str]) -> list[tuple[str, str]]:
    """Every problem of a callback's answer as (rule, the vendor-style message); [] if valid."""
    if not isinstance(data, dict) or "packages_rates" not in data:
        return [(RULE_SHAPE, 'Bad Response. Field "packages_rates" is required')]
    packages = data["packages_rates"]
    if not isinstance(packages, list):
        return [(RULE_SHAPE, 'Bad Response. Field "packages_rates" has wrong type. It must be array')]
    out: list[tuple[str, str]] = []
    if len(packages) != len(package_ids):
        out.append((RULE_ONE_PER_PACKAGE, f'Bad Response. Expected {len(package_ids)} "packages_rates" entries '
                                          f'(one per package), got {len(packages)}'))
    seen: list[str] = []
    for pkg in packages:
        if not isinstance(pkg, dict):
            out.append((RULE_SHAPE, 'Bad Response. Field "packages_rates" has wrong type. It must be array of objects'))
            continue
        pid = pkg.get("package_id")
        if isinstance(pid, bool) or not isinstance(pid, (str, int)):
            out.append((RULE_TYPES, 'Bad Response. Field "package_id" has wrong type. It must be string'))
        elif str(pid) not in package_ids or str(pid) in seen:
            out.append((RULE_PACKAGE_ID, f'Bad Response. Field "package_id" has wrong value "{pid}". '
                                         f'Expected one of: {", ".join(package_ids)}'))
        else:
            seen.append(str(pid))
        rates = pkg.get("rates")
        if not isinstance(rates, list):
            out.append((RULE_TYPES, 'Bad Response. Field "rates" has wrong type. It must be array'))
            continue
        for n, rate in enumerate(rates):
            if not isinstance(rate, dict):
                out.append((RULE_TYPES, f'Bad Response. Field "rates->{n}" has wrong type. It must be object'))
                continue
            for field, (word, ok) in _RATE_FIELDS.items():
                if field not in rate:
                    out.append((RULE_TYPES, f'Bad Response. Field "rates->{n}->{field}" is required'))
                elif not ok(rate[field]):
                    out.append((RULE_TYPES, f'Bad Response. Field "rates->{n}->{field}" has wrong type. '
                                            f'It must be {word}'))
            for field, (word, ok) in _OPTIONAL_FIELDS.items():
                if field in rate and rate[field] is not None and not ok(rate[field]):
                    out.append((RULE_TYPES, f'Bad Response. Field "rates->{n}->{field}" has wrong type. '
                                            f'It must be {word}'))
    return out


def check_rates(data: Any, package_ids: list[str]) -> str | None:
    """None if the callback's answer is valid, else the vendor-style reason (the first problem)."""
    problems = rate_problems(data, package_ids)
    return problems[0][1] if problems else None


def call_callback(sandbox: Any, url: str, key: str, *, timeout: float, retry_wait: float, test: bool,
                  packages: dict[str, Any] | None = None, service_id: str | None = None) -> dict[str, Any]:
    """Send one rate request (retried as the FAQ says); return the valid answer or raise 109."""
    import requests

    from mocks.core import outbound

    body_obj = packages or TEST_REQUEST
    body = php_json(body_obj)
    package_ids = [str(p.get("id")) for p in body_obj["packages"]]
    reason = "no answer"
    for attempt in range(2):
        if attempt:
            SLEEP(retry_wait)
        headers = request_headers(key, sandbox.clock.now(), body, test=test, service_id=service_id)
        try:
            resp = outbound.post(sandbox, url, data=body, timeout=timeout, headers={
                **headers, "Content-Type": "application/json", "Accept": "application/json"})
        except outbound.OutboundRefused as exc:
            raise X.A2CError(109, f"Callback {url} is not allowed: {exc.reason}") from None
        except requests.Timeout:  # FAQ: no answer in 15 s -> error, no retry
            raise X.A2CError(109, f"Callback {url} did not respond within {timeout:g} sec") from None
        except requests.RequestException as exc:
            reason = f"Callback {url} is not reachable: {type(exc).__name__}"
            continue
        if resp.status_code == 404:  # FAQ: "If the callback returns 404 error code, we will not try again"
            raise X.A2CError(109, f"Callback {url} returned HTTP 404")
        if resp.status_code != 200:
            reason = f"Callback {url} returned HTTP {resp.status_code}"
            continue
        if not resp.content.strip():
            reason = "Bad Response. The callback returned an empty response"
            continue
        try:
            data = resp.json()
        except ValueError:
            reason = "Bad Response. The callback did not answer JSON"
            continue
        problem = check_rates(data, package_ids)
        if problem is None:
            return data
        reason = problem
    raise X.A2CError(109, reason)


def _waits(sandbox: Any) -> tuple[float, float]:
    options = sandbox.config.api_options("api2cart")
    return float(options.get("live_shipping_timeout", TIMEOUT_S)), float(options.get("live_shipping_retry_wait",
                                                                                       RETRY_WAIT_S))


def create(sandbox: Any, data: M.StoreData, store: dict[str, Any], api_key: str, p: M.Params) -> dict[str, Any]:
    if store["cart_id"] not in M.LIVE_SHIPPING_CARTS:
        raise X.not_supported("basket.live_shipping_service.create", store["cart_id"])
    name, callback = p.need("name"), p.need("callback")
    if not re.fullmatch(r"https?://\S+", callback):
        raise X.invalid("callback", "URL")
    limit = M.LIVE_SHIPPING_CARTS[store["cart_id"]]
    if limit is not None and data.shipping.count() >= limit:
        raise X.exists(f"{M.cart_name(store['cart_id'])} allows only {limit} live shipping service per store")
    timeout, retry_wait = _waits(sandbox)
    call_callback(sandbox, callback, api_key, timeout=timeout, retry_wait=retry_wait, test=True)
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
    if p.int("id") is None:
        raise X.required("id")
    sid = str(p.int("id"))
    if not data.shipping.delete(sid):
        raise X.not_found("Live shipping service", sid)
    return {"status": True}


def request_rates(sandbox: Any, data: M.StoreData, api_key: str, service_id: str,
                  packages: dict[str, Any] | None = None) -> dict[str, Any]:
    """The store asks a service for rates at checkout (FAQ step 2): the error count is kept."""
    service = data.shipping.lookup(str(service_id))
    if service is None:
        raise X.not_found("Live shipping service", service_id)
    timeout, retry_wait = _waits(sandbox)
    try:
        answer = call_callback(sandbox, service["callback"], api_key, timeout=timeout, retry_wait=retry_wait,
                               test=False, packages=packages, service_id=str(service_id))
        error = None
    except X.A2CError as exc:
        answer, error = None, exc.message

    def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
        if old is None:
            return None
        new = copy.deepcopy(old)
        # FAQ: "increment error count of the shipping service by 1. If the next request will be
        # successful, the count will be reduced to zero."
        new["callback_err_cnt"] = 0 if error is None else int(old.get("callback_err_cnt", 0)) + 1
        return new

    updated = data.shipping.update(str(service_id), apply) or service
    return {"service_id": str(service_id), "valid": error is None, "error": error,
            "packages_rates": (answer or {}).get("packages_rates"), "callback_err_cnt": updated["callback_err_cnt"]}
