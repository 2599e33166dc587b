"""Handler 5: a fresh cached answer to an identical request of a ``@cacheable`` route
(:class:`mocks.core.cache.ResponseCache`): a GET, or a POST cached by its body
(``@cacheable(body=True)``); a hit skips validation and the route."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, request

from mocks.core.chain.context import RequestContext

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.gateway import Gateway


def cached(gw: "Gateway", ctx: RequestContext) -> Response | None:
    if not ctx.routed or request.method not in ("GET", "POST"):
        return None
    view = gw.app.view_functions.get(request.endpoint or "")
    method = getattr(view, "sandbox_cacheable_method", None)
    if method != request.method:
        return None
    cache = gw.app.extensions.get("response_cache")
    return cache.lookup(ctx, by_body=method == "POST") if cache is not None else None
