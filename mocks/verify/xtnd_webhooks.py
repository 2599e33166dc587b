"""Verify an XTND webhook receiver (the endpoint a webshop implements) against the contract.

The sandbox sends to ``--base-url`` exactly what it sends as XTND: a POST of
``{"trigger", "webhookId", "webhookName", "occurred", "data"}`` with ``Content-Type:
application/json``, ``X-XTND-Trigger``, ``X-XTND-Webhook-Id`` and ``ms-signature: sha256=<hex
HMAC-SHA256 of the raw body keyed with the subscription's secret>`` (``--secret``: the secret the
receiver verifies with). Checks:

* every trigger (``AvailableBalanceChanged``, ``OrderCreated``, ..., ``CustomerChanged``), signed
  correctly, is acknowledged with a 2XX (the sandbox, like XTND, retries anything else; 200 is
  what most receivers send);
* the same delivery sent twice (a retry) is acknowledged both times;
* a bad signature is rejected with a 4XX: signed with another secret, the body changed after
  signing, the signature left out, a well-formed but wrong digest, an empty header.

Nothing is written anywhere else: the receiver only gets these POSTs.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Callable

from mocks.verify import CannotRun, Finding, Session, curl_of
from mocks.xtnd.webhooks import SIGNATURE_HEADER, TRIGGER_HEADER, WEBHOOK_ID_HEADER, envelope
from mocks.xtnd.models.subscriptions import TRIGGERS

OCCURRED = "2024-01-01T12:00:00.000Z"


def _order(status: str, previous: str | None, **extra: Any) -> dict[str, Any]:
    return {"orderNumber": "VERIFY-1001", "customerNumber": "10001", "warehouse": "01", "status": status,
            "previousStatus": previous, "deliveryStatus": extra.pop("deliveryStatus", "notDelivered"),
            "trackingNumber": extra.pop("trackingNumber", None), "changed": OCCURRED, **extra}


#: one realistic ``data`` per trigger, in the shapes of schemas/xtnd/webhook.schema.json
SAMPLES: dict[str, dict[str, Any]] = {
    "AvailableBalanceChanged": {"itemNumber": "100002", "warehouse": "01", "availableBalance": 17,
                                "changed": OCCURRED},
    "OrderCreated": _order("created", None),
    "OrderReserved": _order("reserved", "created"),
    "OrderPicked": _order("picked", "reserved", deliveryStatus="picked"),
    "OrderCancelled": _order("cancelled", "created", deliveryStatus="cancelled"),
    "OrderDeliveryDataChanged": _order("delivered", "picked", deliveryStatus="delivered",
                                       trackingNumber="00777777771234567890"),
    "ProductChanged": {"itemNumber": "100002", "changedFields": ["standardPrice"], "changed": OCCURRED},
    "CustomerCreated": {"customerNumber": "20001", "changed": OCCURRED},
    "CustomerChanged": {"customerNumber": "10001", "changedFields": ["email"], "changed": OCCURRED},
}
assert set(SAMPLES) == set(TRIGGERS)


def body_of(payload: dict[str, Any]) -> bytes:
    """Serialised as the sandbox's deliveries are (compact JSON, UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Receiver:
    def __init__(self, url: str, secret: str, webhook_id: str, name: str, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self.hook = {"id": webhook_id, "name": name}
        self.http = Session(timeout)

    def payload(self, trigger: str) -> dict[str, Any]:
        return envelope(trigger, self.hook, OCCURRED, SAMPLES[trigger])

    def send(self, trigger: str, body: bytes, signature: str | None) -> Any:
        headers = {"Content-Type": "application/json", "User-Agent": "commerce-sandbox-verify/1",
                   TRIGGER_HEADER: trigger, WEBHOOK_ID_HEADER: self.hook["id"]}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return self.http.request("POST", self.url, data=body, headers=headers)

    # -- checks -------------------------------------------------------------------------------
    def check_trigger(self, trigger: str) -> list[Finding]:
        body = body_of(self.payload(trigger))
        r = self.send(trigger, body, sign(body, self.secret))
        if not 200 <= r.status_code < 300:
            return [Finding(f"delivers {trigger}", f"a correctly signed {trigger} delivery is acknowledged with 2XX",
                            f"the receiver answered {r.status_code}; XTND (and the sandbox) would retry it",
                            curl_of(r))]
        return []

    def check_duplicate(self) -> list[Finding]:
        body = body_of(self.payload("OrderCreated"))
        signature = sign(body, self.secret)
        findings = []
        for attempt in (1, 2):
            r = self.send("OrderCreated", body, signature)
            if not 200 <= r.status_code < 300:
                findings.append(Finding("duplicate delivery", "a retried (identical) delivery is acknowledged too",
                                        f"attempt {attempt} of the same delivery answered {r.status_code}",
                                        curl_of(r)))
        return findings

    def check_bad_signatures(self) -> list[Finding]:
        payload = self.payload("OrderReserved")
        body = body_of(payload)
        tampered = body_of({**payload, "data": {**payload["data"], "orderNumber": "VERIFY-9999"}})
        cases: list[tuple[str, bytes, str | None]] = [
            ("signed with another secret", body, sign(body, self.secret + "-not")),
            ("the body changed after signing", tampered, sign(body, self.secret)),
            ("no ms-signature header", body, None),
            ("a malformed ms-signature", body, "sha256=" + "0" * 64),
            ("an empty ms-signature", body, ""),
        ]
        findings = []
        for label, data, signature in cases:
            r = self.send("OrderReserved", data, signature)
            if not 400 <= r.status_code < 500:
                findings.append(Finding("rejects a bad signature", "a delivery whose ms-signature does not match "
                                        "the body is rejected with 4XX", f"{label}: the receiver answered "
                                        f"{r.status_code}", curl_of(r)))
        return findings


def add_arguments(parser: Any) -> None:
    parser.add_argument("--secret", required=True, help="the subscription secret the receiver verifies ms-signature with")
    parser.add_argument("--webhook-id", default="wh-verify", help="the webhookId sent")
    parser.add_argument("--webhook-name", default="commerce-sandbox verify", help="the webhookName sent")


def checks(args: Any) -> list[tuple[str, Callable[[], list[Finding]]]]:
    if not args.secret:
        raise CannotRun("verify xtnd-webhooks needs --secret (the secret your receiver verifies with)")
    receiver = Receiver(args.base_url, args.secret, args.webhook_id, args.webhook_name, args.timeout)
    out: list[tuple[str, Callable[[], list[Finding]]]] = [
        (f"delivers {trigger}", (lambda t=trigger: receiver.check_trigger(t))) for trigger in TRIGGERS]
    out.append(("duplicate delivery", receiver.check_duplicate))
    out.append(("rejects a bad signature", receiver.check_bad_signatures))
    return out
