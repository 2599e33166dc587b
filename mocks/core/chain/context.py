"""The typed state of one API request, shared by the chain's handlers, the API's hooks and routes.

One :class:`RequestContext` per request, made by the first handler and kept in the WSGI environ
(not on ``flask.g``): every field a request carries is declared here, with the handler that sets
it. Route code reads it through :mod:`mocks.core.http` (``body()``, ``tenant()``, ``principal()``,
``item_failures()``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.api import Api
    from mocks.core.contracts import Operation
    from mocks.core.scenarios.item_failures import ItemFailures

ENVIRON_KEY = "commerce_sandbox.context"


class _NoBody:
    """``RequestContext.body`` before anything parsed the request body."""

    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Any = _NoBody()


@dataclass
class RequestContext:
    started: float = field(default_factory=time.perf_counter)
    # -- locate ---------------------------------------------------------------------------------
    api: "Api | None" = None
    prefix: str = ""                  # where the API is mounted ("/stock2shop", "" for --root-api)
    subpath: str = "/"                # the path after the prefix
    routed: bool = True               # False: no route matched (answered 404/405 in the API's shape)
    public: bool = False              # the route is marked @public: no authentication
    passthrough: bool = False         # the route is marked @passthrough (the drift proxy): a request
                                      # that breaks the contract is recorded, not refused
    # -- auth -----------------------------------------------------------------------------------
    tenant: str | None = None
    principal: Any = None             # what the API's authenticate found (a Stock2Shop user, an
                                      # API2Cart account and store): see Identity in mocks.core.api
    # -- validate -------------------------------------------------------------------------------
    operation: "Operation | None" = None
    body: Any = NO_BODY               # the parsed JSON body, or a form as a dict
    # -- scenarios (mocks.core.scenarios.engine) ------------------------------------------------
    fault_checked: bool = False
    scenario: str | None = None       # the scenario whose rule fired
    rule: str | int | None = None     # that rule's name (or index)
    fault: dict[str, Any] | None = None   # what was injected (journal)
    fault_injected: bool = False      # the answer is not the API's own (no response validation)
    edge_refused: bool = False        # refused by mocks.core.edge before any operation (414/431/413)
    fault_no_answer: str | None = None    # timeout | reset | close: the client got no answer
    fault_after: tuple[dict[str, Any], Any] | None = None  # (action, rng) altering the real answer
    fault_hooks: dict[str, Any] | None = None
    rule_misses: list[dict[str, Any]] = field(default_factory=list)  # why the other rules did not fire
    item_failures: "ItemFailures | None" = None   # the scenario's item_failures for this bulk request
    webhook_failure: dict[str, Any] | None = None
    # -- rate limits ----------------------------------------------------------------------------
    response_headers: dict[str, str] = field(default_factory=dict)  # set on every answer (rate limit)
    # -- cache and journal ----------------------------------------------------------------------
    cached_body: bytes | None = None  # the response cache's bytes (validated when they were made)
    cache_hit: tuple | None = None    # (key, entry) of the response cache's hit (mocks.core.fastpath learns from it)
    # -- the WSGI fast path (mocks.core.fastpath) -----------------------------------------------
    fast_reads: dict[str, int] | None = None  # what auth and rate_limits read (namespace -> version; chain.auth)
    fast_spoiled: bool = False        # auth or the limits wrote or read the clock: no fast answer from this
    fast_deadlines: tuple = ()        # (at, api, tenant): auth's answer holds while that clock is before at
    limits: tuple = ()                # the rate limits this request was charged to (chain.ratelimit)
    journal_entry: dict[str, Any] | None = None   # the entry the journal wrote (chain.journal)
    journal_body: bytes | None = None # the body as sent when the response streams it (dribble)
    violations: list[dict[str, str]] = field(default_factory=list)

    @property
    def has_body(self) -> bool:
        return self.body is not NO_BODY


def current() -> RequestContext:
    """This request's context (made on first use, so a context exists outside API routes too)."""
    from flask import request
    env = request.environ
    ctx = env.get(ENVIRON_KEY)
    if ctx is None:
        ctx = env[ENVIRON_KEY] = RequestContext()
    return ctx


def peek() -> RequestContext | None:
    """This request's context if the chain made one (None outside a request or before the chain)."""
    from flask import has_request_context, request
    if not has_request_context():
        return None
    return request.environ.get(ENVIRON_KEY)
