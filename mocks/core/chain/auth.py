"""Handler 2: ``Api.authenticate`` gives the tenant (and the principal the API found).

``@public`` routes and unrouted requests skip it. When authentication fails, scenario rules that
need no tenant are tried first (a fault fires before the API's 401, as on a flaky real service).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, request

from mocks.core import cache
from mocks.core.api import Identity
from mocks.core.chain.context import RequestContext

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.gateway import Gateway


def authenticate(gw: "Gateway", ctx: RequestContext) -> Response | None:
    if not ctx.routed or ctx.public:
        return None
    assert ctx.api is not None
    # what authentication read: a cached answer depends on it too (the fast path's key map)
    saved = cache.track() if gw.cache is not None else None
    try:
        found = ctx.api.authenticate(request, gw.sandbox)
    except Exception:
        if saved is not None:
            cache.untrack(saved)
            saved = None
        injected = gw.faults.before(ctx)  # rules without a tenant fire before auth too
        if injected is not None:
            return injected
        raise
    finally:
        if saved is not None:
            ctx.fast_reads, ctx.fast_spoiled, ctx.fast_deadlines = cache.untrack(saved)
    if isinstance(found, Identity):
        ctx.tenant, ctx.principal = found.tenant, found.principal
    else:
        ctx.tenant = found
    return None
