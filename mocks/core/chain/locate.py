"""Handler 1: which API (and mount prefix) a request is for, and what kind of route it reached."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import request

from mocks.core.chain.context import RequestContext

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.gateway import Gateway

CONTROL_PREFIX = "/__sandbox"


def find(mounts: dict[str, tuple[Any, str]], blueprint: str | None, path: str) -> tuple[Any, str] | None:
    """The (api, prefix) a request is for: by blueprint, else by the longest mount prefix."""
    if blueprint is not None and blueprint in mounts:
        return mounts[blueprint]
    best: tuple[Any, str] | None = None
    for api, prefix in mounts.values():
        hit = path == prefix or path.startswith(prefix + "/") or (prefix == "" and not path.startswith(CONTROL_PREFIX))
        if hit and (best is None or len(prefix) > len(best[1])):
            best = (api, prefix)
    return best


def bind(ctx: RequestContext, located: tuple[Any, str]) -> None:
    ctx.api, ctx.prefix = located
    ctx.subpath = request.path[len(ctx.prefix):] or "/"


def locate(gw: "Gateway", ctx: RequestContext) -> None:
    bind(ctx, gw.locate())  # the gateway runs the chain only for a located API request
    view = gw.app.view_functions.get(request.endpoint or "")
    ctx.routed = request.url_rule is not None
    ctx.public = bool(getattr(view, "sandbox_public", False))
    ctx.passthrough = bool(getattr(view, "sandbox_passthrough", False))
