"""Handler 3: scenarios. The first firing rule's action answers, delays or marks the request
(``mocks.core.scenarios.engine.Faults.before``); evaluated once per request, after authentication.
An unrouted request is evaluated too (with no tenant); the handlers after this one skip it and the
error handler answers it 404/405 in the API's shape."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response

from mocks.core.chain.context import RequestContext

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.gateway import Gateway


def faults(gw: "Gateway", ctx: RequestContext) -> Response | None:
    return gw.faults.before(ctx)
