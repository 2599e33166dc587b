"""Outbound API2Cart webhooks: each store event goes to every active subscription for it.

Deliveries go through :mod:`mocks.core.webhooks` (real HTTP, retried on the sandbox clock). The
body is the entity (cut to the subscription's ``fields``); the headers carry the vendor's
``X-Webhook-*`` set, signed the way the FAQ documents for API2Cart's own callbacks: HMAC-SHA256
over the JSON of the sorted ``X-Webhook-*`` headers followed by the body, keyed with the account's
API key, base64-encoded, in ``X-Webhook-Signature``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from mocks.api2cart import models as M


def sign(headers: dict[str, str], body: bytes, key: str) -> str:
    signed = {k: v for k, v in sorted(headers.items()) if k.lower().startswith("x-webhook-")
              and k.lower() != "x-webhook-signature"}
    message = json.dumps(signed, separators=(",", ":")).encode() + body
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def deliver(sandbox: Any, account: dict[str, Any], store: dict[str, Any] | None, data: M.StoreData) -> int:
    if store is None:
        return 0
    try:
        from mocks.core import webhooks
    except ImportError:  # pragma: no cover - the core module is optional
        return 0
    sent = 0
    now = int(sandbox.clock.now())
    for entity, action, payload in data.events:
        for hook in data.subscribers(entity, action):
            body_obj = payload if hook.get("fields") in (None, "", "force_all") or action == "delete" else \
                M.select(payload, hook["fields"], None, "id")
            headers = {
                "X-Webhook-Cart-Id": store["cart_id"], "X-Webhook-Timestamp": str(now),
                "X-Webhook-Entity": entity, "X-Webhook-Action": action, "X-Webhook-Store-Id": hook.get("store_id") or "1",
                "X-Webhook-Id": str(hook["id"]), "X-Webhook-Store-Key": store["store_key"],
            }
            raw = json.dumps(body_obj, separators=(",", ":"), ensure_ascii=False).encode()
            headers["X-Webhook-Signature"] = sign(headers, raw, account["api_key"])
            webhooks.enqueue(sandbox, api="api2cart", tenant=store["tenant"], url=hook["callback"],
                             event=f"{entity}.{action}", payload=body_obj, headers=headers)
            sent += 1
    return sent
