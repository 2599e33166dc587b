"""The WSGI fast path in front of Flask: a fresh cached answer without Flask's request context.

Once the full chain (``mocks.core.gateway``) has answered a request from the response cache
(``mocks.core.cache``), this middleware remembers what went out: the status line, the headers
after every response hook, the body, and the journal entry. The next request with the same
method, path, query, scheme, request headers (all of them, in order: they are in the journal)
and, for a POST cached by its body (``@cacheable(body=True)``), the same body bytes, is
answered here when

* the response cache still holds that entry and every namespace it was made from, every
  namespace the API's ``authenticate`` and ``rate_limits`` read (the key map: tenants, tokens,
  rate settings) and the scenario activations still have the versions they had (one look at the
  store's change log, as in the full chain: a write through any worker or process is seen);
* the credentials have not expired since (authentication that compared a token's expiry with the
  sandbox clock noted it: ``Clock.before``);
* no scenario is active (installing one changes the activations' version), and the request
  names none (``X-Sandbox-Scenario``);
* the API's rate limits, when it has any for this request, allow it: they are charged here
  exactly as the chain would (``chain.ratelimit.take``); when one says no, the request goes to
  the full chain, told how many were already charged, which answers the API's own error.

Then the answer is the same bytes and headers, and the journal gets the same entry with its own
time and duration (the store's journal buffers it). Anything else (another method, a body, an
edge refusal, authentication that failed, wrote or read the clock otherwise, a fault, a violation) goes to
the full chain. ``SandboxConfig.fast_path = False`` turns it off (the tests compare both).
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable

from mocks.core.chain.context import ENVIRON_KEY
from mocks.core.chain.ratelimit import CHARGED, take
from mocks.core.edge import REFUSED
from mocks.core.scenarios.engine import ACTIVE, HEADER
from mocks.core.store.journal import Template

_SCENARIO_ENV = "HTTP_" + HEADER.upper().replace("-", "_")


@dataclass
class FastAnswer:
    deps: tuple[tuple[str, int], ...]    # namespace -> version, all of which must still hold
    cache_key: tuple                     # the response cache's entry this was made from
    cache_entry: tuple
    limits: tuple                        # the rate limits to charge (chain.ratelimit.Limit)
    deadlines: tuple                     # (at, api, tenant): valid while that clock is before at
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    journal: dict[str, Any]              # the entry (time and duration set per request)
    template: Template | None = None     # its JSON, cut around the time and the duration
    checked: int = -1                    # the change log's position at which deps last held


@dataclass(frozen=True)
class Now:
    """An answer given at once (:meth:`FastPath.answer_now`); ``again()`` gives the same answer
    to the same request once more, journal and checks included, or says it cannot."""
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    again: Callable[[], bool]


def _ignore(*_: Any) -> None:
    return None


#: a POST body up to this size is part of the key (a search cached by its body)
MAX_BODY = 64 * 1024


def request_key(environ: dict[str, Any]) -> tuple | None:
    """What selects an answer: method, path, query, scheme, every request header in order and a
    POST's body bytes; None for a request the fast path never answers (another method, a GET with
    a body, a body without a length or over MAX_BODY, a refusal, a scenario named)."""
    method = environ.get("REQUEST_METHOD")
    if REFUSED in environ or _SCENARIO_ENV in environ or "HTTP_TRANSFER_ENCODING" in environ:
        return None
    length = environ.get("CONTENT_LENGTH")
    body = b""
    if method == "POST":
        size = int(length) if length and length.isascii() and length.isdigit() else -1
        if not 0 < size <= MAX_BODY:
            return None
        body = environ["wsgi.input"].read(size)
        environ["wsgi.input"] = io.BytesIO(body)  # (read again by the full chain)
        if len(body) != size:
            return None
    elif method != "GET" or (length and length != "0"):
        return None
    headers = tuple((k, v) for k, v in environ.items() if k[:5] == "HTTP_")
    return (method, environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
            environ.get("wsgi.url_scheme"), environ.get("CONTENT_TYPE"), headers, body)


class FastPath:
    """WSGI middleware: ``app.wsgi_app = FastPath(app.wsgi_app, gateway, cache)``."""

    def __init__(self, app: Callable[..., Iterable[bytes]], gateway: Any, cache: Any) -> None:
        self.app = app
        self.gateway = gateway
        self.cache = cache
        self.sandbox = gateway.sandbox
        self.store = gateway.sandbox.store
        self.clock = gateway.sandbox.clock
        self.answered = 0   # requests answered here (tests, the bench)
        gateway.fast = self

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = request_key(environ)
        if key is None:
            return self.app(environ, start_response)
        answer = self.cache.fast.get(key)
        if answer is not None:
            out = self.answer(answer, key, environ, start_response)
            if out is not None:
                return out
        sent: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        if sent:
            self.learn(key, environ, sent[0], sent[1])
        return result

    def answer_now(self, environ: dict[str, Any]) -> Now | None:
        """For the worker's main loop (``mocks.core.edgeworker``): the answer to a ``GET``, or a
        ``POST`` cached by its body (all of it in hand), this path holds, or None, never the full
        chain. Only what cannot block: an answer that would charge a rate limit (a write to the
        store) is left to the pool's threads."""
        key = request_key(environ)
        answer = self.cache.fast.get(key) if key is not None else None
        if answer is None or answer.limits:
            return None
        sent: list[Any] = []
        body = self.answer(answer, key, environ, lambda status, headers, exc_info=None: sent.extend((status, headers)))
        return None if body is None else Now(sent[0], sent[1], body[0], partial(self.again, key, answer))

    def again(self, key: tuple, answer: FastAnswer) -> bool:
        """Answer the request of ``key`` once more with the very ``answer`` given before (the
        worker sends the bytes it kept): False, and nothing done, if that answer no longer holds."""
        if self.cache.fast.get(key) is not answer:
            return False
        return self.answer(answer, key, {}, _ignore) is not None

    # -- answering -------------------------------------------------------------------------------
    def answer(self, answer: FastAnswer, key: tuple, environ: dict[str, Any],
               start_response: Callable[..., Any]) -> list[bytes] | None:
        started = time.perf_counter()
        store = self.store
        store.begin_request()  # one look at the change log, as a request of the full chain
        try:
            head = store.applied()  # this process's position in the change log (read once per request)
            if head != answer.checked:  # something changed since: is it one of ours?
                version = store.version
                for ns, v in answer.deps:
                    if version(ns) != v:
                        self.cache.forget_fast(key)
                        return None
                answer.checked = head
            if not self.cache.holds(answer.cache_key, answer.cache_entry):
                self.cache.forget_fast(key)
                return None
            for at, api, tenant in answer.deadlines:  # (a token's expiry: the chain answers from then on)
                if self.clock.now(api, tenant) >= at:
                    self.cache.forget_fast(key)
                    return None
            for i, limit in enumerate(answer.limits):
                if not take(limit).allowed:
                    environ[CHARGED] = i  # the full chain charges the rest and answers the API's error
                    return None
            self.cache.hits += 1
            self.answered += 1
            values = {"time": self.sandbox.clock.now(),
                      "duration_ms": round((time.perf_counter() - started) * 1000, 3)}
            made = partial(_entry, answer.journal, values)
            store.journal_append(made() if answer.template is None else answer.template.fill(values, made))
        finally:
            store.end_request()
        start_response(answer.status, list(answer.headers))
        return [answer.body]

    # -- learning from the full chain ------------------------------------------------------------
    def learn(self, key: tuple, environ: dict[str, Any], status: str, headers: list[tuple[str, str]]) -> None:
        ctx = environ.get(ENVIRON_KEY)
        if ctx is None or ctx.cache_hit is None or ctx.api is None or ctx.tenant is None or ctx.public:
            return
        if ctx.fast_reads is None or ctx.fast_spoiled or ctx.journal_entry is None or ctx.violations:
            return
        if ctx.fault is not None or ctx.scenario is not None or ctx.rule_misses or ctx.fault_injected \
                or ctx.fault_no_answer or ctx.edge_refused or ctx.journal_body is not None:
            return
        if environ.get(CHARGED) or not status.startswith("200"):
            return
        body = ctx.cached_body
        length = next((v for k, v in headers if k.lower() == "content-length"), None)
        if body is None or length != str(len(body)):
            return
        store = self.store
        store.begin_request()
        try:
            if self.gateway.faults.active():  # (its version is a dependency from here on)
                return
            deps = dict(ctx.fast_reads)
            deps.setdefault(ACTIVE, store.version(ACTIVE))
        finally:
            store.end_request()
        cache_key, cache_entry = ctx.cache_hit
        for ns, v in cache_entry[0]:
            deps.setdefault(ns, v)
        journal = {k: v for k, v in ctx.journal_entry.items() if k != "seq"}  # (the same key order)
        journal["violations"] = []
        self.cache.remember_fast(key, FastAnswer(tuple(deps.items()), cache_key, cache_entry, ctx.limits,
                                                 ctx.fast_deadlines, status, list(headers), body, journal,
                                                 Template.of(journal)))


def _entry(journal: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The journal entry of one fast answer: the first one's, with its own time and duration."""
    entry = journal.copy()
    entry.update(values)
    return entry


def install(app: Any, gateway: Any) -> FastPath | None:
    """Put the fast path in front of ``app``'s Flask WSGI app (``create_app`` does, before the edge)."""
    cache = app.extensions.get("response_cache")
    if cache is None or not gateway.sandbox.config.fast_path:
        return None
    fast = FastPath(app.wsgi_app, gateway, cache)
    app.wsgi_app = fast
    return fast
