"""Live shipping services: the FAQ's signed test request, answer validation, retries, error count."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading

import pytest

from mocks.api2cart import shipping
from tests.api2cart.conftest import A2C, API_KEY, BOL, WOO, good_rates
from tests.api2cart.receiver import Receiver


def faq_signature(headers: dict[str, str], raw: bytes, key: str) -> str:
    """The FAQ's PHP example, step by step: ksort, json_encode, concatenate the body, hmac sha256, base64."""
    to_sign = {k: v for k, v in headers.items() if k.startswith("X-Shipping-Service") and k != "X-Shipping-Service-Signature"}
    as_json = json.dumps(dict(sorted(to_sign.items())), separators=(",", ":")).replace("/", "\\/")
    return base64.b64encode(hmac.new(key.encode(), as_json.encode() + raw, hashlib.sha256).digest()).decode()


def test_the_waits_default_to_the_faqs_figures():
    assert (shipping.TIMEOUT_S, shipping.RETRY_WAIT_S) == (15.0, 2.0)


def test_create_sends_the_faqs_signed_test_request(a2c, waits):
    with Receiver(good_rates) as rx:
        sid = a2c.ok("basket.live_shipping_service.create", "POST", name="Rates", callback=rx.url + "/rates")["id"]
        assert len(rx.requests) == 1 and waits == []
        req = rx.requests[0]
    head = req["headers"]
    assert head["X-Shipping-Service-Test-Request"] == "1" and head["X-Shipping-Service-Request-Timestamp"].isdigit()
    assert "X-Shipping-Service-Id" not in head
    assert head["X-Shipping-Service-Signature"] == faq_signature(head, req["raw"], API_KEY)
    body = json.loads(req["raw"])
    assert [p["id"] for p in body["packages"]] == ["1", "2"]            # the FAQ's two packages
    assert body["packages"][0]["origin"]["city"] == "Moody" and body["packages"][1]["items"][1]["model"] == "t2"
    assert b'"Test, 1\\/1"' in req["raw"]                                # PHP json_encode escapes '/'
    services = a2c.ok("basket.live_shipping_service.list")["live_shipping_services"]
    assert services == [{"id": str(sid), "name": "Rates", "callback": rx.url + "/rates", "callback_err_cnt": 0,
                         "enabled_on_store": True}]
    # Shopify allows one service per store; WooCommerce any number; Bol.com none
    a2c.err(113, "basket.live_shipping_service.create", "POST", name="Again", callback=rx.url)
    with Receiver(good_rates) as rx2:
        for name in ("A", "B"):
            a2c.ok("basket.live_shipping_service.create", "POST", store_key=WOO, name=name, callback=rx2.url)
    assert len(a2c.ok("basket.live_shipping_service.list", store_key=WOO)["live_shipping_services"]) == 2
    assert a2c.ok("basket.live_shipping_service.delete", "DELETE", id=sid) == {"status": True}
    a2c.err(112, "basket.live_shipping_service.delete", "DELETE", id=sid)
    a2c.err(115, "basket.live_shipping_service.list", store_key=BOL)
    a2c.err(115, "basket.live_shipping_service.create", "POST", store_key=BOL, name="x", callback=rx.url)


ONE = {"package_id": "1", "rates": [{"name": "x", "code": "x", "total_cost": 1.5}]}
TWO = {"package_id": "2", "rates": []}  # FAQ: "The property rates can be empty"


