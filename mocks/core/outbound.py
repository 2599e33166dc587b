"""Outbound HTTP (webhooks, callbacks): only to hosts the operator allowed.

A sandbox shared by many connectors must not become a way to make requests into the network
it runs in (a webhook URL registered through an API is input from a client, like any other).
The rule:

* loopback is always allowed: ``localhost``, ``127.0.0.0/8``, ``::1`` — written literally in
  the URL. Names are not resolved to decide (a name that happens to resolve to 127.0.0.1 is not
  loopback here, and a name cannot be rebound to something else between check and use);
* hosts the operator registered: ``SandboxConfig.outbound_hosts`` (``serve --allow-host HOST``,
  repeatable, or ``SANDBOX_ALLOW_HOSTS=a,b``). An entry is a host name (``hooks.example.com``),
  a wildcard for its subdomains (``*.example.com``), an IP address, a network (``10.1.0.0/16``),
  any of those with ``:port`` to allow only that port, or ``*`` (any host: only on a closed
  network);
* a URL registered through an API (a webhook subscription, a shipping callback) adds nothing
  to that list by itself: it is delivered only if its host is allowed above.

Only ``http`` and ``https``; no user:password part; no redirects are followed (a receiver on an
allowed host could otherwise forward the request anywhere). A refused call is not sent; callers
record it (webhook deliveries become ``failed`` with the reason).
"""
from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import urlsplit

from mocks.core.coerce import is_ascii_digits

if TYPE_CHECKING:  # pragma: no cover - imported by the first send, not by every start
    import requests

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
ENV = "SANDBOX_ALLOW_HOSTS"


class OutboundRefused(Exception):
    """The URL's host is not allowed (or the URL is not a plain http(s) URL)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason


def env_hosts() -> list[str]:
    return [h.strip() for h in os.environ.get(ENV, "").split(",") if h.strip()]


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in LOOPBACK_NAMES:
        return True
    ip = _ip(host)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _split_entry(entry: str) -> tuple[str, int | None]:
    entry = entry.strip().lower()
    if entry.startswith("["):  # [::1]:8080
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and is_ascii_digits(rest[1:]) else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if is_ascii_digits(port):
            return host, int(port)
    return entry, None


def _entry_matches(entry: str, host: str, port: int) -> bool:
    pattern, want_port = _split_entry(entry)
    if want_port is not None and want_port != port:
        return False
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        suffix = pattern[1:]  # ".example.com"
        return host.endswith(suffix) and len(host) > len(suffix)
    if "/" in pattern:
        ip = _ip(host)
        try:
            return ip is not None and ip in ipaddress.ip_network(pattern, strict=False)
        except ValueError:
            return False
    ip, want = _ip(host), _ip(pattern)
    if ip is not None and want is not None:
        return ip == want
    return host == pattern.rstrip(".")


def check(url: str, allowed: Iterable[str] = ()) -> None:
    """Raise :class:`OutboundRefused` unless ``url`` may be called."""
    if not isinstance(url, str) or not url:
        raise OutboundRefused(str(url), "refused: no URL")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url) or "\\" in url:
        raise OutboundRefused(url, "refused: the URL contains whitespace, control characters or a backslash")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(url, f"refused: not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise OutboundRefused(url, f"refused: scheme {parts.scheme or '(none)'!r} (only http and https)")
    if "@" in parts.netloc:
        raise OutboundRefused(url, "refused: user:password in the URL")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise OutboundRefused(url, "refused: no host in the URL")
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    if is_loopback(host):
        return
    if any(_entry_matches(entry, host, port) for entry in allowed if entry):
        return
    raise OutboundRefused(url, f"refused: host {host!r} is not allowed for outbound calls "
                               f"(allowed: loopback and `serve --allow-host`)")


def allowed_hosts(config: Any) -> list[str]:
    """The operator's list: the config field plus ``SANDBOX_ALLOW_HOSTS``."""
    return [*(getattr(config, "outbound_hosts", None) or []), *env_hosts()]


def check_for(sandbox: Any, url: str) -> None:
    """:func:`check` against a sandbox's configuration."""
    check(url, allowed_hosts(sandbox.config))


def _response_socket(resp: requests.Response) -> Any:
    """The socket an answer is read from. urllib3 keeps it on the connection while it may be
    reused; for an answer read until close, http.client hands it to the response's file."""
    sock = getattr(getattr(resp.raw, "_connection", None), "sock", None)
    if sock is None:
        fp = getattr(getattr(resp.raw, "_fp", None), "fp", None)           # BufferedReader
        sock = getattr(getattr(fp, "raw", None), "_sock", None)            # SocketIO -> socket
    return sock


def _shutdown(resp: requests.Response) -> None:
    sock = _response_socket(resp)
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


#: what a receiver may send back: more is cut (a webhook receiver is a client's program)
MAX_RESPONSE_BYTES = 1 << 20


def post(sandbox: Any, url: str, **kwargs: Any) -> requests.Response:
    """``requests.post`` after the allow-list check, never following redirects.

    The answer is read as a stream: at most ``MAX_RESPONSE_BYTES`` are kept, and reading stops
    once twice the timeout has passed in total, so a receiver that answers forever, or a byte at a
    time, cannot hold the sender (``timeout`` alone bounds each read, not the whole answer).
    """
    import requests

    check_for(sandbox, url)
    kwargs["allow_redirects"] = False
    kwargs["stream"] = True
    timeout = kwargs.get("timeout") or 10.0
    budget = 2 * (timeout if isinstance(timeout, (int, float)) else sum(timeout))
    started = time.monotonic()
    resp = requests.post(url, **kwargs)
    chunks: list[bytes] = []
    size = 0
    # a read blocks until its chunk is full: a receiver trickling a byte per (timeout - 1) s would
    # hold it for hours, so a watchdog shuts the socket down once the budget is spent
    watchdog = threading.Timer(max(0.0, budget - (time.monotonic() - started)), _shutdown, args=(resp,))
    watchdog.daemon = True
    watchdog.start()
    try:
        for chunk in resp.iter_content(chunk_size=16384):
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_RESPONSE_BYTES or time.monotonic() - started > budget:
                break
    except (requests.RequestException, OSError, ValueError, AttributeError):
        pass  # the status line and headers arrived: keep what came of the body
    finally:
        watchdog.cancel()
        resp.close()
    resp._content = b"".join(chunks)[:MAX_RESPONSE_BYTES]
    resp._content_consumed = True
    return resp
