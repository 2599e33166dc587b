"""The handler chain every API request goes through (LocalStack calls this a gateway).

Request handlers, in order:
  1. find the API the request is for (by blueprint, else by longest prefix);
  2. authenticate: ``Api.authenticate`` gives the tenant (routes marked ``@public`` skip it);
  3. validate parameters and body against the API's contract; the parsed body goes to
     ``g.body`` for the route;
Response handlers: the API's own response hook, response validation (a response that breaks its
schema is recorded in ``/__sandbox/violations``), then the journal.
Exception handler: every error, raised anywhere, becomes the API's own error shape through
``Api.error_body``: the only place a body is built for an error.

Route code never sees any of this: it reads ``g.tenant``/``g.body`` through
:mod:`mocks.core.http` and raises the API's errors.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from mocks.core import errors as E
from mocks.core import journal as J
from mocks.core.api import Api, public
from mocks.core.contracts import Contract, load_contract, public_document
from mocks.core.scenarios.engine import Faults
from mocks.core.sandbox import Sandbox

log = logging.getLogger("commerce_sandbox")

VIOLATIONS = "__sandbox__/violations"
CONTROL_PREFIX = "/__sandbox"
VALID_BODY_CACHE = 4096


class Gateway:
    def __init__(self, app: Flask, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox
        self.mounts: dict[str, tuple[Api, str]] = {}   # blueprint name -> (api, mount prefix)
        self.contracts: dict[str, Contract] = {}
        self._valid_bodies: dict[tuple[int, bytes], None] = {}
        self._redacted: dict[int, tuple[bytes, str]] = {}  # id(cached body) -> (body, its journal text)
        self.faults = Faults(sandbox)
        self.faults.install(sandbox.config.scenarios)  # --scenario NAME (kept if already active)
        app.before_request(self.before)
        app.after_request(self.after)
        app.teardown_request(self.teardown)
        app.register_error_handler(Exception, self.handle_error)

    # -- mounting ------------------------------------------------------------------
    def mount(self, api: Api, prefix: str, name: str) -> None:
        self.app.register_blueprint(api.blueprint(), url_prefix=prefix or None, name=name)
        self.mounts[name] = (api, prefix)
        if api.name not in self.contracts:
            self.contracts[api.name] = load_contract(api.name, api.case_insensitive_paths)
        contract = self.contracts[api.name]

        @public
        def openapi() -> Response:
            doc = public_document(contract, request.host_url.rstrip("/") + prefix)
            return Response(json.dumps(doc), mimetype="application/json")

        self.app.add_url_rule(f"{prefix}/openapi.json", f"{name}_openapi", openapi, methods=["GET"])

    def locate(self) -> tuple[Api, str] | None:
        """The API (and the prefix it is mounted at) this request is for."""
        bp = request.blueprint
        if bp is not None and bp in self.mounts:
            return self.mounts[bp]
        path = request.path
        best: tuple[Api, str] | None = None
        for api, prefix in self.mounts.values():
            hit = path == prefix or path.startswith(prefix + "/") or (prefix == "" and not path.startswith(CONTROL_PREFIX))
            if hit and (best is None or len(prefix) > len(best[1])):
                best = (api, prefix)
        return best

    # -- request chain -------------------------------------------------------------
    def before(self) -> None:
        g.started = time.perf_counter()
        self.sandbox.store.begin_request()  # one version snapshot per request (see Store.version)
        if request.path.startswith(CONTROL_PREFIX):
            return None
        located = self.locate()
        if located is None:
            return None
        api, prefix = located
        g.api, g.prefix = api, prefix
        g.subpath = request.path[len(prefix):] or "/"
        view = self.app.view_functions.get(request.endpoint or "")
        if request.url_rule is None:
            # routing failed: the error handler answers 404/405 in the API's shape (unless a fault fires)
            return self.faults.before(api, None)
        if not getattr(view, "sandbox_public", False):
            try:
                g.tenant = api.authenticate(request, self.sandbox)
            except Exception:
                injected = self.faults.before(api, None)  # rules without a tenant fire before auth too
                if injected is not None:
                    return injected
                raise
        injected = self.faults.before(api, g.get("tenant"))  # scenarios: after auth, before validation
        if injected is not None:
            return injected
        if getattr(view, "sandbox_cacheable", False) and request.method == "GET":
            cache = self.app.extensions.get("response_cache")
            hit = cache.lookup() if cache is not None else None
            if hit is not None:
                return hit
        self.validate_request(api)
        return None

    def validate_request(self, api: Api) -> None:
        contract = self.contracts[api.name]
        op = contract.match(request.method, g.subpath)
        g.operation = op
        if op is None:
            return
        problems = contract.validate_params(op, g.subpath, request.args, request.headers)
        if op.body_types and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            problems += self.parse_body(contract, op)
        if problems:
            self.record_violation("request", problems)
            raise E.ValidationFailed(f"{problems[0]['pointer']}: {problems[0]['reason']}", errors=problems)

    def parse_body(self, contract: Contract, op: Any) -> list[dict[str, str]]:
        raw = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH
        ctype = (request.mimetype or "").lower()
        if not raw:
            if op.body_required:
                return [{"pointer": "/body", "reason": "a request body is required"}]
            return []
        if ctype not in op.body_types:
            json_declared = any(t.endswith("json") for t in op.body_types)
            if not (json_declared and ctype in ("", "text/plain")):  # lenient like most JSON APIs
                raise E.UnsupportedMediaType(
                    f"Content-Type {ctype or '(none)'} is not supported; use {', '.join(op.body_types)}")
            ctype = next(t for t in op.body_types if t.endswith("json"))
        if ctype.endswith("json"):
            g.body = parse_json(raw)
            validator = op.body_types[ctype]
            return contract.validate_body(validator, g.body) if validator is not None else []
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            g.body = request.form.to_dict(flat=True)
        return []

    # -- response chain ------------------------------------------------------------
    def after(self, response: Response) -> Response:
        api: Api | None = g.get("api")
        if api is None:
            return response
        try:
            api.after_request(request, response)
            response = self.faults.after(api, response)
            if self.sandbox.config.validate_responses and not response.is_streamed:
                self.validate_response(api, response)
            self.journal(api, response)
        except Exception:  # the response chain must never turn an answer into a 500
            log.exception("response chain failed")
        return response

    def teardown(self, exc: BaseException | None) -> None:
        self.sandbox.store.end_request()

    def validate_response(self, api: Api, response: Response) -> None:
        op = g.get("operation")
        if op is None:
            op = self.contracts[api.name].match(request.method, g.get("subpath", request.path))
        if op is None or g.get("fault_injected"):
            return
        documented, validator = op.response_validator(response.status_code, response.mimetype or "")
        problems: list[dict[str, str]] = []
        if not documented:
            problems = [{"pointer": "", "reason": f"status {response.status_code} with {response.mimetype} "
                                                  f"is not documented for {op.operation_id}"}]
        elif validator is not None:
            raw = response.get_data()
            if raw is g.get("cached_body"):  # the response cache's own bytes: validated when made
                return
            # The same bytes validate the same way: a body that passed once for this operation and
            # status is not validated again (most answers repeat). Only passes are remembered.
            key = (id(validator), hashlib.blake2b(raw, digest_size=16).digest())
            if key in self._valid_bodies:
                return
            try:
                body = json.loads(raw)
            except ValueError:
                problems = [{"pointer": "", "reason": "response body is not JSON"}]
            else:
                problems = self.contracts[api.name].validate_body(validator, body)
                for p in problems:
                    p["pointer"] = p["pointer"].replace("/body", "", 1) or "/"
            if not problems:
                if len(self._valid_bodies) >= VALID_BODY_CACHE:
                    self._valid_bodies.pop(next(iter(self._valid_bodies)))  # bounded: oldest out
                self._valid_bodies[key] = None
        if problems:
            self.record_violation("response", problems, response.status_code)

    def record_violation(self, direction: str, problems: list[dict[str, str]], status: int | None = None) -> None:
        store = self.sandbox.store
        seq = store.incr("__sandbox__/meta", "violation_seq")
        entry = {
            "seq": seq, "time": self.sandbox.clock.now(), "direction": direction,
            "api": g.api.name, "tenant": g.get("tenant"), "method": request.method,
            "path": redacted_path(request, g.api.secret_fields),
            "operation": g.operation.operation_id if g.get("operation") else None,
            "status": status, "errors": problems,
        }
        store.put(VIOLATIONS, str(seq % self.sandbox.config.violations_size), entry)
        g.setdefault("violations", []).extend(problems)

    def journal(self, api: Api, response: Response) -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]  # bind the proxies once:
        ctx = g._get_current_object()  # type: ignore[attr-defined]       # this runs on every request
        extra = api.secret_fields
        req_body = ""
        length = req.content_length
        if length and length <= J.BODY_LIMIT * 4:
            req_body = J.redact_text(req.get_data(cache=True).decode("utf-8", "replace"), extra)
        resp_body = ""
        cut = J.BODY_LIMIT * 4  # decode only what the journal can keep (a UTF-8 char is at most 4 bytes)
        journal_body = ctx.get("journal_body")
        if journal_body is not None:
            resp_body = J.redact_text(journal_body[:cut].decode("utf-8", "replace"), extra)
        elif not response.is_streamed:
            raw = response.get_data()
            memo = self._redacted.get(id(raw))
            if memo is not None and memo[0] is raw:  # the response cache's bytes, seen before
                resp_body = memo[1]
            else:
                resp_body = J.redact_text(raw[:cut].decode("utf-8", "replace"), extra)
                if raw is ctx.get("cached_body"):
                    if len(self._redacted) >= 256:
                        self._redacted.pop(next(iter(self._redacted)))
                    self._redacted[id(raw)] = (raw, resp_body)
        req_headers = req.headers
        headers = J.redact_pairs(req_headers.items(), extra)
        auth = req_headers.get("Authorization")
        if auth and auth.startswith("OAuth"):
            headers["Authorization"] = J.redact_oauth_header(auth)
        path = redacted_path(req, extra)
        started = ctx.get("started")
        entry = {
            "time": self.sandbox.clock.now(),
            "api": api.name,
            "tenant": ctx.get("tenant"),
            "method": req.method,
            "path": path,
            "query": J.redact_pairs(req.args.items(multi=True), extra),
            "status": None if ctx.get("fault_no_answer") else response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3) if started else 0.0,
            "request": {"headers": headers, "body": req_body},
            "response": {"headers": J.redact_pairs(response.headers.items(), extra), "body": resp_body},
            "scenario": ctx.get("scenario"),
            "rule": ctx.get("rule"),
            "fault": ctx.get("fault"),
            "violations": ctx.get("violations", []),
        }
        self.sandbox.store.journal_append(entry)

    # -- errors --------------------------------------------------------------------
    def handle_error(self, exc: Exception) -> Response:
        error = to_sandbox_error(exc)
        located = self.locate() if not request.path.startswith(CONTROL_PREFIX) else None
        if located is None:
            body, status, headers = control_error_body(error)
        else:
            api = located[0]
            g.setdefault("api", api)
            g.setdefault("prefix", located[1])
            g.setdefault("subpath", request.path[len(located[1]):] or "/")
            try:
                body, status, headers = api.error_body(error)
            except Exception:
                log.exception("error renderer of %s failed", api.name)
                body, status, headers = control_error_body(error)
        headers = {**error.headers, **headers}
        if isinstance(body, (bytes, str)):
            return Response(body, status=status, headers=headers)
        response = Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)
        return response


def redacted_path(req: Any, extra: frozenset[str] = frozenset()) -> str:
    """The request path with secret path parameters masked (Stock2Shop's /valid_token/{token})."""
    path = req.path
    for name, value in (req.view_args or {}).items():
        if isinstance(value, str) and value and J.is_secret(name, extra):
            path = path.replace("/" + value, "/" + J.REDACTED)
    return path


def to_sandbox_error(exc: Exception) -> E.SandboxError:
    """The one place low-level errors become sandbox errors."""
    if isinstance(exc, E.SandboxError):
        return exc
    if isinstance(exc, RequestEntityTooLarge):
        return E.PayloadTooLarge()
    if isinstance(exc, HTTPException):
        code = exc.code or 500
        if code == 404:
            return E.NotFound(f"No route for {request.method} {request.path}")
        if code == 405:
            return E.MethodNotAllowed(f"Method {request.method} is not allowed for {request.path}")
        if code == 400:
            return E.BadRequest(exc.description or "Bad request")
        return E.for_status(code, exc.description)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return E.InternalError("Internal server error")


def control_error_body(error: E.SandboxError) -> tuple[Any, int, dict[str, str]]:
    body: dict[str, Any] = {"error": error.kind, "message": error.message}
    if isinstance(error, E.ValidationFailed):
        body["errors"] = error.errors
    return body, error.status, {}


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8 only, no NaN/Infinity, no duplicate keys, bounded nesting."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise E.MalformedBody(f"The request body is not valid UTF-8 (byte {exc.start})") from None

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
        return json.loads(text, parse_constant=reject_constant, object_pairs_hook=no_duplicates)
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
