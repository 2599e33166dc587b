"""Outbound allow-list: webhooks and callbacks reach loopback and the operator's hosts only."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from mocks.cli import build_parser, config_from_args
from mocks.core import outbound, webhooks
from mocks.core.outbound import OutboundRefused, check


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/x", "https://LOCALHOST./x", "http://[::1]:9/x",
    "http://127.8.9.10/x", "http://[::ffff:127.0.0.1]/x",
])
def test_loopback_is_always_allowed(url):
    check(url)


@pytest.mark.parametrize("url,reason", [
    ("http://example.com/hook", "not allowed"),
    ("http://169.254.169.254/latest/meta-data", "not allowed"),
    ("http://10.0.0.5/x", "not allowed"),
    ("http://localtest.me/x", "not allowed"),            # names are not resolved to decide
    ("http://127.0.0.1@example.com/x", "user:password"),
    ("http://example.com\\@127.0.0.1/x", "backslash"),
    ("http://127.0.0.1/x\r\nHost: evil", "control"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "scheme"),
    ("ftp://127.0.0.1/", "scheme"),
    ("http:///nohost", "no host"),
    ("http://127.0.0.1:99999/x", "valid URL"),
    ("", "no URL"),
])
def test_everything_else_is_refused(url, reason):
    with pytest.raises(OutboundRefused) as err:
        check(url)
    assert reason in err.value.reason


@pytest.mark.parametrize("entry,url,ok", [
    ("hooks.example.com", "https://hooks.example.com/x", True),
    ("hooks.example.com", "https://evil-hooks.example.com/x", False),
    ("hooks.example.com", "https://hooks.example.com.evil.net/x", False),
    ("*.example.com", "https://a.b.example.com/x", True),
    ("*.example.com", "https://example.com/x", False),
    ("*.example.com", "https://badexample.com/x", False),
    ("10.1.0.0/16", "http://10.1.200.3/x", True),
    ("10.1.0.0/16", "http://10.2.0.1/x", False),
    ("192.168.1.7", "http://192.168.1.7:8080/x", True),
    ("hooks.example.com:8443", "https://hooks.example.com:8443/x", True),
    ("hooks.example.com:8443", "https://hooks.example.com/x", False),
    ("*", "https://anything.example.org/x", True),
])
def test_registered_hosts(entry, url, ok):
    if ok:
        check(url, [entry])
    else:
        with pytest.raises(OutboundRefused):
            check(url, [entry])


def test_env_variable_adds_hosts(monkeypatch, app):
    sb = app.extensions["sandbox"]
    with pytest.raises(OutboundRefused):
        outbound.check_for(sb, "https://ci.example.net/x")
    monkeypatch.setenv(outbound.ENV, "ci.example.net, other.example")
    outbound.check_for(sb, "https://ci.example.net/x")


def test_serve_allow_host_option_reaches_the_config():
    args = build_parser().parse_args(["serve", "--allow-host", "a.example", "--allow-host", "*.b.example"])
    assert config_from_args(args).outbound_hosts == ["a.example", "*.b.example"]


@pytest.fixture
def receiver():
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.path, body))
            if self.path == "/redirect":
                self.send_response(307)
                self.send_header("Location", "http://example.com/stolen")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", got
    server.shutdown()


def test_refused_delivery_is_failed_with_the_reason_and_not_sent(app, receiver, monkeypatch):
    sent = []
    monkeypatch.setattr(requests, "post", lambda *a, **k: sent.append(a) or None)
    sb = app.extensions["sandbox"]
    webhooks.enqueue(sb, "click2sync", "t1", "http://203.0.113.9/hook", "product.add", {"id": 1})
    assert webhooks.deliver_due(sb) == 1
    row = webhooks.listing(sb)[0]
    assert row["status"] == "failed" and len(row["attempts"]) == 1, row
    assert row["attempts"][0]["refused"] is True and "203.0.113.9" in row["attempts"][0]["error"]
    assert not sent
    sb.clock.advance(3600)
    assert webhooks.deliver_due(sb) == 0           # not retried


def test_allowed_host_is_delivered(app_factory, receiver, monkeypatch):
    base, got = receiver
    app = app_factory(apis=["click2sync"], outbound_hosts=["127.0.0.1"])
    sb = app.extensions["sandbox"]
    webhooks.enqueue(sb, "click2sync", "t1", base + "/ok", "x", {"a": 1})
    webhooks.deliver_due(sb)
    assert webhooks.listing(sb)[0]["status"] == "delivered" and got[0][0] == "/ok"


def test_redirects_are_not_followed(app, receiver):
    base, got = receiver
    sb = app.extensions["sandbox"]
    webhooks.enqueue(sb, "click2sync", "t1", base + "/redirect", "x", {"a": 1})
    webhooks.deliver_due(sb)
    row = webhooks.listing(sb)[0]
    assert row["attempts"][0]["status"] == 307 and row["status"] == "pending"
    assert [p for p, _ in got] == ["/redirect"]


def test_a_huge_or_endless_answer_is_cut(app, monkeypatch):
    """A receiver that streams forever neither fills memory nor holds the sender."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        try:
            while True:
                conn.sendall(b"x" * 65536)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    import time as _time
    started = _time.monotonic()
    resp = outbound.post(app.extensions["sandbox"], f"http://127.0.0.1:{port}/", data=b"{}", timeout=2)
    assert resp.status_code == 200 and len(resp.content) == outbound.MAX_RESPONSE_BYTES
    assert _time.monotonic() - started < 4
    listener.close()


def test_a_trickling_answer_does_not_hold_the_sender(app):
    import socket
    import time as _time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        try:
            while not stop.wait(0.3):     # a byte well within the per-read timeout, forever
                conn.sendall(b"x")
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    started = _time.monotonic()
    resp = outbound.post(app.extensions["sandbox"], f"http://127.0.0.1:{port}/", data=b"{}", timeout=1)
    elapsed = _time.monotonic() - started
    stop.set()
    listener.close()
    assert resp.status_code == 200 and elapsed < 4, elapsed
