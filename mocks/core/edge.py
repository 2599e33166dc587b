"""The HTTP edge: what is decided about a request before any API code sees it.

* **Sizes.** The request target, each header and the body have limits (``Limits``). What is over
  them is refused in the API's own error shape: 414 (target), 431 (headers), 413 (body; also a
  chunked body, which is read here up to the limit and never past it, before anything parses
  it). :class:`EdgeMiddleware` measures at the WSGI level and marks the request; the first
  ``before_request`` hook raises the mark as the API's error.
* **Text the store cannot hold.** A JSON string (or key) with an unpaired surrogate (``"\\ud800"``),
  bytes that are not UTF-8 (decoded as lone surrogates by :func:`decode_json_text`), or a NUL
  character is the API's own 400 naming the field (:func:`check_text`); never an encoding error
  deep in the store. A bulk API checks each item itself (:func:`text_problem`), so one bad item is
  that item's 400.
* **Numbers.** A number beyond a double's range in a JSON body (``1e400``) is a 400
  (:func:`finite_float`, :func:`bounded_int`); only ASCII digits are digits (``mocks.core.coerce``).
* **HTTP details.** 405 carries ``Allow``; ``OPTIONS`` answers 204 with ``Allow``.
* **Atomic requests.** An API route runs inside one :meth:`Store.transaction`: its writes commit
  together when it returns, and none of them if it raises.

``install(app, sandbox)`` wires all of it into a Flask app (called once by ``create_app``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from mocks.core import errors as E
from mocks.core.coerce import to_int

#: where the edge leaves its verdict for the app (an error to raise first thing)
REFUSED = "sandbox.edge.refused"


# -- numbers -------------------------------------------------------------------------------------
_FLOAT_MAX = 1.7976931348623157e308


def finite_float(text: str) -> float:
    """``json.loads``' ``parse_float``: a number beyond the range of a double is refused (Python
    would read ``1e400`` as infinity, which JSON cannot even write back)."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise E.MalformedBody(f"The request body holds the number {text[:40]}, beyond the range of a double")
    return value


def bounded_int(text: str) -> int:
    """``json.loads``' ``parse_int``: a whole number beyond the range of a double is refused."""
    if len(text.lstrip("-")) > 308:
        value = int(text)
        if abs(value) > _FLOAT_MAX:
            raise E.MalformedBody(f"The request body holds the number {text[:40]}..., beyond the range of a double")
        return value
    return int(text)


