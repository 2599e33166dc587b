"""Last response handler: one redacted journal entry per API request (``/__sandbox/requests``).

The entry carries what the chain learnt on the way: the tenant, the scenario rule that fired (and
why the others did not: ``rule_misses``), the injected fault, the violations.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Iterator

from flask import Response, request

from mocks.core import edge
from mocks.core import journal as J
from mocks.core.chain.context import RequestContext
from mocks.core.chain.validate import redacted_path

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.gateway import Gateway

REDACTED_MEMO = 256


def journal(gw: "Gateway", ctx: RequestContext, response: Response) -> None:
    api = ctx.api
    assert api is not None
    req = request._get_current_object()  # type: ignore[attr-defined]  # bind the proxy once: every request
    extra = api.secret_fields
    limit = gw.sandbox.config.journal_body_limit
    req_body = ""
    length = req.content_length
    if length and length <= limit * 4:
        req_body = edge.scrub(J.redact_text(req.get_data(cache=True).decode("utf-8", "replace"), extra, limit))
    resp_body = ""
    cut = limit * 4  # decode only what the journal can keep (a UTF-8 char is at most 4 bytes)
    if ctx.journal_body is not None:
        resp_body = J.redact_text(ctx.journal_body[:cut].decode("utf-8", "replace"), extra, limit)
    elif not response.is_streamed:
        raw = response.get_data()
        memo = gw.redacted.get(id(raw))
        if memo is not None and memo[0] is raw:  # the response cache's bytes, seen before
            resp_body = memo[1]
        else:
            resp_body = J.redact_text(raw[:cut].decode("utf-8", "replace"), extra, limit)
            if raw is ctx.cached_body:
                if len(gw.redacted) >= REDACTED_MEMO:
                    gw.redacted.pop(next(iter(gw.redacted)))
                gw.redacted[id(raw)] = (raw, resp_body)
    req_headers = req.headers
    headers = J.redact_pairs(req_headers.items(), extra)
    auth = req_headers.get("Authorization")
    if auth and auth.startswith("OAuth"):
        headers["Authorization"] = J.redact_oauth_header(auth)
    entry = {
        "time": gw.sandbox.clock.now(),
        "api": api.name,
        "tenant": ctx.tenant,
        "method": req.method,
        "path": redacted_path(req, extra),
        "query": J.redact_pairs(req.args.items(multi=True), extra),
        "status": None if ctx.fault_no_answer else response.status_code,
        "duration_ms": round((time.perf_counter() - ctx.started) * 1000, 3),
        "request": {"headers": headers, "body": req_body},
        "response": {"headers": J.redact_pairs(response.headers.items(), extra), "body": resp_body},
        "scenario": ctx.scenario,
        "rule": ctx.rule,
        "fault": ctx.fault,
        "violations": ctx.violations,
    }
    if ctx.rule_misses:
        entry["rule_misses"] = ctx.rule_misses
    if ctx.fault is not None and (ctx.fault_no_answer or response.is_streamed):
        # a fault that holds the connection (timeout, dribble) or drops it does so after this point,
        # while the server sends the body: the entry is written once the body is done (or the
        # connection gone), with the time the request really took. The body itself is wrapped:
        # a direct-passthrough response never runs call_on_close callbacks.
        body = response.response

        def timed() -> Iterator[bytes]:
            try:
                yield from body
            finally:
                entry["duration_ms"] = round((time.perf_counter() - ctx.started) * 1000, 3)
                gw.sandbox.store.journal_append(entry)

        response.response = timed()
        return
    ctx.journal_entry = entry
    gw.sandbox.store.journal_append(entry)
