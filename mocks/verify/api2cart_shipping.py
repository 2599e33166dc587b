"""Verify an API2Cart live-shipping-rates callback (the endpoint a user implements).

``--base-url`` is the callback URL given to ``basket.live_shipping_service.create``;
``--secret`` is the signing key it verifies ``X-Shipping-Service-Signature`` with (the sandbox
signs with the account's API key). The requests are exactly what the sandbox (and, as the FAQ
documents, API2Cart) sends, built by :mod:`mocks.api2cart.shipping`: PHP-encoded JSON bodies,
the signature over the sorted ``X-Shipping-Service-*`` headers' JSON followed by the body.

Checks, each answer validated the way API2Cart validates it when the service is created:

* the FAQ's signed test request (two packages, ``X-Shipping-Service-Test-Request: 1``) is
  answered with 200, JSON, one ``packages_rates`` entry per package, each ``package_id`` one that
  was sent, typed rate fields (``name``/``code`` strings, ``total_cost`` decimal, ...), within 15 s;
* a checkout rate request (``X-Shipping-Service-Id``, three packages with other ids, one of them
  with no items) is answered the same way: the callback must not hard-code the test packages;
* a request with a wrong signature is refused with a 4XX (the FAQ: "To check if the request was
  really sent by API2Cart, compare header signature"); ``--skip-signature-check`` leaves it out.
"""
from __future__ import annotations

import copy
import time
from typing import Any, Callable

import requests

from mocks.api2cart import shipping as SH
from mocks.verify import CannotRun, Finding, curl, request_error

RULE_STATUS = "the callback answers HTTP 200"
RULE_JSON = "the answer is JSON"
RULE_TIME = "the callback answers within 15 s"
RULE_SIGNATURE = "a request with a wrong signature is refused (4XX)"


def checkout_packages() -> dict[str, Any]:
    """Three packages with ids the test request never uses; the last one holds no items."""
    base = SH.TEST_REQUEST["packages"]
    out = []
    for n, pid in enumerate(("pkg-a", "pkg-b", "pkg-c")):
        pkg = copy.deepcopy(base[n % len(base)])
        pkg["id"] = pid
        if pid == "pkg-c":
            pkg["items"] = []
        out.append(pkg)
    return {"packages": out}


class Callback:
    def __init__(self, url: str, secret: str, answer_within: float) -> None:
        self.url = url
        self.secret = secret
        self.limit = answer_within
        self.http = requests.Session()

    def send(self, body_obj: dict[str, Any], *, test: bool, service_id: str | None = None,
             key: str | None = None) -> tuple[requests.Response | None, str, float, str | None]:
        """POST one signed request: (response or None, curl line, seconds, error)."""
        body = SH.php_json(body_obj)
        headers = SH.request_headers(key or self.secret, time.time(), body, test=test, service_id=service_id)
        headers = {**headers, "Content-Type": "application/json", "Accept": "application/json"}
        line = curl("POST", self.url, headers, body)
        started = time.perf_counter()
        try:
            resp = self.http.post(self.url, data=body, headers=headers, timeout=self.limit, allow_redirects=False)
        except requests.Timeout:
            return None, line, time.perf_counter() - started, f"no answer within {self.limit:g} s"
        except requests.RequestException as exc:
            return None, line, time.perf_counter() - started, request_error("POST", self.url, exc)
        return resp, line, time.perf_counter() - started, None

    def check_answer(self, body_obj: dict[str, Any], *, test: bool, service_id: str | None = None) -> list[Finding]:
        check = "test request" if test else "rate request"
        resp, line, _, error = self.send(body_obj, test=test, service_id=service_id)
        if resp is None:
            if error and error.startswith("no answer"):
                return [Finding(check, RULE_TIME, f"Callback {self.url} did not respond within {self.limit:g} sec "
                                                  "(API2Cart answers 109 and does not retry)", line)]
            raise CannotRun(str(error))
        if resp.status_code != 200:
            note = " (API2Cart does not retry a 404)" if resp.status_code == 404 else ""
            return [Finding(check, RULE_STATUS, f"answered HTTP {resp.status_code}{note}", line)]
        if not resp.content.strip():
            return [Finding(check, RULE_JSON, "Bad Response. The callback returned an empty response", line)]
        try:
            data = resp.json()
        except ValueError:
            return [Finding(check, RULE_JSON, f"the body is not JSON: {resp.text[:200]!r}", line)]
        ids = [str(p["id"]) for p in body_obj["packages"]]
        return [Finding(check, rule, message, line) for rule, message in SH.rate_problems(data, ids)]

    def check_test_request(self) -> list[Finding]:
        return self.check_answer(SH.TEST_REQUEST, test=True)

    def check_rate_request(self) -> list[Finding]:
        return self.check_answer(checkout_packages(), test=False, service_id="1")

    def check_bad_signature(self) -> list[Finding]:
        wrong = self.secret[::-1] + "-not-the-key"
        resp, line, _, error = self.send(SH.TEST_REQUEST, test=True, key=wrong)
        if resp is None:
            raise CannotRun(str(error))
        if not 400 <= resp.status_code < 500:
            return [Finding("signature", RULE_SIGNATURE,
                            f"signed with another key, the request was answered HTTP {resp.status_code}", line)]
        return []


def add_arguments(parser: Any) -> None:
    parser.add_argument("--secret", required=True, help="the signing key your callback verifies X-Shipping-Service-Signature with "
                                         "(the sandbox signs with the account's API key)")
    parser.add_argument("--answer-within", type=float, default=SH.TIMEOUT_S,
                        help="seconds the callback may take (API2Cart: 15)")
    parser.add_argument("--skip-signature-check", action="store_true",
                        help="do not check that a wrongly signed request is refused")


def checks(args: Any) -> list[tuple[str, Callable[[], list[Finding]]]]:
    if not args.secret:
        raise CannotRun("verify api2cart-shipping needs --secret (the key your callback verifies signatures with)")
    callback = Callback(args.base_url, args.secret, args.answer_within)
    out: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("test request (FAQ example, two packages)", callback.check_test_request),
        ("checkout rate request (three packages)", callback.check_rate_request),
    ]
    if not args.skip_signature_check:
        out.append(("rejects a bad signature", callback.check_bad_signature))
    return out
