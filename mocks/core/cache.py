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
import json
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


def note_deadline(at: float, api: str | None, tenant: str | None) -> None:
    """What was read holds only while the clock of (api, tenant) is before ``at`` (a token's
    expiry): unlike a clock read, an answer may be kept, checked against that time."""
    if getattr(_tl, "reads", None) is not None:
        _tl.deadlines = (*getattr(_tl, "deadlines", ()), (at, api, tenant))


def track() -> tuple[Any, ...]:
    """Start noting reads on this thread (nested: returns what to give :func:`untrack`)."""
    saved = (getattr(_tl, "reads", None), getattr(_tl, "spoiled", False), getattr(_tl, "deadlines", ()))
    _tl.reads, _tl.spoiled, _tl.deadlines = {}, False, ()
    return saved


def untrack(saved: tuple[Any, ...]) -> tuple[dict[str, int], bool, tuple[tuple[float, Any, Any], ...]]:
    """Stop noting reads: (namespace -> version read, whether a write or the clock spoiled it,
    the deadlines noted)."""
    reads, spoiled, deadlines = _tl.reads, _tl.spoiled, _tl.deadlines
    _tl.reads, _tl.spoiled, _tl.deadlines = saved
    return reads, spoiled, deadlines


def body_key(ctx: RequestContext) -> bytes | None:
    """The canonical form of this request's JSON body for a cache key (sorted keys, no spaces), or
    None when it cannot be read (the full chain then answers, and refuses it)."""
    from mocks.core.chain.validate import parse_json  # (the strict parser: duplicate keys, NaN: None)

    raw = request.get_data(cache=True)
    try:
        parsed = parse_json(raw) if raw else None
    except Exception:  # noqa: BLE001 - any refusal is the full chain's to render
        return None
    text = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (request.mimetype or "").encode() + b"\n" + text.encode("utf-8", "surrogatepass")


class ResponseCache:
    def __init__(self, store: Any, max_bytes: int = 32 << 20, max_entry: int = 1 << 20,
                 max_fast: int = 4096) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        # key -> (dependencies, status, headers, body, operation, header parameter values)
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        #: the WSGI fast path's answers (mocks.core.fastpath), made from hits of the full chain;
        #: cleared with the rest (a reset, a restore)
        self.fast: dict[tuple, Any] = {}
        self.max_fast = max_fast
        self._fast_bytes = 0  # bodies held by fast answers: bounded by max_bytes too (an answer may
        #                       outlive the entry it was made from, which then only the count bounded)

    def _fresh(self, deps: tuple[tuple[str, int], ...]) -> bool:
        version = self.store.version
        return all(version(ns) == v for ns, v in deps)

    @staticmethod
    def key(ctx: RequestContext, body: bytes | None = None) -> tuple:
        principal = ctx.principal
        return (request.endpoint, ctx.tenant, None if principal is None else repr(principal),
                request.method, request.path, request.query_string, body)

    def lookup(self, ctx: RequestContext, by_body: bool = False) -> Response | None:
        """A fresh cached answer to this request, or None.

        Called by the chain (``mocks.core.chain.cache``) after authentication and scenarios, *before* request validation:
        an entry exists only for a request that passed validation with the same endpoint,
        tenant, path, query, values of the header parameters the operation declares and (for a
        route cached by body) the same canonical body and content type, so validating the same
        request again would give the same verdict.
        """
        body = None
        if by_body:
            body = body_key(ctx)
            if body is None:
                return None
        key = self.key(ctx, body)
        hit = self._entries.get(key)
        if hit is None:
            return None
        deps, status, headers, raw, op, header_values = hit
        if not self._fresh(deps) or any(request.headers.get(n) != v for n, v in header_values):
            return None
        self.hits += 1
        ctx.operation = op
        ctx.cached_body = raw  # validated when it was made: the gateway need not hash it again
        ctx.cache_hit = (key, hit)
        return Response(raw, status=status, headers=headers)

    def serve(self, view: Callable[..., Any], args: tuple, kwargs: dict, by_body: bool = False) -> Any:
        self.misses += 1
        saved = track()
        try:
            response = current_app.make_response(view(*args, **kwargs))
        finally:
            reads, spoiled, deadlines = untrack(saved)
        spoiled = spoiled or bool(deadlines)  # (a route's answer that holds until a time: not kept)
        ctx = current()
        if ctx.fast_reads:  # what authentication and the rate limits read: a change there misses too
            for ns, v in ctx.fast_reads.items():
                reads.setdefault(ns, v)
        deps = tuple(reads.items())
        if spoiled or response.status_code != 200 or response.is_streamed or not deps:
            return response
        raw = response.get_data()
        if len(raw) > self.max_entry:
            return response
        body = None
        if by_body:
            body = body_key(ctx)
            if body is None:
                return response
        op = ctx.operation
        header_values = tuple((p.name, request.headers.get(p.name)) for p in (op.params if op else ())
                              if p.location == "header")
        key = self.key(ctx, body)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[3])
            self._entries[key] = (deps, response.status_code, list(response.headers.items()), raw, op, header_values)
            self._bytes += len(raw)
            while self._bytes > self.max_bytes and self._entries:  # bounded: oldest out
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped[3])
        return response

    def holds(self, key: tuple, entry: tuple) -> bool:
        """``entry`` is still the one kept under ``key`` (not dropped, replaced or cleared)."""
        return self._entries.get(key) is entry

    def remember_fast(self, key: tuple, answer: Any) -> None:
        with self._lock:
            fast = self.fast
            old = fast.pop(key, None)
            if old is not None:
                self._fast_bytes -= len(old.body)
            fast[key] = answer
            self._fast_bytes += len(answer.body)
            while (len(fast) > self.max_fast or self._fast_bytes > self.max_bytes) and fast:
                self._fast_bytes -= len(fast.pop(next(iter(fast))).body)  # bounded: oldest out

    def forget_fast(self, key: tuple) -> None:
        with self._lock:
            old = self.fast.pop(key, None)
            if old is not None:
                self._fast_bytes -= len(old.body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.fast.clear()
            self._bytes = self._fast_bytes = 0


def cacheable(view: Callable[..., Any] | None = None, *, body: bool = False) -> Any:
    """Mark a route whose answer depends only on the request and the data it reads: a GET, or
    (``body=True``) a read-only POST whose JSON body is part of the key, canonically (sorted
    keys, no spaces: Stock2Shop's ``elastic_search``). ``@cacheable`` or ``@cacheable(body=True)``."""
    if view is None:
        return functools.partial(cacheable, body=body)
    method = "POST" if body else "GET"

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache: ResponseCache | None = current_app.extensions.get("response_cache")
        if cache is None or request.method != method:
            return view(*args, **kwargs)
        return cache.serve(view, args, kwargs, by_body=body)

    wrapper.sandbox_cacheable = True  # type: ignore[attr-defined]
    wrapper.sandbox_cacheable_method = method  # type: ignore[attr-defined]
    return wrapper
