"""A per-process cache of rendered GET answers, invalidated by the data they were made from.

A route marked :func:`cacheable` runs once per distinct request (API, tenant, path, query);
while it runs, the store notes every namespace it reads and the version it had. The answer is
kept with those versions and served again as long as each namespace still has the same version
(one global-version check per request, see ``Store.version``), so a write through any worker
makes the next request render afresh. An answer is not kept if the route wrote anything, read
the sandbox clock (time-dependent), or was not a plain 200. A hit skips the route and the
re-validation of a request identical to one that passed; authentication, scenarios, the API's
response hook and the journal run for every request.
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import Any, Callable

from flask import Response, current_app, request

from mocks.core.chain.context import RequestContext, current

_tl = threading.local()


# -- read tracking (called by the store and the clock) -------------------------------------
def tracking() -> bool:
    return getattr(_tl, "reads", None) is not None


def note_read(namespace: str, version: int) -> None:
    reads = getattr(_tl, "reads", None)
    if reads is not None and namespace not in reads:
        reads[namespace] = version


def note_write() -> None:
    if getattr(_tl, "reads", None) is not None:
        _tl.spoiled = True


def note_clock() -> None:
    if getattr(_tl, "reads", None) is not None:
        _tl.spoiled = True


class ResponseCache:
    def __init__(self, store: Any, max_bytes: int = 32 << 20, max_entry: int = 1 << 20) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        # key -> (dependencies, status, headers, body, operation, header parameter values)
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def _fresh(self, deps: tuple[tuple[str, int], ...]) -> bool:
        version = self.store.version
        return all(version(ns) == v for ns, v in deps)

    @staticmethod
    def key(ctx: RequestContext) -> tuple:
        return (request.endpoint, ctx.tenant, request.path, request.query_string)

    def lookup(self, ctx: RequestContext) -> Response | None:
        """A fresh cached answer to this request, or None.

        Called by the chain (``mocks.core.chain.cache``) after authentication and scenarios, *before* request validation:
        an entry exists only for a request that passed validation with the same endpoint,
        tenant, path, query and values of the header parameters the operation declares, so
        validating the same request again would give the same verdict.
        """
        hit = self._entries.get(self.key(ctx))
        if hit is None:
            return None
        deps, status, headers, body, op, header_values = hit
        if not self._fresh(deps) or any(request.headers.get(n) != v for n, v in header_values):
            return None
        self.hits += 1
        ctx.operation = op
        ctx.cached_body = body  # validated when it was made: the gateway need not hash it again
        return Response(body, status=status, headers=headers)

    def serve(self, view: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        self.misses += 1
        _tl.reads, _tl.spoiled = {}, False
        try:
            response = current_app.make_response(view(*args, **kwargs))
            deps = tuple(_tl.reads.items())
            spoiled = _tl.spoiled
        finally:
            _tl.reads = None
        if spoiled or response.status_code != 200 or response.is_streamed or not deps:
            return response
        body = response.get_data()
        if len(body) > self.max_entry:
            return response
        ctx = current()
        op = ctx.operation
        header_values = tuple((p.name, request.headers.get(p.name)) for p in (op.params if op else ())
                              if p.location == "header")
        key = self.key(ctx)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[3])
            self._entries[key] = (deps, response.status_code, list(response.headers.items()), body, op, header_values)
            self._bytes += len(body)
            while self._bytes > self.max_bytes and self._entries:  # bounded: oldest out
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped[3])
        return response

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def cacheable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a GET route whose answer depends only on the request and the data it reads."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache: ResponseCache | None = current_app.extensions.get("response_cache")
        if cache is None or request.method != "GET":
            return view(*args, **kwargs)
        return cache.serve(view, args, kwargs)

    wrapper.sandbox_cacheable = True  # type: ignore[attr-defined]
    return wrapper
