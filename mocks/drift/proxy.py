"""``commerce-sandbox proxy``: the sandbox stands in front of the real service and records it.

The proxy is the ordinary app (:func:`mocks.app.create_app`) with one API mounted at its usual
prefix, but that API is a :class:`ProxiedApi`: its only route forwards the request to the upstream
and answers with what came back. Everything else is the sandbox's own request chain:

* the request is checked against the API's contract, and so is the upstream's answer; what breaks it
  is recorded at ``/__sandbox/violations`` (``direction: request``: the client broke the contract;
  ``response``: the real service answered outside it). The request is forwarded either way
  (the route is marked :func:`~mocks.core.api.passthrough`): the real service decides;
* each exchange goes to the journal with secrets masked (:mod:`mocks.core.journal`), so
  ``GET /__sandbox/export`` (``?format=har``) is the recorded session at any time;
* nothing authenticates, rate-limits or signs: the client's own credentials and signatures travel
  unchanged. Scenarios still work (``POST /__sandbox/scenarios``): a fault injected in front of the
  real service.

Forwarding: ``{upstream}{path after the prefix}?{query as sent}``, the method, the headers (all but
``Host`` and the hop-by-hop ones, which belong to one connection) and the body bytes. No redirect is
followed (the client sees it), no proxy from the environment is used, and every outbound call is
checked by :mod:`mocks.core.outbound` against the upstream's own host and port: the proxy calls
nothing else. An upstream that cannot be reached is answered ``502`` in the API's own error shape,
with ``X-Sandbox-Proxy-Error`` saying why (``diff`` skips such exchanges: they are not the service's).
"""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from urllib3.util import SKIP_HEADER
from werkzeug.routing import PathConverter
from flask import Blueprint, Flask, Response, current_app, request

from mocks.core import errors as E
from mocks.core import outbound
from mocks.core.api import Api, passthrough, public
from mocks.core.config import SandboxConfig

log = logging.getLogger("commerce_sandbox")

#: headers that describe one connection, not the request (RFC 9110 7.6.1), and Host (rewritten)
HOP_BY_HOP = frozenset({"host", "connection", "keep-alive", "proxy-connection", "te", "trailer",
                        "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization",
                        "content-length"})
#: answer headers not passed back: requests has already decoded the body and Flask frames it again
ANSWER_DROPPED = HOP_BY_HOP | {"content-encoding"}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ERROR_HEADER = "X-Sandbox-Proxy-Error"


class UpstreamError(E.SandboxError):
    status = 502
    kind = "bad_gateway"
    default_message = "The upstream service could not be reached"


