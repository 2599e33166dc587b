"""Outbound webhooks: the tenant's subscriptions, one signed delivery per subscriber and event.

Every delivery is a POST of ``{"event", "webhookId", "occurred", "data"}`` with
``ms-signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the subscription's
secret>`` and ``X-XTND-Event``. Delivery, retries and the log are the core's
(:mod:`mocks.core.webhooks`).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from mocks.core import webhooks
from mocks.xtnd.models import Emit, Webhooks, iso

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.sandbox import Sandbox

API = "xtnd"
SIGNATURE_HEADER = "ms-signature"
SIGNER = "xtnd:hmac-sha256"


def sign(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"sha256={digest}"}


webhooks.register_signer(SIGNER, sign)


def emitter(sandbox: "Sandbox", tenant: str) -> Emit:
    state = sandbox.state(API, tenant)
    hooks = Webhooks(state)

    def emit(event: str, data: dict[str, Any]) -> None:
        for hook in hooks.subscribers(event):
            payload = {"event": event, "webhookId": hook["id"], "occurred": iso(state.now()), "data": data}
            webhooks.enqueue(sandbox, API, tenant, hook["url"], event, payload, secret=hook["secret"],
                             signer_name=SIGNER, headers={"X-XTND-Event": event, "X-XTND-Webhook-Id": hook["id"]})

    return emit
