"""Outbound API2Cart webhooks: each store event goes to every active subscription for it.

Deliveries go through :mod:`mocks.core.webhooks` (real HTTP, retried on the sandbox clock). The
body is the entity (cut to the subscription's ``fields``); the headers carry the vendor's
``X-Webhook-*`` set, signed the way the FAQ documents for API2Cart's own callbacks: HMAC-SHA256
over the JSON of the sorted ``X-Webhook-*`` headers followed by the body, keyed with the account's
API key, base64-encoded, in ``X-Webhook-Signature``.

Platforms without native webhooks (``models.POLLED_CARTS``: Magento, OpenCart and the other
bridge platforms but WooCommerce) are emulated as the FAQ says, by polling every 300 s: their
deliveries wait for the next poll tick on the sandbox clock.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from mocks.api2cart import models as M
from mocks.core.coerce import is_ascii_digits


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
    clock = sandbox.clock.now("api2cart", store["tenant"])
    now = int(clock)
    # FAQ: platforms without native webhooks (e.g. Magento, OpenCart) are polled every 300 s, so a
    # delivery leaves at the next poll tick (ticks at multiples of 300 s of the sandbox clock).
    delay = M.POLL_INTERVAL_S - (clock % M.POLL_INTERVAL_S) if store["cart_id"] in M.POLLED_CARTS else 0.0
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
                             event=f"{entity}.{action}", payload=body_obj, headers=headers, delay=delay)
            sent += 1
    return sent


KEEP_FAILED_S = 86400  # FAQ: information about failed webhooks is stored for 24 hours


def failed(sandbox: Any, stores: list[dict[str, Any]], p: M.Params) -> dict[str, Any]:
    """``account.failed_webhooks``: deliveries of the account's stores that gave up, last 24 h."""
    from mocks.core import webhooks

    tenants = {s["tenant"] for s in stores}
    rows = []
    for d in webhooks.listing(sandbox, api="api2cart", status="failed"):
        if d["tenant"] not in tenants:
            continue
        at = d["attempts"][-1]["at"] if d.get("attempts") else d["created_at"]
        if at < sandbox.clock.now("api2cart", d["tenant"]) - KEEP_FAILED_S:  # the store's clock
            continue
        hook_id = str(d.get("headers", {}).get("X-Webhook-Id", "0"))
        payload = d.get("payload") if isinstance(d.get("payload"), dict) else {}
        rows.append({"webhook_id": int(hook_id) if is_ascii_digits(hook_id) else 0, "entity_id": str(payload.get("id", "")),
                     "time": M.a2c_date(at)})
    ids = p.ids("ids")
    if ids is not None:
        rows = [r for r in rows if str(r["webhook_id"]) in ids]
    start, count = M.window(p)
    return {"all_failed_webhook": str(len(rows)), "webhook": rows[start:start + count]}
