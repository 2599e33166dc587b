"""Stock2Shop's own rate limiter (off by default).

The documents: "Stock2Shop may rate limit requests per client. If you receive 429 Too Many
Requests you have been rate limited. We recommend not more than 1 request per second." The
vendor's live documentation adds the figures used here: 3 requests/second for authenticated
requests (one bucket per client) and 1 request/second for unauthenticated ones (authenticate and
valid_token; one bucket per caller address), with an ``x-S2S-RateLimit`` header. Its value format
is not published; the sandbox sends the caller's limit in requests per second (``3`` or ``1``) on
every limited response and every answer while limiting is on.

Switched on for every client by ``--option stock2shop.rate_limit=true`` or per client with
``POST /__sandbox/stock2shop/rate_limit {"client_id": 21, "enabled": true}`` (optionally
``per_second`` / ``unauthenticated_per_second``). The ``stock2shop-rate-limit`` scenario is the
other switch (the scenario engine's own token bucket; see scenarios/stock2shop-rate-limit.yaml).

Buckets are token buckets on the sandbox clock kept in the store, so gunicorn workers and
processes sharing a sqlite/redis store count together.
"""
from __future__ import annotations

import math
from typing import Any

from mocks.core.state import TenantState
from mocks.stock2shop import errors as X

AUTHENTICATED_PER_SECOND = 3.0
UNAUTHENTICATED_PER_SECOND = 1.0
HEADER = "x-S2S-RateLimit"


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def settings(state: TenantState) -> dict[str, Any] | None:
    """The client's limiter settings, or None when limiting is off for it."""
    own = state.collection("settings").lookup("rate_limit")
    if own is not None:
        return own if own.get("enabled") else None
    if _truthy(state.options.get("rate_limit", False)):
        return {"enabled": True}
    return None


def configure(state: TenantState, enabled: bool, per_second: float | None = None,
              unauthenticated_per_second: float | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"enabled": bool(enabled)}
    if per_second is not None:
        record["per_second"] = float(per_second)
    if unauthenticated_per_second is not None:
        record["unauthenticated_per_second"] = float(unauthenticated_per_second)
    state.collection("settings").put("rate_limit", record)
    return record


def take(state: TenantState, bucket: str, per_second: float) -> None:
    """Take one request from ``bucket`` (capacity ``per_second``, refilled continuously);
    raise the documented 429 with Retry-After when it is empty."""
    now = state.now()
    outcome: dict[str, Any] = {}

    def step(old: dict[str, Any] | None) -> dict[str, Any]:
        tokens, last = (per_second, now) if old is None else (old["tokens"], old["last"])
        tokens = min(per_second, tokens + max(0.0, now - last) * per_second)
        if tokens >= 1.0:
            outcome["ok"] = True
            return {"tokens": tokens - 1.0, "last": now}
        outcome["ok"] = False
        outcome["wait"] = (1.0 - tokens) / per_second
        return {"tokens": tokens, "last": now}

    state.collection("rate_buckets").update(bucket, step)
    if not outcome["ok"]:
        limit = f"{per_second:g}"
        raise X.RateLimited(limit, max(1, math.ceil(outcome["wait"] - 1e-9)))


def check_authenticated(state: TenantState) -> str | None:
    """For a request with a valid token: the header value to send, or None when limiting is off."""
    conf = settings(state)
    if conf is None:
        return None
    per_second = float(conf.get("per_second", AUTHENTICATED_PER_SECOND))
    take(state, "client", per_second)
    return f"{per_second:g}"


def check_unauthenticated(state: TenantState, caller: str) -> str | None:
    """For authenticate/valid_token on behalf of a known client (``state``), per caller address."""
    conf = settings(state)
    if conf is None:
        return None
    per_second = float(conf.get("unauthenticated_per_second", UNAUTHENTICATED_PER_SECOND))
    take(state, f"anonymous:{caller}", per_second)
    return f"{per_second:g}"
