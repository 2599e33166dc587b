"""Outbound webhook deliveries: sign, send over real HTTP, retry on the sandbox clock, log.

A delivery is a JSON document in the store (``__sandbox__/webhooks``), so it survives a restart
and every worker sees it. Lifecycle: ``pending`` -> ``sending`` (claimed atomically by one
worker) -> ``delivered`` | ``pending`` again with ``next_attempt_at`` pushed back
(exponential backoff: 1, 2, 4, 8, 16 s on the clock of the delivery's API and tenant) ->
``failed`` after ``MAX_ATTEMPTS``. Every attempt is recorded (time, HTTP status or error,
duration) on the delivery and as an ``"direction": "outbound"`` entry in the request journal.

Sending is driven by the scheduler (:mod:`mocks.core.scheduler`): each pending delivery has a
``"webhook"`` timer at its ``next_attempt_at``; the lease holder sends it when it falls due, with
no client request. :func:`deliver_due` sends what is due synchronously (tests, the console's
"deliver now", ``POST /__sandbox/webhooks/deliver``).

Headers on the wire: ``Content-Type``, ``User-Agent`` and what the API passes (its own headers
and signature); no ``X-Sandbox-*`` marker reaches a receiver (the event name and delivery id are in
the delivery record and its journal entry).

Signing: by default ``X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>`` when a secret
is given; an API passes its own ``sign(body, secret) -> headers`` to match the real service.
A scenario can make deliveries fail: ``FAULTS`` is consulted before each attempt.
Only allowed hosts are called (:mod:`mocks.core.outbound`); a refused delivery is ``failed`` at
once, its attempt recording the reason, and nothing is sent.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable

from mocks.core import journal as J
from mocks.core import outbound, scheduler

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.sandbox import Sandbox

NS = "__sandbox__/webhooks"
MAX_ATTEMPTS = 6
TIMEOUT_S = 5.0
KEEP = 2000  # bounded: the oldest finished deliveries are dropped beyond this

Signer = Callable[[bytes, str], dict[str, str]]
#: optional fault hook: (delivery) -> None | {"status": int} | {"error": str}; set by the scenario engine
FAULTS: list[Callable[[dict[str, Any]], dict[str, Any] | None]] = []
_SIGNERS: dict[str, Signer] = {}


FAILURES = "__sandbox__/webhook_failures"


def fail_next(sandbox: "Sandbox", api: str, tenant: str | None, status: int = 500, times: int = 1) -> dict[str, Any]:
    """Make the next ``times`` delivery attempts of an API (one tenant, or all) fail with ``status``."""
    key = f"{api}/{tenant or '*'}"
    return sandbox.store.update(FAILURES, key, lambda old: {"status": status, "remaining": times})


def _take_failure(sandbox: "Sandbox", delivery: dict[str, Any]) -> dict[str, Any] | None:
    """An injected failure for this attempt, if a scenario asked for one (atomic across workers)."""
    for key in (f"{delivery['api']}/{delivery['tenant']}", f"{delivery['api']}/*"):
        if sandbox.store.lookup(FAILURES, key) is None:
            continue
        taken: dict[str, Any] = {}

        def take(old: dict[str, Any] | None) -> dict[str, Any] | None:
            taken.clear()  # a retried update (Redis) must not count an earlier try
            if not old or old["remaining"] <= 0:
                return None
            taken.update(old)
            return {**old, "remaining": old["remaining"] - 1} if old["remaining"] > 1 else None

        sandbox.store.update(FAILURES, key, take)
        if taken:
            return {"status": taken["status"]}
    return None


def register_signer(name: str, signer: Signer) -> None:
    """Signers are code, deliveries are data: a delivery names its signer."""
    _SIGNERS[name] = signer


def default_signer(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Webhook-Signature": f"sha256={digest}"}


def enqueue(sandbox: "Sandbox", api: str, tenant: str, url: str, event: str, payload: Any, *,
            secret: str | None = None, sign: Signer | None = None, headers: dict[str, str] | None = None,
            signer_name: str | None = None, delay: float = 0.0) -> dict[str, Any]:
    """Queue one delivery; the scheduler sends it at once, or ``delay`` seconds later on the
    clock of ``api``/``tenant`` (e.g. an API that polls the platform)."""
    if sign is not None:
        signer_name = signer_name or f"{api}:{getattr(sign, '__qualname__', 'signer')}"
        register_signer(signer_name, sign)
    now = sandbox.clock.now(api, tenant)
    delivery = {
        "id": uuid.UUID(int=sandbox.store.incr("__sandbox__/meta", "webhook_seq") | (1 << 64)).hex,
        "seq": sandbox.store.incr("__sandbox__/meta", "webhook_order"),
        "api": api, "tenant": tenant, "url": url, "event": event, "payload": payload,
        "secret": secret, "signer": signer_name, "headers": headers or {},
        "status": "pending", "created_at": now, "next_attempt_at": now + max(0.0, float(delay)), "attempts": [],
    }
    sandbox.store.put(NS, delivery["id"], delivery)
    scheduler.schedule(sandbox, KIND, api, tenant, delivery["id"], delivery["next_attempt_at"], order=delivery["seq"])
    _trim(sandbox)
    return public_view(delivery)


def _trim(sandbox: "Sandbox") -> None:
    items = sandbox.store.items(NS)
    if len(items) <= KEEP:
        return
    done = [k for k, v in items if v["status"] in ("delivered", "failed")]
    for key in done[: len(items) - KEEP]:
        sandbox.store.delete(NS, key)


def body_bytes(delivery: dict[str, Any]) -> bytes:
    return json.dumps(delivery["payload"], separators=(",", ":"), ensure_ascii=False).encode()


def signature_headers(delivery: dict[str, Any], body: bytes) -> dict[str, str]:
    if not delivery.get("secret"):
        return {}
    signer = _SIGNERS.get(delivery.get("signer") or "", default_signer)
    return signer(body, delivery["secret"])


#: a delivery left ``sending`` this long (sandbox clock) belongs to a worker that died mid-send
#: (an attempt takes at most TIMEOUT_S): it is due again, so a kill -9 delays it, never loses it
STALE_S = 30.0


def _due(value: dict[str, Any], now: float) -> bool:
    if value["status"] == "pending":
        return value["next_attempt_at"] <= now
    return value["status"] == "sending" and now - float(value.get("claimed_at") or 0) > STALE_S


def _claim(sandbox: "Sandbox", key: str, now: float) -> dict[str, Any] | None:
    claimed: dict[str, Any] = {}

    def take(old: dict[str, Any] | None) -> dict[str, Any] | None:
        # ``update`` may call this more than once (Redis retries when another process wrote in
        # between): only the call whose result is stored may count as the claim.
        claimed.clear()
        if old is None or not _due(old, now):
            return old
        claimed.update(old)
        return {**old, "status": "sending", "claimed_at": now}

    sandbox.store.update(NS, key, take)
    return claimed or None


def attempt(sandbox: "Sandbox", delivery: dict[str, Any]) -> dict[str, Any]:
    """Send one attempt now and record its result."""
    body = body_bytes(delivery)
    # only what the real service sends goes over the wire: the sandbox's own markers (event name,
    # delivery id) stay in the delivery record and its journal entry, never in a user's request
    headers = {"Content-Type": "application/json", "User-Agent": "commerce-sandbox-webhooks/1",
               **delivery.get("headers", {}), **signature_headers(delivery, body)}
    started = time.perf_counter()
    record: dict[str, Any] = {"at": sandbox.clock.now(delivery["api"], delivery["tenant"])}
    injected = _take_failure(sandbox, delivery)
    for hook in ([] if injected else FAULTS):
        injected = hook(delivery)
        if injected:
            break
    refused = None
    answer = ""
    import requests  # (imported by the first delivery, not by every start)

    if injected:
        record.update(injected, injected_fault=True)
    else:
        try:
            # allow-list (loopback + the operator's hosts), no redirects: mocks.core.outbound
            resp = outbound.post(sandbox, delivery["url"], data=body, headers=headers, timeout=TIMEOUT_S)
            record["status"] = resp.status_code
            answer = resp.text[:J.BODY_LIMIT] if resp.content else ""
        except outbound.OutboundRefused as exc:
            refused = record["error"] = exc.reason
            record["refused"] = True
        except requests.RequestException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"[:300]
    record["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
    ok = 200 <= int(record.get("status") or 0) < 300
    attempts = [*delivery.get("attempts", []), record]
    if ok:
        status, next_at = "delivered", None
    elif refused or len(attempts) >= MAX_ATTEMPTS:  # a refused host stays refused: no retries
        status, next_at = "failed", None
    else:
        status, next_at = "pending", sandbox.clock.now(delivery["api"], delivery["tenant"]) + 2 ** (len(attempts) - 1)
    updated = {**delivery, "status": status, "attempts": attempts, "next_attempt_at": next_at,
               "signature_headers": {k: v for k, v in headers.items() if "ignature" in k}}
    sandbox.store.put(NS, delivery["id"], updated)
    _journal(sandbox, delivery, headers, body, record, answer)
    _COUNT.attempts = getattr(_COUNT, "attempts", 0) + 1
    return updated


def _journal(sandbox: "Sandbox", delivery: dict[str, Any], headers: dict[str, str], body: bytes,
             record: dict[str, Any], answer: str) -> None:
    """The attempt as a journal entry (``direction: outbound``): the console shows it as it happens."""
    status = record.get("status")
    sandbox.store.journal_append({
        "time": record["at"], "direction": "outbound", "api": delivery["api"], "tenant": delivery["tenant"],
        "method": "POST", "path": delivery["url"], "query": {}, "status": status,
        "duration_ms": record["duration_ms"], "event": delivery["event"], "webhook": delivery["id"],
        "attempt": len(delivery.get("attempts", [])) + 1,
        "request": {"headers": J.redact_pairs(headers.items()), "body": J.redact_text(body.decode("utf-8", "replace"))},
        "response": {"headers": {}, "body": J.redact_text(answer) if answer else record.get("error", "")},
        "scenario": None, "rule": None, "fault": "webhook_failure" if record.get("injected_fault") else None,
        "violations": [],
    })


KIND = "webhook"
_COUNT = threading.local()  # attempts made by this thread (deliver_due counts its own)


def run_job(sandbox: "Sandbox", api: str, tenant: str, ref: str, now: float) -> float | None:
    """The scheduler's handler of a ``"webhook"`` timer: send the delivery if it is due.

    Returns when to look at it again (its next attempt, or when a claim left by a dead worker
    goes stale), or None once it is delivered or failed."""
    value = sandbox.store.lookup(NS, ref)
    if value is None:
        return None
    if _due(value, now):
        claimed = _claim(sandbox, ref, now)
        if claimed is not None:
            value = attempt(sandbox, claimed)
        else:
            value = sandbox.store.get(NS, ref) or {"status": "gone"}
    if value["status"] == "pending":
        return float(value["next_attempt_at"])
    if value["status"] == "sending":
        return float(value.get("claimed_at") or now) + STALE_S
    return None


scheduler.register(KIND, run_job)


def deliver_due(sandbox: "Sandbox") -> int:
    """Send every delivery that is due now, synchronously; returns how many were attempted."""
    before = getattr(_COUNT, "attempts", 0)
    sandbox.scheduler.run_due({KIND})
    return getattr(_COUNT, "attempts", 0) - before


def public_view(delivery: dict[str, Any]) -> dict[str, Any]:
    """What ``/__sandbox/webhooks`` shows: everything but the secret."""
    view = {k: v for k, v in delivery.items() if k not in ("secret", "signer")}
    view["signed"] = bool(delivery.get("secret"))
    return view


def listing(sandbox: "Sandbox", api: str | None = None, tenant: str | None = None,
            status: str | None = None) -> list[dict[str, Any]]:
    rows = [v for v in sandbox.store.values(NS)
            if (not api or v["api"] == api) and (not tenant or v["tenant"] == tenant)
            and (not status or v["status"] == status)]
    rows.sort(key=lambda v: v["seq"], reverse=True)
    return [public_view(v) for v in rows]
