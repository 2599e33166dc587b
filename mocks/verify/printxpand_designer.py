"""Verify a PrintXpand designer endpoint ("Save design URL and image URL"), the one a user implements.

``--base-url`` is the endpoint itself: PrintXpand POSTs JSON ``{"image_url", "designer_url",
"enable_product_designer", "integration_product_id"}`` to it once a product's designer area is
configured, and expects ``[{"response": "success"}]`` back
(``schemas/printxpand/designer-callback-request.schema.json`` / ``-response.schema.json``).
Checks, each sending what the sandbox itself sends (``mocks.printxpand.control``):

* the document's example payload (with real URLs), designer off and on, is answered 2XX with a JSON
  body that is exactly ``[{"response": "success"}]``;
* the same payload again (PrintXpand calls again when a designer is reconfigured) succeeds again;
* an ``integration_product_id`` sent as a string (the id as the integration sent it) succeeds too;
* a payload that breaks the contract (a required field missing, ``enable_product_designer`` not
  0/1, not JSON, not an object) is not answered "success", and not with a 5XX: a 4XX, or a
  ``[{"response": "error", ...}]`` body.

The endpoint only receives these POSTs; it is asked to "save" product ``--product-id``.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from jsonschema import Draft202012Validator

from mocks.printxpand.contract import DESIGNER_REQUEST, DESIGNER_RESPONSE
from mocks.printxpand.control import DESIGNER_BASE, USER_AGENT
from mocks.verify import Finding, Session, curl_of
from mocks.core.coerce import is_ascii_digits

RESPONSE = Draft202012Validator(DESIGNER_RESPONSE)
SUCCESS = Draft202012Validator({"$schema": DESIGNER_RESPONSE["$schema"], **DESIGNER_RESPONSE["$defs"]["success"]})
PAYLOAD = Draft202012Validator(DESIGNER_REQUEST)

# rule names stay short: the report prints "FAIL <check> — <rule>" on one line
R_STATUS = "the documented payload gets a 2XX"
R_JSON = "the answer is JSON"
R_SUCCESS = 'the answer is [{"response": "success"}]'
R_REPEAT = "sent again, the payload succeeds again"
R_STRING_ID = "a string integration_product_id succeeds"
R_REJECT = "bad input is not answered success"
R_NO_5XX = "bad input gets a 4XX, not a 5XX"

class Endpoint:
    def __init__(self, url: str, product_id: Any = 10001, timeout: float = 10.0) -> None:
        self.url = url
        self.product_id = product_id
        self.http = Session(timeout)

    def payload(self, **change: Any) -> dict[str, Any]:
        pid = change.pop("integration_product_id", self.product_id)
        body = {"image_url": f"{DESIGNER_BASE}/images/{pid}.png", "designer_url": f"{DESIGNER_BASE}/designer/{pid}",
                "enable_product_designer": 0, "integration_product_id": pid, **change}
        return body

    def post(self, body: Any, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body).encode()
        return self.http.request("POST", self.url, data=data,
                                 headers={"Content-Type": "application/json", "Accept": "application/json",
                                          "User-Agent": USER_AGENT})

    # -- answers -------------------------------------------------------------------------------
    @staticmethod
    def parsed(response: Any) -> tuple[bool, Any]:
        try:
            return True, response.json()
        except ValueError:
            return False, None

    def success_findings(self, check: str, response: Any, rule_prefix: str = "") -> list[Finding]:
        """Findings when ``response`` is not the documented success answer."""
        out = []
        where = f"{rule_prefix}: " if rule_prefix else ""
        if not 200 <= response.status_code < 300:
            out.append(Finding(check, R_STATUS, f"{where}answered {response.status_code}", curl_of(response)))
        if "json" not in response.headers.get("Content-Type", "").lower():
            out.append(Finding(check, R_JSON, f"{where}Content-Type is {response.headers.get('Content-Type')!r}",
                               curl_of(response)))
        ok, body = self.parsed(response)
        if not ok:
            out.append(Finding(check, R_SUCCESS, f"{where}the body is not JSON: {response.text[:200]!r}",
                               curl_of(response)))
        else:
            errors = [f"{''.join(f'/{p}' for p in e.absolute_path) or '/'}: {e.message}"
                      for e in SUCCESS.iter_errors(body)]
            if errors or body != [{"response": "success"}]:
                out.append(Finding(check, R_SUCCESS, f"{where}got {json.dumps(body)[:200]}"
                                   + (f" ({errors[0]})" if errors else ""), curl_of(response)))
        return out

    # -- checks --------------------------------------------------------------------------------
    def check_documented_payload(self) -> list[Finding]:
        findings = []
        for enabled in (0, 1):
            body = self.payload(enable_product_designer=enabled)
            assert not list(PAYLOAD.iter_errors(body))  # the verifier keeps the contract itself
            findings += self.success_findings("documented payload", self.post(body),
                                              f"enable_product_designer={enabled}")
        return findings

    def check_repeat(self) -> list[Finding]:
        body = self.payload(enable_product_designer=1)
        self.post(body)
        response = self.post(body)
        return [Finding("repeat", R_REPEAT, f.detail, f.curl) for f in self.success_findings("repeat", response)]

    def check_string_id(self) -> list[Finding]:
        response = self.post(self.payload(integration_product_id=str(self.product_id)))
        return [Finding("string id", R_STRING_ID, f.detail, f.curl)
                for f in self.success_findings("string id", response)]

    def bad_inputs(self) -> list[tuple[str, Any, bytes | None]]:
        good = self.payload()
        return [
            ("integration_product_id missing", {k: v for k, v in good.items() if k != "integration_product_id"}, None),
            ("designer_url missing", {k: v for k, v in good.items() if k != "designer_url"}, None),
            ("enable_product_designer is \"yes\"", {**good, "enable_product_designer": "yes"}, None),
            ("an empty object", {}, None),
            ("a JSON array", [good], None),
            ("a body that is not JSON", None, b"image_url=x&designer_url=y"),
        ]

    def check_bad_input(self) -> list[Finding]:
        findings = []
        for label, body, raw in self.bad_inputs():
            if body is not None and not isinstance(body, list) and body:
                assert list(PAYLOAD.iter_errors(body)), label  # really breaks the contract
            response = self.post(body, raw)
            ok, parsed = self.parsed(response)
            if response.status_code >= 500:
                findings.append(Finding("bad input", R_NO_5XX, f"{label}: answered {response.status_code}",
                                        curl_of(response)))
                continue
            documented_error = ok and not list(RESPONSE.iter_errors(parsed)) and list(SUCCESS.iter_errors(parsed))
            if 200 <= response.status_code < 300 and not documented_error:
                findings.append(Finding("bad input", R_REJECT, f"{label}: answered {response.status_code} "
                                                               f"{response.text[:120]!r}", curl_of(response)))
        return findings


def add_arguments(parser: Any) -> None:
    parser.add_argument("--product-id", default="10001",
                        help="integration_product_id to send (a number unless it has non-digits); default 10001")


def checks(args: Any) -> list[tuple[str, Callable[[], list[Finding]]]]:
    pid: Any = int(args.product_id) if is_ascii_digits(str(args.product_id)) else args.product_id
    endpoint = Endpoint(args.base_url, pid, args.timeout)
    return [
        ("documented payload", endpoint.check_documented_payload),
        ("repeat", endpoint.check_repeat),
        ("string id", endpoint.check_string_id),
        ("bad input", endpoint.check_bad_input),
    ]
