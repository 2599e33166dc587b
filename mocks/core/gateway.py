"""The gateway: mounts the APIs and runs the request chain (``mocks.core.chain``) for each request.

Request handlers, in order (:data:`REQUEST_HANDLERS`): locate, auth, faults, ratelimit, cache,
validate. The first that returns a response answers instead of the route. Response handlers
(:data:`RESPONSE_HANDLERS`): the API's response hook, the chain's response headers (rate limits),
scenario actions on the real answer, response validation, the journal. Exception handler: every
error, raised anywhere, becomes the API's own error shape through ``Api.error_body``: the only
place a body is built for an error.

All of them share one typed :class:`~mocks.core.chain.context.RequestContext`. Route code never
sees any of this: it reads the tenant, the principal and the body through :mod:`mocks.core.http`
and raises the API's errors.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from mocks.core import docspage
from mocks.core import errors as E
from mocks.core.api import Api, sandbox_page
from mocks.core.chain.auth import authenticate
from mocks.core.chain.cache import cached
from mocks.core.chain.context import RequestContext, current, peek
from mocks.core.chain.faults import faults
from mocks.core.chain.journal import journal
from mocks.core.chain.locate import CONTROL_PREFIX, bind, find, locate
from mocks.core.chain.ratelimit import ratelimit, response_headers
from mocks.core.chain.validate import VIOLATIONS, parse_json, validate, validate_response
from mocks.core.contracts import Contract, load_contract, public_document
from mocks.core.sandbox import Sandbox
from mocks.core.scenarios.engine import Faults

log = logging.getLogger("commerce_sandbox")

__all__ = ["Gateway", "VIOLATIONS", "CONTROL_PREFIX", "parse_json", "REQUEST_HANDLERS", "RESPONSE_HANDLERS"]

RequestHandler = Callable[["Gateway", RequestContext], "Response | None"]
ResponseHandler = Callable[["Gateway", RequestContext, Response], "Response | None"]


def api_hook(gw: "Gateway", ctx: RequestContext, response: Response) -> None:
    assert ctx.api is not None
    ctx.api.after_request(request, response)


def scenario_after(gw: "Gateway", ctx: RequestContext, response: Response) -> Response:
    return gw.faults.after(ctx, response)


def check_response(gw: "Gateway", ctx: RequestContext, response: Response) -> None:
    if gw.sandbox.config.validate_responses and not response.is_streamed:
        validate_response(gw, ctx, response)


#: the request chain, in order (see mocks.core.chain)
REQUEST_HANDLERS: list[RequestHandler] = [locate, authenticate, faults, ratelimit, cached, validate]
#: the response chain, in order; a handler may return a replacement response
RESPONSE_HANDLERS: list[ResponseHandler] = [api_hook, response_headers, scenario_after, check_response, journal]


class Gateway:
    def __init__(self, app: Flask, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox
        self.mounts: dict[str, tuple[Api, str]] = {}   # blueprint name -> (api, mount prefix)
        self.contracts: dict[str, Contract] = {}
        self.valid_bodies: dict[tuple[int, bytes], None] = {}   # response bodies that passed (validate)
        self.redacted: dict[int, tuple[bytes, str]] = {}  # id(cached body) -> (body, its journal text)
        self.faults = Faults(sandbox)
        self.fast: Any = None  # the WSGI fast path in front of Flask (mocks.core.fastpath), when on
        self.cache = app.extensions.get("response_cache")  # (mocks.core.cache), None when off
        self.faults.install(sandbox.config.scenarios)  # --scenario NAME (kept if already active)
        self.request_handlers = list(REQUEST_HANDLERS)
        self.response_handlers = list(RESPONSE_HANDLERS)
        app.before_request(self.before)
        app.after_request(self.after)
        app.teardown_request(self.teardown)
        app.register_error_handler(Exception, self.handle_error)

    # -- mounting ------------------------------------------------------------------
    def mount(self, api: Api, prefix: str, name: str) -> None:
        self.app.register_blueprint(api.blueprint(), url_prefix=prefix or None, name=name)
        self.mounts[name] = (api, prefix)
        if api.name not in self.contracts:
            self.contracts[api.name] = load_contract(api.name, api.case_insensitive_paths, api.schemas_root)
        contract = self.contracts[api.name]

        @sandbox_page  # about the API, not a call to it: no scenario, limit or journal entry (the docs page loads it)
        def openapi() -> Response:
            doc = public_document(contract, request.host_url.rstrip("/") + prefix)
            return Response(json.dumps(doc), mimetype="application/json")

        self.app.add_url_rule(f"{prefix}/openapi.json", f"{name}_openapi", openapi, methods=["GET"])
        docspage.mount(self.app, prefix, name, api.title)  # {prefix}/docs: the page that renders it

    def locate(self) -> tuple[Api, str] | None:
        """The API (and the prefix it is mounted at) this request is for."""
        return find(self.mounts, request.blueprint, request.path)

    def sandbox_page(self) -> bool:
        """A route marked ``@sandbox_page`` (the contract, its docs page): served outside the chain."""
        return getattr(self.app.view_functions.get(request.endpoint or ""), "sandbox_page", False)

    # -- the chain -----------------------------------------------------------------
    def before(self) -> Response | None:
        ctx = current()  # the context's clock starts here
        self.sandbox.store.begin_request()  # one version snapshot per request (see Store.version)
        if request.path.startswith(CONTROL_PREFIX) or self.locate() is None or self.sandbox_page():
            return None
        for handler in self.request_handlers:
            answer = handler(self, ctx)
            if answer is not None:
                return answer
        return None

    def after(self, response: Response) -> Response:
        ctx = peek()
        if ctx is None or ctx.api is None:
            return response
        try:
            for handler in self.response_handlers:
                replaced = handler(self, ctx, response)
                if replaced is not None:
                    response = replaced
        except Exception:  # the response chain must never turn an answer into a 500
            log.exception("response chain failed")
        return response

    def teardown(self, exc: BaseException | None) -> None:
        self.sandbox.store.end_request()

    # -- errors --------------------------------------------------------------------
    def handle_error(self, exc: Exception) -> Response:
        error = to_sandbox_error(exc)
        located = self.locate() if not request.path.startswith(CONTROL_PREFIX) else None
        if located is None:
            body, status, headers = control_error_body(error)
        else:
            api = located[0]
            ctx = current()
            if ctx.api is None:
                bind(ctx, located)
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
