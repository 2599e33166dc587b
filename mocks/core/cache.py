"""A per-process cache of rendered GET answers, invalidated by the data they were made from.

A route marked :func:`cacheable` runs once per distinct request (API, tenant, path, query);
while it runs, the store notes every namespace it reads and the version it had. The answer is
kept with those versions and served again as long as each namespace still has the same version
(one global-version check per request, see ``Store.version``), so a write through any worker
makes the next request render afresh. An answer is not kept if the route wrote anything, read
the sandbox clock (time-dependent), or was not a plain 200. Only the route is skipped: auth,
scenarios, validation, the API's response hook and the journal run for every request.
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import Any, Callable

from flask import Response, current_app, g, request

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
        self._entries: OrderedDict[tuple, tuple[tuple[tuple[str, int], ...], int, list, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def _fresh(self, deps: tuple[tuple[str, int], ...]) -> bool:
        version = self.store.version
        return all(version(ns) == v for ns, v in deps)

    def serve(self, view: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        key = (request.endpoint, g.get("tenant"), request.path, request.query_string)
        hit = self._entries.get(key)
        if hit is not None and self._fresh(hit[0]):
            self.hits += 1
            g.cached_response = True
            return Response(hit[3], status=hit[1], headers=hit[2])
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
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[3])
            self._entries[key] = (deps, response.status_code, list(response.headers.items()), body)
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

    return wrapper