def upstream_url(upstream: str) -> str:
    """The upstream base URL, checked: http(s), a host, no user:password, no query or fragment."""
    parts = urlsplit(upstream)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--upstream must be an http(s) URL with a host, got {upstream!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("--upstream takes no user:password, query or fragment")
    return upstream.rstrip("/")


class AnyPath(PathConverter):
    """Any rest of the path, empty segments included."""

    regex = ".*?"
    part_isolating = False  # spans segments (werkzeug guesses from a "/" in the regex)


class ProxiedApi(Api):
    """An emulated API's name, prefix, contract and error shape; its one route forwards."""

    def __init__(self, api: Api, upstream: str, timeout: float = 60.0) -> None:
        self.inner = api
        self.name = api.name
        self.title = f"{api.title or api.name} (proxy)"
        self.case_insensitive_paths = api.case_insensitive_paths
        self.secret_fields = api.secret_fields
        self.upstream = upstream_url(upstream)
        parts = urlsplit(self.upstream)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname or ""
        self.allowed = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]  # this one host and port
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers.clear()    # send the client's headers, not requests' defaults
        self.http.trust_env = False  # no HTTP(S)_PROXY, no .netrc: the upstream and nothing else

    def blueprint(self) -> Blueprint:
        bp = Blueprint(f"proxy_{self.name}", __name__)

        def forward(subpath: str = "") -> Response:
            return self.forward(subpath)

        view = passthrough(public(forward))
        # any path, "//" included, is forwarded as it is (werkzeug's path converter refuses a leading
        # slash, and the map would redirect "//" to "/")
        bp.record_once(lambda state: state.app.url_map.converters.setdefault("anypath", AnyPath))
        bp.add_url_rule("/", "forward", view, methods=METHODS, defaults={"subpath": ""}, merge_slashes=False)
        bp.add_url_rule("/<anypath:subpath>", "forward_path", view, methods=METHODS, merge_slashes=False)
        return bp

    def error_body(self, error: E.SandboxError) -> tuple[Any, int, dict[str, str]]:
        body, status, headers = self.inner.error_body(error)
        if isinstance(error, UpstreamError):  # a gateway failure stays a 502, even for an API whose
            status = error.status             # errors are HTTP 200 (API2Cart): the body is its shape
        return body, status, headers

    def fault_error(self, action: dict[str, Any]) -> E.SandboxError:
        """A scenario's injected status, in the API's own terms (API2Cart's ``return_code``, ...)."""
        return self.inner.fault_error(action)

    def credentials(self, sandbox: Any) -> Any:
        return {"proxy": self.upstream, "note": "the proxy forwards the client's own credentials"}

    # -- forwarding -------------------------------------------------------------------------
    def target(self, prefix: str) -> str:
        """The upstream URL for this request: the raw path after the prefix, the query as sent."""
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
        path = raw.split("?", 1)[0] if raw.startswith("/") else quote(request.path, safe="/%:@!$&'()*+,;=-._~")
        if path.lower().startswith(prefix.lower()):
            path = path[len(prefix):]
        query = request.query_string.decode("latin-1")
        return self.upstream + (path or "") + ("?" + query if query else "")

    def forward(self, subpath: str = "") -> Response:
        self._mask_path_parameters(subpath)
        url = self.target(self.prefix)
        headers: dict[str, Any] = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        for name in ("User-Agent", "Accept-Encoding"):  # urllib3 would add its own: send none
            if name not in request.headers:
                headers[name] = SKIP_HEADER
        data = request.get_data(cache=True)
        try:
            outbound.check(url, self.allowed)
            answer = self.http.request(request.method, url, headers=headers, data=data or None,
                                       allow_redirects=False, timeout=self.timeout)
        except outbound.OutboundRefused as exc:  # cannot happen with a path after a host; kept as a guard
            raise UpstreamError(f"refused to call {exc.url}: {exc.reason}",
                                headers={ERROR_HEADER: "refused"}) from None
        except requests.RequestException as exc:
            log.warning("proxy: %s %s failed: %s", request.method, url, exc)
            raise UpstreamError(f"The upstream service did not answer: {type(exc).__name__}",
                                headers={ERROR_HEADER: type(exc).__name__}) from None
        response = Response(answer.content, status=answer.status_code)
        response.headers.clear()
        for name, value in answer.raw.headers.items():  # repeated headers (Set-Cookie) stay repeated
            if name.lower() not in ANSWER_DROPPED:
                response.headers.add(name, value)
        return response

    def _mask_path_parameters(self, subpath: str) -> None:
        """Let the journal mask secret path parameters (Stock2Shop's /valid_token/{token}) as it does
        for the API's own routes: it reads them from the request's view arguments."""
        contracts = current_app.extensions["gateway"].contracts
        contract = contracts.get(self.name)
        op = contract.match(request.method, "/" + subpath) if contract is not None else None
        if op is not None and request.view_args is not None:
            m = op.regex.match("/" + subpath)
            if m:
                request.view_args.update({k: v for k, v in m.groupdict().items() if v})


#: characters of each body the proxy's journal keeps: whole answers, for diff and seed-from
BODY_LIMIT = 1_000_000


def build_app(api: str, upstream: str, *, state: str = "memory", journal_size: int = 10_000,
              body_limit: int = BODY_LIMIT, admin_token: str | None = None, timeout: float = 60.0,
              testing: bool = False) -> Flask:
    """The proxy app: ``api`` mounted at its prefix, forwarding to ``upstream``."""
    from mocks.app import create_app, load_apis

    inner = load_apis([api])[0]
    config = SandboxConfig(state=state, apis=[api], journal_size=journal_size, journal_body_limit=body_limit,
                           admin_token=admin_token, background=False, testing=testing, response_cache_mb=0)
    return create_app(config, apis=[ProxiedApi(inner, upstream, timeout)])


def export(app: Flask, base_url: str, fmt: str = "json") -> dict[str, Any]:
    """The recorded session, exactly as ``GET /__sandbox/export`` gives it."""
    token = app.extensions["sandbox"].config.admin_token
    headers = {"X-Sandbox-Admin-Token": token} if token else {}
    r = app.test_client().get("/__sandbox/export", query_string={"format": fmt}, headers=headers,
                              base_url=base_url, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    if r.status_code != 200:
        raise RuntimeError(f"export failed: {r.status_code} {r.get_data(as_text=True)[:200]}")
    return r.get_json()


def serve(app: Flask, host: str, port: int, on_exit: Any = None) -> None:
    """Serve until SIGINT/SIGTERM (threaded, one process: the journal is this process's memory),
    then call ``on_exit``."""
    import signal

    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        if on_exit is not None:
            on_exit()