@pytest.mark.parametrize("answer, needle, tries", [
    ((404, {}), "returned HTTP 404", 1),                                         # FAQ: 404 is not retried
    ((200, {"packages_rates": [{"package_id": "1", "rates": [{"name": "x", "code": "x", "total_cost": "10"}]}, TWO]}),
     'Bad Response. Field "rates->0->total_cost" has wrong type. It must be decimal', 2),
    ((200, {"packages_rates": [{"package_id": "1", "rates": [{"name": 5, "code": "x", "total_cost": 1}]}, TWO]}),
     'Field "rates->0->name" has wrong type. It must be string', 2),
    ((200, {"packages_rates": [{"package_id": "1", "rates": [{"name": "x", "total_cost": 1}]}, TWO]}),
     'Field "rates->0->code" is required', 2),
    ((200, {"packages_rates": [ONE, {"package_id": "2", "rates": [
        {"name": "x", "code": "x", "total_cost": 1, "min_delivery_timestamp": "soon"}]}]}),
     'Field "rates->0->min_delivery_timestamp" has wrong type. It must be integer', 2),
    ((200, {"packages_rates": [ONE]}), 'Expected 2 "packages_rates" entries (one per package), got 1', 2),
    ((200, {"packages_rates": [ONE, {**TWO, "package_id": "7"}]}), 'Field "package_id" has wrong value "7"', 2),
    ((200, {"rates": []}), 'Field "packages_rates" is required', 2),
    ((200, b""), "empty response", 2),                                            # FAQ: empty 200 -> retry after 2 s
    ((200, b"<html>"), "did not answer JSON", 2),
    ((500, {}), "returned HTTP 500", 2),
])
def test_invalid_answers_are_109_with_the_faqs_retry(a2c, waits, answer, needle, tries):
    with Receiver(lambda req: answer) as rx:
        message = a2c.err(109, "basket.live_shipping_service.create", "POST", name="R", callback=rx.url)
        assert needle in message
        assert len(rx.requests) == tries
    assert waits == ([2.0] if tries == 2 else [])
    assert a2c.ok("basket.live_shipping_service.list")["live_shipping_services"] == []


def test_a_valid_second_answer_creates_the_service(a2c, waits):
    answers = iter([(200, b""), None])

    def flaky(req):
        nxt = next(answers)
        return nxt if nxt is not None else good_rates(req)

    with Receiver(flaky) as rx:
        a2c.ok("basket.live_shipping_service.create", "POST", name="R", callback=rx.url)
        assert len(rx.requests) == 2 and waits == [2.0]


def test_no_answer_within_the_timeout_is_109_without_retry(app_factory, waits):
    app = app_factory(apis=["api2cart"], options={"api2cart": {"live_shipping_timeout": 0.3}})
    a2c = A2C(app.test_client())
    release = threading.Event()

    def stuck(req):
        release.wait(5)
        return good_rates(req)

    with Receiver(stuck) as rx:
        try:
            message = a2c.err(109, "basket.live_shipping_service.create", "POST", name="R", callback=rx.url + "/rates")
        finally:
            release.set()
    assert message == f"Callback {rx.url}/rates did not respond within 0.3 sec"
    assert len(rx.requests) == 1 and waits == []


def test_checkout_rate_requests_keep_the_error_count(app, a2c, waits):
    """FAQ step 2: X-Shipping-Service-Id is sent; an invalid answer increments callback_err_cnt,
    the next valid one resets it to 0."""
    control = app.test_client()
    mode = {"bad": False}

    def callback(req):
        return (200, {"packages_rates": []}) if mode["bad"] else good_rates(req)

    with Receiver(callback) as rx:
        sid = str(a2c.ok("basket.live_shipping_service.create", "POST", name="R", callback=rx.url)["id"])
        from tests.api2cart.conftest import SHOPIFY

        def ask(**extra):
            r = control.post("/__sandbox/api2cart/live-shipping/rates", json={"store_key": SHOPIFY, "service_id": sid, **extra})
            assert r.status_code == 200, r.get_data()
            return r.get_json()

        mode["bad"] = True
        assert ask()["callback_err_cnt"] == 1
        out = ask()
        assert out["valid"] is False and out["callback_err_cnt"] == 2 and "packages_rates" in out["error"]
        assert a2c.ok("basket.live_shipping_service.list")["live_shipping_services"][0]["callback_err_cnt"] == 2
        mode["bad"] = False
        pkg = {"id": "p9", "currency_code": "EUR", "items": []}
        out = ask(packages=[pkg])
        assert out["valid"] is True and out["callback_err_cnt"] == 0 and out["packages_rates"][0]["package_id"] == "p9"
        last = rx.requests[-1]
        assert last["headers"]["X-Shipping-Service-Id"] == sid and "X-Shipping-Service-Test-Request" not in last["headers"]
        assert last["headers"]["X-Shipping-Service-Signature"] == faq_signature(last["headers"], last["raw"], API_KEY)
    assert a2c.ok("basket.live_shipping_service.list")["live_shipping_services"][0]["callback_err_cnt"] == 0
    r = control.post("/__sandbox/api2cart/live-shipping/rates", json={"store_key": SHOPIFY, "service_id": "99"})
    assert r.status_code == 404
