"""Scale-out: two `serve` processes on different ports share one Redis and behave as one service.

Everything that is state lives in the store: a token issued by one host works on the other, a
queue item posted to one is processed and visible through the other, a rate limit counts the
requests of both, scenario counters, the journal and the webhook outbox are shared.
"""
from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
import requests

from tests.conftest import free_port
from tests.core.test_server import Server

pytestmark = pytest.mark.slow
SMALL_SEED = ["--option", "stock2shop.products=20", "--option", "stock2shop.orders=5",
              "--option", "stock2shop.customers=5", "--option", "click2sync.products=10",
              "--option", "click2sync.orders=5"]


@pytest.fixture(scope="module")
def servers(redis_url):
    """The two processes, started once for the module (a start costs seconds)."""
    url = redis_url.rsplit("/", 1)[0] + "/14"
    import redis
    redis.Redis.from_url(url).flushdb()
    a = Server(url, workers=1, extra=SMALL_SEED)
    try:
        b = Server(url, workers=1, extra=SMALL_SEED)
    except BaseException:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def pair(servers):
    """Both hosts, back to the seeded state with no scenario active (through one host: the other
    sees it, which is what this module is about)."""
    a, b = servers
    assert requests.delete(a.base + "/__sandbox/scenarios", timeout=10).status_code == 200
    assert requests.post(b.base + "/__sandbox/reset", json={}, timeout=30).status_code == 200
    return a, b


