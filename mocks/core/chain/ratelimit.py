"""Handler 4 and the one rate limiter of the sandbox.

Every rate limit is a bucket on the sandbox clock, kept in the store (so gunicorn workers and
processes sharing a sqlite/redis store count together) and updated with the store's atomic
``update``. :func:`step` is the whole algorithm, a pure function of the bucket's stored state:

- ``Rate(limit, period)``: a token bucket holding ``burst`` (default ``limit``) requests, refilled
  continuously at ``limit / period`` per second (Stock2Shop's 3 and 1 requests per second);
- ``Rate(limit, period, fixed_window=True)``: the bucket is refilled whole at each ``period``
  boundary of the clock (API2Cart's request limits per sandbox-clock minute).

Who uses it: the chain, for the limits an API declares per request (``Api.rate_limits`` returns
:class:`Limit` s: Stock2Shop's vendor limits, API2Cart's store and account limits); the scenario
engine's ``rate`` trigger (``mocks.core.scenarios.triggers``), whose rule fires when a request is
*over* the rate. A request over a limit gets the API's own error (``Limit.error``); a limit's
``header`` is sent on every answer while the limit is on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from flask import request

from mocks.core import cache as _cache
from mocks.core.chain.context import RequestContext

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.errors import SandboxError
    from mocks.core.gateway import Gateway
    from mocks.core.state import TenantState

BUCKETS = "rate_buckets"  # the tenant collection that holds an API's buckets


@dataclass(frozen=True)
class Rate:
    limit: float                 # requests per period
    period: float = 1.0          # seconds
    burst: float | None = None   # bucket capacity (default: limit)
    fixed_window: bool = False   # refilled whole at each period boundary instead of continuously

    @property
    def capacity(self) -> float:
        return self.limit if self.burst is None else self.burst


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0     # seconds until one request would be allowed (0 when allowed)

    def retry_after_s(self) -> int:
        """Whole seconds for a ``Retry-After`` header (at least 1)."""
        return max(1, math.ceil(self.retry_after - 1e-9))


def step(state: dict[str, Any] | None, rate: Rate, now: float) -> tuple[dict[str, Any], Decision]:
    """The bucket's new state after one more request at ``now``, and whether it was allowed.

    Pure: the store may call it more than once under contention.
    """
    capacity = rate.capacity
    if rate.fixed_window:
        window = int(now // rate.period)
        tokens = capacity if state is None or state.get("window") != window else float(state["tokens"])
        if tokens >= 1.0:
            return {"tokens": tokens - 1.0, "window": window}, Decision(True)
        return {"tokens": tokens, "window": window}, Decision(False, (window + 1) * rate.period - now)
    per_second = rate.limit / rate.period
    if state is None or "last" not in state:
        tokens, last = capacity, now
    else:
        tokens, last = float(state["tokens"]), float(state["last"])
    tokens = min(capacity, tokens + max(0.0, now - last) * per_second)
    if tokens >= 1.0:
        return {"tokens": tokens - 1.0, "last": now}, Decision(True)
    return {"tokens": tokens, "last": now}, Decision(False, (1.0 - tokens) / per_second)


@dataclass(frozen=True)
class Limit:
    """One bucket a request is charged to, as an API declares it (``Api.rate_limits``)."""

    state: "TenantState"         # whose store space holds the bucket (collection ``rate_buckets``)
    key: str                     # the bucket, e.g. "client" or "anonymous:127.0.0.1"
    rate: Rate
    error: Callable[[Decision], "SandboxError"]   # the API's own answer over the limit
    header: tuple[str, str] | None = None         # sent on every answer while the limit is on


def take(limit: Limit) -> Decision:
    """Charge one request to ``limit``'s bucket (atomically, in the store)."""
    now = limit.state.now()
    outcome: list[Decision] = []

    def update(old: dict[str, Any] | None) -> dict[str, Any]:
        new, decision = step(old, limit.rate, now)
        outcome[:] = [decision]
        return new

    limit.state.collection(BUCKETS).update(limit.key, update)
    return outcome[0]


#: environ key: how many of this request's limits the fast path (mocks.core.fastpath) already charged
#: before it handed the request to the full chain (a limit said no)
CHARGED = "sandbox.fast.charged"


def ratelimit(gw: "Gateway", ctx: RequestContext) -> None:
    if not ctx.routed:
        return
    assert ctx.api is not None
    if ctx.fast_reads is not None:  # the fast path replays these limits: note what choosing them read
        saved = _cache.track()
        try:
            limits = tuple(ctx.api.rate_limits(gw.sandbox, ctx, request))
        finally:
            reads, spoiled, deadlines = _cache.untrack(saved)
        ctx.fast_reads.update((ns, v) for ns, v in reads.items() if ns not in ctx.fast_reads)
        ctx.fast_spoiled = ctx.fast_spoiled or spoiled or bool(deadlines)
    else:
        limits = tuple(ctx.api.rate_limits(gw.sandbox, ctx, request))
    ctx.limits = limits
    charged = request.environ.get(CHARGED, 0)
    for i, limit in enumerate(limits):
        if limit.header is not None:
            ctx.response_headers[limit.header[0]] = limit.header[1]
        if i < charged:
            continue
        decision = take(limit)
        if not decision.allowed:
            raise limit.error(decision)


def response_headers(gw: "Gateway", ctx: RequestContext, response: Any) -> Any:
    """Response handler: the headers the chain collected (a limit's header) on every answer."""
    for name, value in ctx.response_headers.items():
        if name not in response.headers:
            response.headers[name] = value
    return response
