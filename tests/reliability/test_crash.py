"""Crashes: kill -9 of a worker and of the whole server in the middle of a write burst across the
five APIs, with sqlite and with redis. After a restart every acknowledged write is there, sqlite
passes ``PRAGMA integrity_check``, queued Stock2Shop items and pending webhook deliveries survive
and are processed."""
from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable

import pytest
import requests

from mocks.core import webhooks
from tests.conftest import free_port
from tests.core.test_server import Server

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "redis"])
def state_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + f"/{(len(str(tmp_path)) % 5) + 10}"
    import redis
    redis.Redis.from_url(url).flushdb()
    TOKENS.pop(url, None)
    return url


def workers_of(master: int) -> list[int]:
    """The gunicorn workers: children of the master process."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            out.append(int(entry))
    return out


class Writers:
    """Threads writing to all five APIs; each acknowledged write leaves a unique marker string."""

    def __init__(self, base: str, creds: dict[str, Any], s2s_token: str) -> None:
        self.base = base
        self.acked: dict[str, list[str]] = {api: [] for api in ("click2sync", "xtnd", "printxpand", "stock2shop", "api2cart")}
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.counter = itertools.count()
        self.lock = threading.Lock()
        a2c = creds["api2cart"]["accounts"][0]
        self.a2c = {"api_key": a2c["api_key"], "store_key": a2c["stores"][0]["store_key"]}
        self.c2s = {"C2SKey": creds["click2sync"]["key"]}
        self.xtnd = {"Authorization": f"Bearer {creds['xtnd']['api_key']}"}
        self.px = {"Authorization": f"Bearer {creds['printxpand']['bearer_token']}"}
        self.s2s = s2s_token

    def one(self, http: requests.Session, api: str, n: int) -> None:
        marker = f"crash{n:06d}"
        b = self.base
        if api == "click2sync":
            r = http.post(f"{b}/click2sync/api/product", headers=self.c2s, json={"sku": marker, "title": "t"}, timeout=5)
            ok = r.status_code == 200
        elif api == "xtnd":
            r = http.post(f"{b}/xtnd/api/v1/CustomerOrders", headers=self.xtnd, timeout=5,
                          json={"orderNumber": marker, "customerNumber": "10001",
                                "rows": [{"itemNumber": "100002", "quantity": 1, "price": 1.5}]})
            ok = r.status_code == 201
        elif api == "printxpand":
            r = http.post(f"{b}/printxpand/rest/V1/customer/create/", headers=self.px, timeout=5,
                          json={"customer": {marker: {"id": marker, "first_name": "A", "last_name": "B",
                                                      "email": f"{marker}@example.com"}}})
            ok = r.status_code in (200, 201) and r.json()[0]["response"][0]["status"] == "success"
        elif api == "stock2shop":
            r = http.post(f"{b}/stock2shop/v1/products/queue", params={"token": self.s2s}, timeout=5,
                          json={"system_products": [{"source": {"source_id": "57", "product_active": "true",
                                                                "source_product_code": marker, "sync_token": "0",
                                                                "fetch_token": "0"},
                                                     "product": {"title": "t", "variants": {"source_variant_code": marker,
                                                                                            "sku": marker}}}]})
            ok = r.status_code == 200
        else:
            r = http.post(f"{b}/api2cart/v1.1/product.add.json", params=self.a2c, timeout=5,
                          json={"name": "t", "model": marker, "description": "d", "price": 1})
            ok = r.status_code == 200 and r.json()["return_code"] == 0
        if ok:
            with self.lock:
                self.acked[api].append(marker)
        elif r.status_code < 500:
            self.errors.append(f"{api}: {r.status_code} {r.text[:200]}")

    def run(self, n: int) -> None:
        http = requests.Session()
        apis = list(self.acked)
        while not self.stop.is_set():
            i = next(self.counter)
            try:
                self.one(http, apis[i % len(apis)], i)
            except (requests.RequestException, ValueError, KeyError):
                http = requests.Session()   # the worker died under us: not acknowledged
                time.sleep(0.02)

    def total(self) -> int:
        return sum(len(v) for v in self.acked.values())


TOKENS: dict[str, str] = {}


def credentials(base: str, state_url: str) -> tuple[dict[str, Any], str]:
    """The demo credentials and a Stock2Shop token (logged in once per state: the token survives
    restarts, and reusing it checks that too)."""
    creds = requests.get(base + "/__sandbox/credentials", timeout=10).json()
    if state_url not in TOKENS:
        r = requests.post(base + "/stock2shop/v1/users/authenticate", timeout=10,
                          json={"system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}})
        TOKENS[state_url] = r.json()["system_user"]["token"]
    return creds, TOKENS[state_url]


def wait_for(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def check_sqlite(state_url: str) -> None:
    if state_url.startswith("sqlite"):
        db = sqlite3.connect(state_url[len("sqlite:///"):])
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()


def test_kill_9_of_a_worker_then_of_the_server_mid_burst(state_url):
    server = Server(state_url, workers=2)
    try:
        creds, token = credentials(server.base, state_url)
        w = Writers(server.base, creds, token)
        threads = [threading.Thread(target=w.run, args=(n,), daemon=True) for n in range(8)]
        for t in threads:
            t.start()
        wait_for(lambda: w.total() >= 40, 20, "the first writes")
        victims = workers_of(server.proc.pid)
        assert len(victims) == 2, victims
        os.kill(victims[0], signal.SIGKILL)           # one worker dies mid-burst; gunicorn replaces it
        mark = w.total()
        wait_for(lambda: w.total() >= mark + 40, 20, "writes after the worker died")
        wait_for(lambda: len(workers_of(server.proc.pid)) == 2 and victims[0] not in workers_of(server.proc.pid),
                 15, "a replacement worker")
        mark = w.total()
        wait_for(lambda: w.total() >= mark + 25, 20, "more writes")
        server.kill()                                 # then the whole server, mid-burst
        w.stop.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        server.kill()
    assert not w.errors, w.errors[:5]
    assert all(w.acked.values()), {k: len(v) for k, v in w.acked.items()}
    check_sqlite(state_url)
    restarted = Server(state_url, workers=1)
    try:
        for api, markers in w.acked.items():
            text = requests.get(f"{restarted.base}/__sandbox/data/{api}", timeout=30).text
            missing = [m for m in markers if f'{m}"' not in text and f"{m}@" not in text]
            assert not missing, f"{api}: {len(missing)} of {len(markers)} acknowledged writes lost, e.g. {missing[:3]}"
        # the restarted server still answers reads and writes on every API
        creds, token = credentials(restarted.base, state_url)
        w2 = Writers(restarted.base, creds, token)
        http = requests.Session()
        for i, api in enumerate(w2.acked):
            w2.one(http, api, 900_000 + i)
        assert all(len(v) == 1 for v in w2.acked.values()), (w2.acked, w2.errors)
    finally:
        restarted.kill()   # SIGKILL again: nothing to flush, and no graceful-shutdown wait
    check_sqlite(state_url)


class Receiver:
    def __init__(self, port: int) -> None:
        self.got: list[tuple[str, dict[str, str], bytes]] = []
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                got.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_queued_items_and_pending_webhooks_survive_kill_9(state_url):
    hook_port = free_port()                            # nothing listens yet: deliveries stay pending
    extra = ["--option", "stock2shop.queue_delay_seconds=600"]
    server = Server(state_url, workers=2, extra=extra)
    try:
        creds, token = credentials(server.base, state_url)
        xh = {"Authorization": f"Bearer {creds['xtnd']['api_key']}"}
        r = requests.post(server.base + "/xtnd/api/v1/webhooks", headers=xh, timeout=5,
                          json={"name": "crash", "callbackUrl": f"http://127.0.0.1:{hook_port}/hook",
                                "triggers": ["OrderCreated"]})
        assert r.status_code == 201, r.text
        r = requests.post(server.base + "/xtnd/api/v1/CustomerOrders", headers=xh, timeout=5,
                          json={"orderNumber": "CRASH-HOOK-1", "customerNumber": "10001",
                                "rows": [{"itemNumber": "100002", "quantity": 1, "price": 2.0}]})
        assert r.status_code == 201, r.text
        r = requests.post(server.base + "/stock2shop/v1/products/queue", params={"token": token}, timeout=5,
                          json={"system_products": [{"source": {"source_id": "57", "product_active": "true",
                                                                "source_product_code": "CRASH-Q-1", "sync_token": "0",
                                                                "fetch_token": "0"},
                                                     "product": {"title": "queued", "variants": {
                                                         "source_variant_code": "CRASH-Q-1", "sku": "CRASH-Q-1"}}}]})
        assert r.status_code == 200, r.text
        wait_for(lambda: any(w["attempts"] for w in requests.get(server.base + "/__sandbox/webhooks?api=xtnd",
                                                                   timeout=5).json()["webhooks"]),
                 10, "a first (failed) delivery attempt")
    finally:
        server.kill()
    check_sqlite(state_url)
    receiver = Receiver(hook_port)
    restarted = Server(state_url, workers=2, extra=extra)
    try:
        hooks = requests.get(restarted.base + "/__sandbox/webhooks?api=xtnd", timeout=5).json()["webhooks"]
        assert [h["status"] for h in hooks if h["event"] == "OrderCreated"] in (["pending"], ["sending"]), hooks
        queue = requests.get(restarted.base + "/__sandbox/data/stock2shop/queue", timeout=10).json()["tenants"]["21"]
        assert [q["status"] for q in queue if "CRASH-Q-1" in json.dumps(q)] == ["pending"]
        requests.post(restarted.base + "/__sandbox/clock", json={"advance_seconds": 3600}, timeout=30)
        wait_for(lambda: any(b"CRASH-HOOK-1" in body for _, _, body in receiver.got), 15, "the webhook delivery")
        hooks = requests.get(restarted.base + "/__sandbox/webhooks?api=xtnd", timeout=5).json()["webhooks"]
        assert [h["status"] for h in hooks if h["event"] == "OrderCreated"] == ["delivered"]
        _, token = credentials(restarted.base, state_url)
        found = requests.post(restarted.base + "/stock2shop/v1/products/elastic_search", params={"token": token},
                              json={"query": {"term": {"source_product_code": "CRASH-Q-1"}}}, timeout=10)
        assert "CRASH-Q-1" in found.text and found.status_code == 200
        queue = requests.get(restarted.base + "/__sandbox/data/stock2shop/queue", timeout=10).json()["tenants"]["21"]
        assert [q["status"] for q in queue if "CRASH-Q-1" in json.dumps(q)] in ([], ["processed"], ["done"]), queue
    finally:
        restarted.kill()   # SIGKILL again: nothing to flush, and no graceful-shutdown wait
        receiver.close()


def test_a_delivery_left_sending_by_a_dead_worker_is_sent_again(app_factory, receiver_url=None):
    """In-process: a delivery claimed by a worker that was killed mid-send is due again once stale."""
    app = app_factory(apis=["click2sync"])
    sb = app.extensions["sandbox"]
    port = free_port()
    rec = Receiver(port)
    try:
        view = webhooks.enqueue(sb, "click2sync", "t1", f"http://127.0.0.1:{port}/h", "x", {"n": 1})
        assert webhooks._claim(sb, view["id"], sb.clock.now()) is not None   # claimed ... and the worker dies
        assert webhooks.deliver_due(sb) == 0                                  # not stale yet
        sb.clock.advance(webhooks.STALE_S + 1)
        assert webhooks.deliver_due(sb) == 1
        assert webhooks.listing(sb)[0]["status"] == "delivered" and len(rec.got) == 1
    finally:
        rec.close()


def test_stock2shop_second_login_with_sqlite(app_factory, tmp_path):
    """A second login replaces the user's token; on sqlite this once nested a write in a transaction."""
    app = app_factory(apis=["stock2shop"], state=f"sqlite:///{tmp_path}/s.db",
                      options={"stock2shop": {"products": 2, "orders": 1, "customers": 1}})
    client = app.test_client()
    body = {"system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}}
    first = client.post("/stock2shop/v1/users/authenticate", json=body)
    second = client.post("/stock2shop/v1/users/authenticate", json=body)
    assert first.status_code == 200 and second.status_code == 200, second.get_data(as_text=True)
