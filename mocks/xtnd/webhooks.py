"""Outbound webhooks: the tenant's subscriptions, one signed delivery per subscriber and trigger.

Every delivery is a POST of ``{"trigger", "webhookId", "webhookName", "occurred", "data"}`` with
``ms-signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the subscription's
secret>``, ``X-XTND-Trigger`` and ``X-XTND-Webhook-Id``. A subscription's ``warehouse`` filter
passes only events of that warehouse (balances, orders); masterdata events have no warehouse and
pass every filter. Delivery, retries with backoff and the log are the core's
(:mod:`mocks.core.webhooks`, listed at ``/__sandbox/webhooks``).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from mocks.core import webhooks
from mocks.xtnd.models.common import Emit, iso
from mocks.xtnd.models.subscriptions import Webhooks

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.sandbox import Sandbox

API = "xtnd"
SIGNATURE_HEADER = "ms-signature"
TRIGGER_HEADER = "X-XTND-Trigger"
WEBHOOK_ID_HEADER = "X-XTND-Webhook-Id"
SIGNER = "xtnd:hmac-sha256"


def signature(body: bytes, secret: str) -> str:
    """The ``ms-signature`` value: ``sha256=`` and the lower-case hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str) -> dict[str, str]:
    return {SIGNATURE_HEADER: signature(body, secret)}


webhooks.register_signer(SIGNER, sign)


def envelope(trigger: str, hook: dict[str, Any], occurred: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"trigger": trigger, "webhookId": hook["id"], "webhookName": hook["name"], "occurred": occurred,
            "data": data}


class Emitter:
    """The models' line out: ``emit(trigger, data)`` queues one signed delivery per subscriber."""

    def __init__(self, sandbox: "Sandbox", tenant: str) -> None:
        self.sandbox = sandbox
        self.tenant = tenant
        self.state = sandbox.state(API, tenant)
        self.hooks = Webhooks(self.state)

    def __call__(self, trigger: str, data: dict[str, Any]) -> None:
        for hook in self.hooks.subscribers(trigger, data.get("warehouse")):
            payload = envelope(trigger, hook, iso(self.state.now()), data)
            webhooks.enqueue(self.sandbox, API, self.tenant, hook["callbackUrl"], trigger, payload,
                             secret=hook["secret"], signer_name=SIGNER,
                             headers={TRIGGER_HEADER: trigger, WEBHOOK_ID_HEADER: hook["id"]})



def emitter(sandbox: "Sandbox", tenant: str) -> Emit:
    return Emitter(sandbox, tenant)
