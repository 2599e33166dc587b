"""Handler 5: a fresh cached answer to an identical GET of a ``@cacheable`` route
(:class:`mocks.core.cache.ResponseCache`); a hit skips validation and the route."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, request

from mocks.core.chain.context import RequestContext

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.gateway import Gateway


def cached(gw: "Gateway", ctx: RequestContext) -> Response | None:
    if not ctx.routed or request.method != "GET":
        return None
    view = gw.app.view_functions.get(request.endpoint or "")
    if not getattr(view, "sandbox_cacheable", False):
        return None
    cache = gw.app.extensions.get("response_cache")
    return cache.lookup(ctx) if cache is not None else None