# -- paging tags ---------------------------------------------------------------------------------
def issue_tag(payload: dict[str, Any], purpose: str) -> str:
    """An opaque paging tag (base64url JSON + a short keyed hash): what an API hands out as its
    "next page" token. :func:`read_tag` gives the payload back only for a tag issued here."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + _tag_mac(raw, purpose)


def read_tag(tag: str, purpose: str) -> dict[str, Any]:
    """The payload of a tag :func:`issue_tag` made for ``purpose``; ValueError for any other
    (forged, edited, truncated, another API's). Integers in it are real ints within 0..10^9."""
    text, dot, mac = tag.partition(".")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise ValueError("not a tag") from None
    if not dot or not hmac.compare_digest(mac, _tag_mac(raw, purpose)):
        raise ValueError("not a tag this sandbox issued")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not a tag")
    for value in data.values():
        if isinstance(value, (int, float)) and (type(value) is not int or not 0 <= value <= 1_000_000_000):
            raise ValueError("a number out of range")
    return data


def _tag_mac(raw: bytes, purpose: str) -> str:
    return hashlib.blake2b(raw, key=purpose.encode()[:64], digest_size=6).hexdigest()


# -- text --------------------------------------------------------------------------------------
_BAD_TEXT = re.compile("[\ud800-\udfff\x00]")


def decode_json_text(raw: bytes) -> str:
    """A JSON body's bytes as text; bytes that are not UTF-8 become lone surrogates
    (``surrogateescape``), so :func:`check_text` can name the field that holds them."""
    return raw.decode("utf-8", "surrogateescape")


def _reason(text: str) -> str:
    found = _BAD_TEXT.search(text)
    assert found is not None
    ch = found.group()
    if ch == "\x00":
        return "must not contain a NUL character (\\u0000)"
    if "\udc80" <= ch <= "\udcff":
        return "is not valid UTF-8 text (a byte that is not UTF-8, or an unpaired surrogate \\udc80-\\udcff)"
    return f"contains an unpaired UTF-16 surrogate (\\u{ord(ch):04x}), which is not a character"


def _pointer_part(key: Any) -> str:
    text = str(key)
    if _BAD_TEXT.search(text):
        text = text.encode("utf-8", "surrogateescape" if "\udc80" <= text[:1] <= "\udcff" else "surrogatepass") \
            .decode("utf-8", "replace")
        text = _BAD_TEXT.sub("\ufffd", text)
    return text.replace("~", "~0").replace("/", "~1")


def text_problems(value: Any, pointer: str = "", skip: re.Pattern[str] | None = None,
                  limit: int = 10) -> list[dict[str, str]]:
    """Every string or key in ``value`` (a parsed JSON document) the store cannot hold, as
    ``{"pointer", "reason"}`` (JSON pointers; at most ``limit``). ``skip``: pointers whose
    subtree is checked by someone else (a bulk API's items)."""
    problems: list[dict[str, str]] = []
    stack: list[tuple[str, Any]] = [(pointer, value)]
    while stack and len(problems) < limit:
        where, node = stack.pop()
        if skip is not None and skip.fullmatch(where):
            continue
        if isinstance(node, str):
            if _BAD_TEXT.search(node):
                problems.append({"pointer": where or "/", "reason": _reason(node)})
        elif isinstance(node, dict):
            for key, child in reversed(list(node.items())):
                sub = f"{where}/{_pointer_part(key)}"
                if _BAD_TEXT.search(key):
                    problems.append({"pointer": sub, "reason": "the key " + _reason(key)})
                else:
                    stack.append((sub, child))
        elif isinstance(node, list):
            stack.extend((f"{where}/{i}", child) for i, child in reversed(list(enumerate(node))))
    return problems[:limit]


def text_problem(value: Any, pointer: str = "") -> dict[str, str] | None:
    """The first problem :func:`text_problems` finds, or None."""
    found = text_problems(value, pointer, limit=1)
    return found[0] if found else None


def check_text(body: Any, skip: re.Pattern[str] | None = None) -> None:
    """Raise the API's 400 (``ValidationFailed``) naming every field holding text the store
    cannot hold. Called on every parsed JSON request body, before schema validation."""
    problems = text_problems(body, "/body", skip)
    if problems:
        first = problems[0]
        raise E.ValidationFailed(f"{first['pointer']}: {first['reason']}", errors=problems)


def check_query(query_string: str) -> None:
    """The same for query parameters: percent-encoded bytes that are not UTF-8 (which a WSGI
    server would silently turn into U+FFFD), encoded surrogates, NUL: the API's 400 naming them."""
    if "%" not in query_string:
        return
    pairs = urllib.parse.parse_qsl(query_string, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")
    problems = [{"pointer": f"/query/{_pointer_part(name)}", "reason": _reason(value if _BAD_TEXT.search(value) else name)}
                for name, value in pairs if _BAD_TEXT.search(name) or _BAD_TEXT.search(value)]
    if problems:
        raise E.ValidationFailed(f"{problems[0]['pointer']}: {problems[0]['reason']}", errors=problems[:10])


def scrub(text: str) -> str:
    """``text`` with whatever no store can encode replaced by U+FFFD (for echoing it back)."""
    return _BAD_TEXT.sub("\ufffd", text) if _BAD_TEXT.search(text) else text


# -- sizes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    #: the request target (path and query). XTND's ProductAvailability takes up to 500 item
    #: numbers of up to 40 characters in its query (``itemNumbers=...`` ~ 21 KB, 3x when
    #: percent-encoded): 64 KiB holds that with room to spare.
    target: int = 64 * 1024
    #: one header's value
    header: int = 16 * 1024
    #: all headers together
    headers: int = 64 * 1024
    #: the body (also chunked); the app's ``max_body_bytes``
    body: int = 5 * 1024 * 1024


class URITooLong(E.BadRequest):
    status, kind, default_message = 414, "uri_too_long", "The request target is too long"


class HeadersTooLarge(E.BadRequest):
    status, kind, default_message = 431, "headers_too_large", "The request headers are too large"


class RequestTimeout(E.BadRequest):
    status, kind, default_message = 408, "request_timeout", "The request was not received in time"


class EdgeMiddleware:
    """WSGI middleware: measures the request, reads a chunked body up to the limit, marks what
    is over a limit (``environ[REFUSED]``) for the app to answer in the API's shape."""

    def __init__(self, app: Callable[..., Iterable[bytes]], limits: Limits) -> None:
        self.app = app
        self.limits = limits

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refused = self.measure(environ)
        if refused is not None:
            environ[REFUSED] = refused
            environ["wsgi.input"] = io.BytesIO(b"")
            environ["CONTENT_LENGTH"] = "0"
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def answer_now(self, environ: dict[str, Any]) -> Any:
        """The answer the app behind can give at once, without blocking (the worker's main loop
        asks, ``mocks.core.edgeworker``): none for a request over a limit, or one the fast path
        does not hold."""
        inner = getattr(self.app, "answer_now", None)
        if inner is None or self.measure(environ) is not None:
            return None
        return inner(environ)

    def measure(self, environ: dict[str, Any]) -> E.SandboxError | None:
        lim = self.limits
        target = len(environ.get("RAW_URI") or "") or \
            len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) + 1
        if target > lim.target:
            return URITooLong(f"The request target is {target} bytes long; at most {lim.target} are accepted")
        total = 0
        for name, value in environ.items():
            if name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                size = len(name) + len(value) if isinstance(value, str) else 0
                if size > lim.header:
                    shown = name[5:].replace("_", "-").title() if name.startswith("HTTP_") else name.replace("_", "-").title()
                    return HeadersTooLarge(f"The header {shown} is {size} bytes long; at most {lim.header} are accepted")
                total += size
        if total > lim.headers:
            return HeadersTooLarge(f"The request headers are {total} bytes long; at most {lim.headers} are accepted")
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if length.strip():
            size = to_int(length)
            if size is not None and size > lim.body:
                return E.PayloadTooLarge(f"The request body is {size} bytes; at most {lim.body} are accepted")
            return None
        if chunked or environ.get("wsgi.input_terminated"):
            # no length: read what there is, up to one byte past the limit, never more
            stream = environ.get("wsgi.input")
            data = b""
            if stream is not None:
                parts: list[bytes] = []
                got = 0
                while got <= lim.body:
                    part = stream.read(min(64 * 1024, lim.body + 1 - got))
                    if not part:
                        break
                    parts.append(part)
                    got += len(part)
                data = b"".join(parts)
            if len(data) > lim.body:
                environ["sandbox.edge.close"] = True  # the rest of the body is never read
                return E.PayloadTooLarge(f"The request body is over {lim.body} bytes; at most {lim.body} are accepted")
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["wsgi.input_terminated"] = False
        return None


# -- wiring ------------------------------------------------------------------------------------
def install(app: Any, sandbox: Any) -> None:
    """Put the edge in front of ``app``: size limits, the refusal hook, 405/OPTIONS, and one
    store transaction around every API route."""
    from flask import Response, request
    from werkzeug.exceptions import MethodNotAllowed

    from mocks.core.chain.context import current, peek

    gateway = app.extensions["gateway"]
    cfg = sandbox.config
    app.wsgi_app = EdgeMiddleware(app.wsgi_app, Limits(body=cfg.max_body_bytes))
    store = sandbox.store

    def refuse() -> Response | None:
        refused = request.environ.get(REFUSED)
        if refused is not None:
            current().edge_refused = True
            raise refused
        rule = request.url_rule
        if request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False) \
                and gateway.locate() is not None:  # (an API that answers OPTIONS itself keeps its answer)
            response = app.make_default_options_response()
            response.status_code = 204
            response.set_data(b"")
            response.headers.pop("Content-Type", None)
            return response
        return None

    app.before_request_funcs.setdefault(None, []).insert(0, refuse)

    @app.after_request
    def close_after_refusal(response: Response) -> Response:
        if request.environ.get("sandbox.edge.close"):
            response.headers["Connection"] = "close"  # gunicorn closes instead of draining the body
        return response

    def method_not_allowed(exc: MethodNotAllowed) -> Response:
        allowed = sorted(set(exc.valid_methods or ()) | {"OPTIONS"})
        error = E.MethodNotAllowed(f"Method {request.method} is not allowed for {request.path}; "
                                   f"use {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)})
        return gateway.handle_error(error)

    app.register_error_handler(MethodNotAllowed, method_not_allowed)

    dispatch = app.dispatch_request

    def dispatch_in_transaction() -> Any:
        ctx = peek()
        if ctx is None or ctx.api is None:  # the control plane, the console: not an API's request
            return dispatch()
        with store.transaction():
            return dispatch()

    app.dispatch_request = dispatch_in_transaction