def _token(base: str, user: str = "admin") -> str:
    r = requests.post(base + "/stock2shop/v1/users/authenticate?format=json",
                      json={"system_user_auth": {"username": user, "password": user + "-s2s-demo"}}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["system_user"]["token"]


def test_a_token_from_one_host_works_on_the_other_and_reauth_revokes_it_there(pair):
    a, b = pair
    token = _token(a.base)
    assert requests.get(b.base + f"/stock2shop/v1/sources?token={token}", timeout=5).status_code == 200
    assert requests.get(b.base + f"/stock2shop/v1/users/valid_token/{token}", timeout=5).status_code == 200
    _token(b.base)  # authenticating again (on the other host) invalidates the earlier token
    assert requests.get(a.base + f"/stock2shop/v1/sources?token={token}", timeout=5).status_code == 401


def test_a_queue_item_posted_to_one_host_is_processed_and_visible_on_the_other(pair):
    a, b = pair
    token = _token(a.base)
    product = {"system_products": [{"source": {"source_id": 57, "product_active": True,
                                               "source_product_code": "SCALE-1"},
                                    "product": {"title": "Scaled out", "variants": {
                                        "source_variant_code": "SCALE-1-V", "sku": "SCALE-1-V"}}}]}
    r = requests.post(a.base + f"/stock2shop/v1/products/queue?source_id=57&token={token}", json=product, timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["system_products"]["sync_product"] == 1
    # process the queue through B's control plane (the sandbox clock is shared too)
    assert requests.post(b.base + "/__sandbox/clock", json={"advance_seconds": 60}, timeout=10).status_code == 200
    query = {"query": {"term": {"source_product_code": "SCALE-1"}}}
    hits = requests.post(b.base + f"/stock2shop/v1/products/elastic_search?token={token}", json=query, timeout=5)
    assert hits.status_code == 200, hits.text
    assert [h["_source"]["title"] for h in hits.json()["hits"]["hits"]] == ["Scaled out"]
    items = requests.get(a.base + f"/stock2shop/v1/queue/summary?token={token}", timeout=5)
    assert items.status_code == 200


def test_a_rate_limit_counts_the_requests_of_both_hosts(pair):
    a, b = pair
    token = _token(a.base)
    assert requests.post(a.base + "/__sandbox/scenarios/stock2shop-rate-limit", timeout=5).status_code in (200, 201)
    try:
        statuses = []
        for i in range(6):  # well within one second: one request in the bucket, then 429s
            host = (a, b)[i % 2]
            statuses.append(requests.get(host.base + f"/stock2shop/v1/sources?token={token}", timeout=5).status_code)
        assert statuses[0] == 200
        assert statuses[1] == 429, statuses          # B refuses: A's request used the bucket
        assert statuses.count(429) >= 4, statuses
    finally:
        requests.delete(a.base + "/__sandbox/scenarios/stock2shop-rate-limit", timeout=5)


def test_scenario_counters_data_and_journal_are_shared(pair):
    a, b = pair
    key = {"C2SKey": "c2s-demo-key"}
    every2 = {"name": "every-second", "seed": 1,
              "rules": [{"match": {"headers": {"X-Fault": "x"}}, "when": {"every": 2}, "action": {"status": 503}}]}
    assert requests.post(b.base + "/__sandbox/scenarios", json=every2, timeout=5).status_code == 201
    got = [requests.get((a, b)[i % 2].base + "/click2sync/api/product?offset=0",
                        headers={**key, "X-Fault": "x"}, timeout=5).status_code for i in range(6)]
    assert got == [200, 503] * 3
    created = requests.post(a.base + "/click2sync/api/product", headers=key,
                            json={"sku": "scale-c2s", "title": "t"}, timeout=5).json()
    one = requests.get(b.base + f"/click2sync/api/product?id={created['_id']}", headers=key, timeout=5)
    assert one.json()["products"][0]["sku"] == "scale-c2s"
    journal_b = requests.get(b.base + "/__sandbox/requests?limit=100", timeout=5).json()["requests"]
    assert {e["method"] for e in journal_b if e["path"] == "/click2sync/api/product"} >= {"GET", "POST"}
    assert len({e["tenant"] for e in journal_b if e["api"] == "click2sync"}) == 1


def test_the_webhook_outbox_is_shared(pair):
    """A delivery queued by a write on A is listed by B and delivered once, signed, to the receiver."""
    received: list[bytes] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Hook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    a, b = pair
    key = {"Authorization": "Bearer xtnd-demo-key"}
    try:
        sub = requests.post(a.base + "/xtnd/api/v1/Webhooks", headers=key, json={
            "name": "scale", "callbackUrl": f"http://127.0.0.1:{receiver.server_port}/hook",
            "secret": "a-long-enough-secret", "triggers": ["OrderCreated"]}, timeout=5)
        assert sub.status_code in (200, 201), sub.text
        customer = requests.get(b.base + "/xtnd/api/v1/Customers", headers=key, timeout=5).json()
        product = requests.get(b.base + "/xtnd/api/v1/Products", headers=key, timeout=5).json()
        customer_no = str(customer["items"][0] if not isinstance(customer["items"][0], dict)
                          else customer["items"][0].get("customerNumber"))
        item_no = str(product["items"][0] if not isinstance(product["items"][0], dict)
                      else product["items"][0].get("itemNumber"))
        order = requests.post(b.base + "/xtnd/api/v1/CustomerOrders", headers=key, json={
            "orderNumber": "SCALE-1", "customerNumber": customer_no,
            "rows": [{"itemNumber": item_no, "quantity": 1, "price": 9.5}]}, timeout=5)
        assert order.status_code == 201, order.text
        listed = requests.get(a.base + "/__sandbox/webhooks", timeout=5).json()
        text = str(listed)
        assert "SCALE-1" in text or "OrderCreated" in text, text[:500]
        requests.post(a.base + "/__sandbox/webhooks/deliver", timeout=10)
        requests.post(b.base + "/__sandbox/webhooks/deliver", timeout=10)
        deadline = time.time() + 10
        while not received and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # a second (duplicate) delivery would come within the first retry's backoff
        deliveries = requests.get(a.base + "/__sandbox/webhooks", timeout=5).json()
        assert len([r for r in received if b"SCALE-1" in r]) == 1, json.dumps(deliveries)
    finally:
        receiver.shutdown()
