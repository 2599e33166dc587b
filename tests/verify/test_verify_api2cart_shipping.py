"""`commerce-sandbox verify api2cart-shipping` against a correct and a buggy live-shipping callback."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import xml.etree.ElementTree as ET

from flask import Flask, jsonify, request

from mocks.cli import main

SECRET = "the-account-api-key"


def signature_ok(req, secret: str = SECRET) -> bool:
    """What a user's callback does, from the FAQ's PHP example."""
    signed = {k: v for k, v in req.headers.items() if k.lower().startswith("x-shipping-service")
              and k.lower() != "x-shipping-service-signature"}
    # header names as API2Cart writes them (werkzeug title-cases them the same way)
    text = json.dumps(dict(sorted(signed.items())), separators=(",", ":")).replace("/", "\\/")
    mac = hmac.new(secret.encode(), text.encode() + req.get_data(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(mac).decode(), req.headers.get("X-Shipping-Service-Signature", ""))


def correct_callback(secret: str = SECRET) -> Flask:
    app = Flask("rates")

    @app.post("/rates")
    def rates():
        if not signature_ok(request, secret):
            return jsonify({"error": "bad signature"}), 401
        packages = request.get_json()["packages"]
        return jsonify({"packages_rates": [
            {"package_id": p["id"], "rates": [] if not p["items"] else [
                {"name": "Ground", "code": "ground", "currency": "USD", "total_cost": 9.95,
                 "min_delivery_timestamp": 1558177278, "max_delivery_timestamp": 1559177278}]}
            for p in packages]})

    return app


def buggy_callback() -> Flask:
    """Hard-codes the test request's packages, sends total_cost as a string, never checks signatures."""
    app = Flask("buggy")

    @app.post("/rates")
    def rates():
        return jsonify({"packages_rates": [
            {"package_id": "1", "rates": [{"name": "Ground", "code": "ground", "total_cost": "9.95"}]},
            {"package_id": "2", "rates": [{"name": "Air", "code": "air", "total_cost": 19.5}]}]})

    return app


def test_a_correct_callback_conforms(serve, tmp_path, capsys):
    base = serve(correct_callback())
    junit = tmp_path / "junit.xml"
    code = main(["verify", "api2cart-shipping", "--base-url", base + "/rates", "--secret", SECRET,
                 "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0" and suite.get("tests") == "3"


def test_a_buggy_callback_fails_with_named_findings(serve, tmp_path, capsys):
    base = serve(buggy_callback())
    junit = tmp_path / "junit.xml"
    code = main(["verify", "api2cart-shipping", "--base-url", base + "/rates", "--secret", SECRET,
                 "--report-junit", str(junit)])
    out = " ".join(capsys.readouterr().out.split())  # the report wraps long lines
    assert code == 1, out
    assert 'Field "rates->0->total_cost" has wrong type. It must be decimal' in out  # the FAQ's own message
    assert "one packages_rates entry per package" in out                            # 2 answered for 3 sent
    assert "package_id names a package that was sent" in out                        # hard-coded ids
    assert "a request with a wrong signature is refused" in out
    assert "curl -X POST" in out and "X-Shipping-Service-Signature" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    failed = {tc.get("classname") for tc in suite.iter("testcase") if tc.find("failure") is not None}
    assert len(failed) == 3 and int(suite.get("failures")) >= 3  # three checks fail, one <testcase> per finding


def test_a_wrong_secret_is_reported_as_a_refused_test_request(serve, capsys):
    base = serve(correct_callback())
    code = main(["verify", "api2cart-shipping", "--base-url", base + "/rates", "--secret", "another-key",
                 "--skip-signature-check"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1 and "the callback answers HTTP 200" in out and "HTTP 401" in out


def test_a_404_callback_and_a_slow_one(serve, capsys):
    app = Flask("slow")
    release = threading.Event()

    @app.post("/slow")
    def slow():
        release.wait(5)
        return jsonify({})

    base = serve(app)
    try:
        code = main(["verify", "api2cart-shipping", "--base-url", base + "/slow", "--secret", SECRET,
                     "--answer-within", "0.3", "--skip-signature-check"])
    finally:
        release.set()
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1 and "the callback answers within 15 s" in out and "did not respond within 0.3 sec" in out
    code = main(["verify", "api2cart-shipping", "--base-url", base + "/missing", "--secret", SECRET,
                 "--skip-signature-check"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1 and "HTTP 404" in out and "does not retry a 404" in out


def test_missing_secret_or_unreachable_callback_exits_2(capsys):
    from tests.conftest import free_port
    assert main(["verify", "api2cart-shipping", "--base-url", "http://127.0.0.1:9/rates"]) == 2
    assert main(["verify", "api2cart-shipping", "--base-url", f"http://127.0.0.1:{free_port()}/r",
                 "--secret", SECRET]) == 2


def test_the_sandbox_and_verify_agree_on_the_callback(serve, shared_app, capsys):
    """The callback verify passes is one the sandbox's basket.live_shipping_service.create accepts
    (signed with the account's API key), and the buggy one is refused there with the same message."""
    from mocks.api2cart import seed
    api_key = seed.ACCOUNTS[0]["api_key"]
    store_key = seed.store_key(api_key, 1)  # the demo Shopify store
    good, bad = serve(correct_callback(api_key)), serve(buggy_callback())
    assert main(["verify", "api2cart-shipping", "--base-url", good + "/rates", "--secret", api_key]) == 0
    client = shared_app(apis=["api2cart"]).test_client()
    q = {"api_key": api_key, "store_key": store_key, "name": "Rates"}
    ok = client.post("/api2cart/v1.1/basket.live_shipping_service.create.json", query_string={**q, "callback": good + "/rates"})
    assert ok.get_json()["return_code"] == 0, ok.get_json()
    client.delete("/api2cart/v1.1/basket.live_shipping_service.delete.json",
                  query_string={"api_key": api_key, "store_key": store_key, "id": ok.get_json()["result"]["id"]})
    from mocks.api2cart import shipping
    shipping_sleep, shipping.SLEEP = shipping.SLEEP, (lambda s: None)  # the 2 s retry wait, not slept
    try:
        no = client.post("/api2cart/v1.1/basket.live_shipping_service.create.json",
                         query_string={**q, "callback": bad + "/rates"}).get_json()
    finally:
        shipping.SLEEP = shipping_sleep
    assert no["return_code"] == 109
    assert no["return_message"] == 'Bad Response. Field "rates->0->total_cost" has wrong type. It must be decimal'
    capsys.readouterr()
