"""Core webhook deliveries: real HTTP, signed, retried on the sandbox clock, injected failures."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from mocks.core import webhooks


@pytest.fixture
def receiver():
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got
    server.shutdown()


def test_delivery_is_signed_sent_and_listed(app, receiver):
    url, got = receiver
    sb = app.extensions["sandbox"]
    webhooks.enqueue(sb, "click2sync", "t1", url, "product.add", {"id": 1}, secret="s3")
    assert webhooks.deliver_due(sb) == 1
    headers, body = got[0]
    assert json.loads(body) == {"id": 1}
    expected = "sha256=" + hmac.new(b"s3", body, hashlib.sha256).hexdigest()
    assert headers["X-Webhook-Signature"] == expected
    assert not [name for name in headers if name.lower().startswith("x-sandbox-")]  # no sandbox marker on the wire
    rows = app.test_client().get("/__sandbox/webhooks").json["webhooks"]
    assert rows[0]["status"] == "delivered" and rows[0]["attempts"][0]["status"] == 200
    assert "secret" not in rows[0]


def test_injected_failures_are_retried_on_the_sandbox_clock(app, receiver):
    url, got = receiver
    sb = app.extensions["sandbox"]
    app.extensions["sandbox"].apis["click2sync"].webhook_failure(sb, "t1", {"status": 503, "times": 2})
    webhooks.enqueue(sb, "click2sync", "t1", url, "order.add", {"id": 2})
    webhooks.deliver_due(sb)
    row = webhooks.listing(sb)[0]
    assert row["status"] == "pending" and row["attempts"][0]["status"] == 503 and not got
    assert webhooks.deliver_due(sb) == 0          # not due until the backoff has passed
    client = app.test_client()
    client.post("/__sandbox/clock", json={"advance_seconds": 1})   # second attempt: injected 503 again
    client.post("/__sandbox/clock", json={"advance_seconds": 2})   # third: delivered for real
    row = webhooks.listing(sb)[0]
    assert [a["status"] for a in row["attempts"]] == [503, 503, 200] and row["status"] == "delivered"
    assert len(got) == 1


def test_unreachable_target_fails_after_the_last_attempt(app):
    sb = app.extensions["sandbox"]
    webhooks.enqueue(sb, "click2sync", "t1", "http://127.0.0.1:9/none", "x", {})
    for _ in range(webhooks.MAX_ATTEMPTS):
        sb.clock.advance(60)
        webhooks.deliver_due(sb)
    row = webhooks.listing(sb)[0]
    assert row["status"] == "failed" and len(row["attempts"]) == webhooks.MAX_ATTEMPTS
    assert "error" in row["attempts"][0]


def test_concurrent_senders_on_redis_deliver_each_webhook_once(redis_url):
    """Two processes' senders race for the same due delivery: the store's update retries on
    Redis, and only the try that was stored may count as the claim."""
    import http.server
    import threading

    from mocks import create_app
    from mocks.core import webhooks as W

    received: list[bytes] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = redis_url.rsplit("/", 1)[0] + "/13"
    import redis
    redis.Redis.from_url(url).flushdb()
    try:
        apps = [create_app({"state": url, "background": False, "apis": ["click2sync"], "testing": True})
                for _ in range(2)]
        sandboxes = [a.extensions["sandbox"] for a in apps]
        for i in range(15):
            received.clear()
            W.enqueue(sandboxes[0], api="click2sync", tenant="t", url=f"http://127.0.0.1:{server.server_port}/",
                      event=f"e{i}", payload={"i": i})
            threads = [threading.Thread(target=W.deliver_due, args=(sb,)) for sb in sandboxes * 2]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len(received) == 1, f"round {i}: delivered {len(received)} times"
    finally:
        server.shutdown()
