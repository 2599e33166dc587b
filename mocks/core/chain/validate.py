"""Handler 6: parameters and body against the API's contract (``schemas/{api}/openapi.yaml``).

The parsed body goes to ``RequestContext.body`` for the route. On the way out,
:func:`validate_response` checks the answer against the same contract; a request or response that
breaks its schema is recorded in ``/__sandbox/violations`` (:func:`record_violation`).
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from flask import Response, request

from mocks.core import edge
from mocks.core import errors as E
from mocks.core import journal as J
from mocks.core import jsonutil
from mocks.core.chain.context import RequestContext
from mocks.core.contracts import Contract

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.gateway import Gateway

VIOLATIONS = "__sandbox__/violations"
VALID_BODY_CACHE = 4096


def validate(gw: "Gateway", ctx: RequestContext) -> None:
    if not ctx.routed:
        return
    if ctx.passthrough:  # forwarded as it is (the drift proxy): what breaks the contract is only recorded
        try:
            check_request(gw, ctx)
        except E.SandboxError as exc:
            if not isinstance(exc, E.ValidationFailed):  # a body that cannot be read: not recorded yet
                record_violation(gw, ctx, "request", [{"pointer": "/body", "reason": exc.message}])
        return
    check_request(gw, ctx)


def check_request(gw: "Gateway", ctx: RequestContext) -> None:
    """Parameters and body against the contract; ValidationFailed (recorded) when they break it."""
    assert ctx.api is not None
    contract = gw.contracts[ctx.api.name]
    op = contract.match(request.method, ctx.subpath)
    ctx.operation = op
    if op is None:
        return
    edge.check_query(request.environ.get("QUERY_STRING", ""))  # text the store cannot hold: 400
    canonical = contract.canonical_query(op, request.args)
    if canonical is not request.args:  # a case-insensitive API: the route reads the declared names
        request.args = canonical
    problems = contract.validate_params(op, ctx.subpath, request.args, request.headers)
    if op.body_types and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        problems += parse_body(ctx, contract, op)
    if problems:
        record_violation(gw, ctx, "request", problems)
        raise E.ValidationFailed(f"{problems[0]['pointer']}: {problems[0]['reason']}", errors=problems)


def parse_body(ctx: RequestContext, contract: Contract, op: Any) -> list[dict[str, str]]:
    raw = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH
    ctype = (request.mimetype or "").lower()
    if not raw:
        if op.body_required:
            return [{"pointer": "/body", "reason": "a request body is required"}]
        return []
    if ctype not in op.body_types:
        json_declared = any(t.endswith("json") for t in op.body_types)
        if not (json_declared and ctype in api_lenient_types(ctx)):  # lenient like most JSON APIs
            raise E.UnsupportedMediaType(
                f"Content-Type {ctype or '(none)'} is not supported; use {', '.join(op.body_types)}")
        ctype = next(t for t in op.body_types if t.endswith("json"))
    if ctype.endswith("json"):
        ctx.body = parse_json(raw)
        edge.check_text(ctx.body, ctx.api.bulk_items if ctx.api else None)  # text the store cannot hold: 400
        validator = op.body_types[ctype]
        return contract.validate_body(validator, ctx.body) if validator is not None else []
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        ctx.body = request.form.to_dict(flat=True)
    return []


def api_lenient_types(ctx: RequestContext) -> tuple[str, ...]:
    return ctx.api.lenient_json_types if ctx.api is not None else ("", "text/plain")


# -- responses ----------------------------------------------------------------------------------
def validate_response(gw: "Gateway", ctx: RequestContext, response: Response) -> None:
    assert ctx.api is not None
    op = ctx.operation
    if op is None:
        op = gw.contracts[ctx.api.name].match(request.method, ctx.subpath)
    if op is None or ctx.fault_injected or ctx.edge_refused:  # (edge: refused before the operation)
        return
    documented, validator = op.response_validator(response.status_code, response.mimetype or "")
    problems: list[dict[str, str]] = []
    if not documented:
        problems = [{"pointer": "", "reason": f"status {response.status_code} with {response.mimetype} "
                                              f"is not documented for {op.operation_id}"}]
    elif validator is not None:
        raw = response.get_data()
        if raw is ctx.cached_body:  # the response cache's own bytes: validated when made
            return
        # The same bytes validate the same way: a body that passed once for this operation and
        # status is not validated again (most answers repeat). Only passes are remembered.
        key = (id(validator), hashlib.blake2b(raw, digest_size=16).digest())
        if key in gw.valid_bodies:
            return
        try:
            body = _response_json(raw)
        except ValueError:
            problems = [{"pointer": "", "reason": "response body is not JSON"}]
        else:
            problems = gw.contracts[ctx.api.name].validate_body(validator, body)
            for p in problems:
                p["pointer"] = p["pointer"].replace("/body", "", 1) or "/"
        if not problems:
            if len(gw.valid_bodies) >= VALID_BODY_CACHE:
                gw.valid_bodies.pop(next(iter(gw.valid_bodies)))  # bounded: oldest out
            gw.valid_bodies[key] = None
    if problems:
        record_violation(gw, ctx, "response", problems, response.status_code)


def _response_json(raw: bytes) -> Any:
    """A response body decoded: orjson first (a 100-product search page in ~1 ms instead of ~5
    with the standard library), which reads what the sandbox writes (mocks.core.jsonutil); the
    standard library for anything else (NaN)."""
    try:
        return jsonutil.loads(raw)
    except ValueError:
        return json.loads(raw)


def record_violation(gw: "Gateway", ctx: RequestContext, direction: str, problems: list[dict[str, str]],
                     status: int | None = None) -> None:
    assert ctx.api is not None
    sandbox = gw.sandbox
    store = sandbox.store
    seq = store.incr("__sandbox__/meta", "violation_seq")
    entry = {
        "seq": seq, "time": sandbox.clock.now(), "direction": direction,
        "api": ctx.api.name, "tenant": ctx.tenant, "method": request.method,
        "path": redacted_path(request, ctx.api.secret_fields),
        "operation": ctx.operation.operation_id if ctx.operation is not None else None,
        "status": status, "errors": [{"pointer": p["pointer"], "reason": p["reason"]} for p in problems],
    }
    store.put(VIOLATIONS, str(seq % sandbox.config.violations_size), entry)
    ctx.violations.extend(entry["errors"])


def redacted_path(req: Any, extra: frozenset[str] = frozenset()) -> str:
    """The request path with secret path parameters masked (Stock2Shop's /valid_token/{token})."""
    path = req.path
    for name, value in (req.view_args or {}).items():
        if isinstance(value, str) and value and J.is_secret(name, extra):
            path = path.replace("/" + value, "/" + J.REDACTED)
    return path


# -- strict JSON --------------------------------------------------------------------------------
def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8 only, no NaN/Infinity, no duplicate keys, bounded nesting."""
    text = edge.decode_json_text(raw)  # bytes that are not UTF-8: a 400 naming the field (edge.check_text)

    def reject_constant(name: str) -> Any:
        raise E.MalformedBody(f"The request body contains {name}, which is not valid JSON")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise E.MalformedBody(f"The request body repeats the key {key!r}")
            out[key] = value
        return out

    depth = max_depth(text)
    if depth > 64:
        raise E.MalformedBody(f"The request body is nested {depth} levels deep (at most 64)")
    try:
        return json.loads(text, parse_constant=reject_constant, object_pairs_hook=no_duplicates,
                          parse_float=edge.finite_float, parse_int=edge.bounded_int)
    except E.MalformedBody:
        raise
    except (ValueError, RecursionError) as exc:
        raise E.MalformedBody(f"The request body is not valid JSON: {exc}") from None


_STRING = re.compile(r'"(?:\\.|[^"\\])*"')
_BRACKETS = {ord(c): None for c in map(chr, range(128)) if c not in "[]{}"}


def max_depth(text: str) -> int:
    """Nesting depth of brackets outside strings (cheap pre-check against deep-nesting bombs)."""
    depth = best = 0
    for ch in _STRING.sub("", text).translate(_BRACKETS):
        if ch in "[{":
            depth += 1
            if depth > best:
                best = depth
        elif ch in "]}":
            depth -= 1
    return best
