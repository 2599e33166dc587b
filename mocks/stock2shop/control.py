"""Sandbox-only Stock2Shop operations, mounted at ``/__sandbox/stock2shop`` behind the control
plane's guard (errors in the control plane's shape, not Stock2Shop's).

| route | does |
|---|---|
| ``GET /rate_limit?client_id=`` | the client's limiter settings |
| ``POST /rate_limit`` ``{"client_id", "enabled", "per_second"?, "unauthenticated_per_second"?}`` | switch Stock2Shop's own rate limiter on or off for one client |
| ``POST /index_lag`` ``{"client_id"?, "seconds"}`` | set the search index lag of one client (or all) |

Stock2Shop's own rate limits (off by default). The documents: "Stock2Shop may rate limit requests
per client. If you receive 429 Too Many Requests you have been rate limited. We recommend not more
than 1 request per second." The vendor's live documentation adds the figures used here: 3
requests/second for authenticated requests (one bucket per client) and 1 request/second for
unauthenticated ones (authenticate and valid_token; one bucket per caller address), with an
``x-S2S-RateLimit`` header whose value format is not published: the sandbox sends the caller's limit
in requests per second (``3`` or ``1``) on every answer while limiting is on.

Switched on for every client by ``--option stock2shop.rate_limit=true`` or per client with
``POST /__sandbox/stock2shop/rate_limit`` (below). The limiting itself is the sandbox's one rate
limiter (``mocks.core.chain.ratelimit``): ``Stock2Shop.rate_limits`` declares the buckets. The
``stock2shop-rate-limit`` scenario is the other switch (the scenario ``rate`` trigger).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from mocks.core import errors as E
from mocks.core.chain.validate import parse_json
from mocks.core.coerce import TRUE_WORDS, to_bool
from mocks.core.http import json_response, sandbox
from mocks.core.state import TenantState
from mocks.stock2shop import models, seed

API = "stock2shop"
AUTHENTICATED_PER_SECOND = 3.0
UNAUTHENTICATED_PER_SECOND = 1.0
RATE_HEADER = "x-S2S-RateLimit"


def rate_settings(state: TenantState) -> dict[str, Any] | None:
    """The client's rate-limit settings, or None when limiting is off for it."""
    own = state.collection("settings").lookup("rate_limit")
    if own is not None:
        return own if own.get("enabled") else None
    if to_bool(state.options.get("rate_limit", False), true=(*TRUE_WORDS, "on")):
        return {"enabled": True}
    return None


def configure_rate(state: TenantState, enabled: bool, per_second: float | None = None,
                   unauthenticated_per_second: float | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"enabled": bool(enabled)}
    if per_second is not None:
        record["per_second"] = float(per_second)
    if unauthenticated_per_second is not None:
        record["unauthenticated_per_second"] = float(unauthenticated_per_second)
    state.collection("settings").put("rate_limit", record)
    return record


def _body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    data = parse_json(raw) if raw else {}
    if not isinstance(data, dict):
        raise E.ValidationFailed("the body must be a JSON object")
    return data


def _client(value: Any, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    cid = str(value)
    if cid not in seed.CLIENTS:
        raise E.NotFound(f"client_id {value!r} is not a Stock2Shop client of the sandbox ({', '.join(seed.CLIENTS)})")
    return cid


def _rate(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 10_000:
        raise E.ValidationFailed(f"{name} must be a number above 0 (requests per second)")
    return float(value)


def build() -> Blueprint:
    bp = Blueprint("stock2shop_control", __name__)

    @bp.get("/rate_limit")
    def get_rate_limit():
        cid = _client(request.args.get("client_id"))
        state = sandbox().state(API, cid)
        conf = rate_settings(state)
        return json_response({"client_id": int(cid), "enabled": conf is not None,
                              "per_second": (conf or {}).get("per_second", AUTHENTICATED_PER_SECOND),
                              "unauthenticated_per_second": (conf or {}).get(
                                  "unauthenticated_per_second", UNAUTHENTICATED_PER_SECOND)})

    @bp.post("/rate_limit")
    def set_rate_limit():
        data = _body()
        cid = _client(data.get("client_id"))
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise E.ValidationFailed("enabled must be true or false")
        record = configure_rate(sandbox().state(API, cid), enabled, _rate(data.get("per_second"), "per_second"),
                                _rate(data.get("unauthenticated_per_second"), "unauthenticated_per_second"))
        return json_response({"client_id": int(cid), **record})

    @bp.post("/index_lag")
    def set_index_lag():
        data = _body()
        seconds = data.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 86_400:
            raise E.ValidationFailed("seconds must be a number from 0 to 86400")
        cid = _client(data.get("client_id"), required=False)
        for t in ([cid] if cid else list(seed.CLIENTS)):
            models.IndexLag(sandbox().state(API, t)).set(seconds)
        return json_response({"client_id": int(cid) if cid else None, "index_lag_seconds": float(seconds)})

    return bp
