"""Sandbox-only Stock2Shop operations, mounted at ``/__sandbox/stock2shop`` behind the control
plane's guard (errors in the control plane's shape, not Stock2Shop's).

| route | does |
|---|---|
| ``GET /rate_limit?client_id=`` | the client's limiter settings |
| ``POST /rate_limit`` ``{"client_id", "enabled", "per_second"?, "unauthenticated_per_second"?}`` | switch Stock2Shop's own rate limiter on or off for one client |
| ``POST /index_lag`` ``{"client_id"?, "seconds"}`` | set the search index lag of one client (or all) |
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from mocks.core import errors as E
from mocks.core.gateway import parse_json
from mocks.core.http import json_response, sandbox
from mocks.stock2shop import models, ratelimit, seed

API = "stock2shop"


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
        conf = ratelimit.settings(state)
        return json_response({"client_id": int(cid), "enabled": conf is not None,
                              "per_second": (conf or {}).get("per_second", ratelimit.AUTHENTICATED_PER_SECOND),
                              "unauthenticated_per_second": (conf or {}).get(
                                  "unauthenticated_per_second", ratelimit.UNAUTHENTICATED_PER_SECOND)})

    @bp.post("/rate_limit")
    def set_rate_limit():
        data = _body()
        cid = _client(data.get("client_id"))
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise E.ValidationFailed("enabled must be true or false")
        record = ratelimit.configure(sandbox().state(API, cid), enabled, _rate(data.get("per_second"), "per_second"),
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
