"""The scheduler in real `serve` processes: XTND orders walk their lifecycle by themselves, two
hosts on one store deliver each webhook exactly once, and kill -9 of the lease holder hands the
lease (and the due work) to the other host. After the triggering requests, no client request is
made: only the receiver's log and the control plane are read."""
from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import pytest
import requests

from tests.core.test_server import Server
from tests.reliability.test_crash import wait_for, workers_of
from tests.xtnd.test_webhooks import SECRET, Receiver

pytestmark = pytest.mark.slow
EXTRA = ["--api", "xtnd", "--option", "xtnd.lifecycle=0.6"]
AUTH = {"Authorization": "Bearer xtnd-demo-key"}
FLOW = ["OrderCreated", "OrderReserved", "OrderPicked", "OrderDeliveryDataChanged"]


def state_for(request: Any, tmp_path: Any, kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/12"
    import redis
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(params=["sqlite", "redis"])
def pair(request, tmp_path):
    url = state_for(request, tmp_path, request.param)
    a = Server(url, workers=2, extra=EXTRA)
    try:
        b = Server(url, workers=1, extra=EXTRA)
    except BaseException:
        a.kill()
        raise
    yield a, b
    a.kill()
    b.kill()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def subscribe(base: str, url: str) -> None:
    r = requests.post(base + "/xtnd/api/v1/Webhooks", headers=AUTH, timeout=10,
                      json={"name": "shop", "callbackUrl": url, "triggers": FLOW, "secret": SECRET})
    assert r.status_code == 201, r.text


def create(base: str, number: str) -> None:
    r = requests.post(base + "/xtnd/api/v1/CustomerOrders", headers=AUTH, timeout=10, json={
        "orderNumber": number, "customerNumber": "10001",
        "rows": [{"itemNumber": "100002", "quantity": 1, "price": 19.9}]})
    assert r.status_code == 201, r.text


def events(receiver: Receiver) -> list[tuple[str, str, str]]:
    """(orderNumber, trigger, delivery key) of every verified delivery received; an order fires each
    trigger once, so ``orderNumber/trigger`` names one delivery (no sandbox header goes on the wire)."""
    return [(p["data"]["orderNumber"], p["trigger"], f'{p["data"]["orderNumber"]}/{p["trigger"]}')
            for (h, _), p in zip(receiver.received, receiver.verified())]


def test_two_hosts_walk_orders_by_themselves_and_deliver_each_webhook_exactly_once(pair, receiver):
    a, b = pair
    subscribe(a.base, receiver.url)
    numbers = [f"SCHED-{i}" for i in range(4)]
    for i, number in enumerate(numbers):
        create((a, b)[i % 2].base, number)      # the last client request
    wait_for(lambda: len(events(receiver)) >= len(numbers) * len(FLOW), 30, "every order's four events")
    time.sleep(1.5)                              # anything sent twice would have arrived by now
    got = events(receiver)
    assert len(got) == len(numbers) * len(FLOW), got
    assert len({d for _, _, d in got}) == len(got)                       # exactly once per delivery
    for number in numbers:
        assert [t for n, t, _ in got if n == number] == FLOW             # in order, one at a time
    holders = [requests.get(s.base + "/__sandbox/scheduler", timeout=5).json()["lease"]["holder"] for s in pair]
    assert holders[0] == holders[1]                                      # one lease for both hosts
    journal = requests.get(a.base + "/__sandbox/requests?method=POST", timeout=5).json()["requests"]
    outbound = [e for e in journal if e.get("direction") == "outbound"]
    assert len(outbound) == len(got) and {e["event"] for e in outbound} == set(FLOW)   # the console's feed


def test_kill_9_of_the_lease_holder_hands_the_lease_and_its_due_work_to_the_other(pair, receiver):
    a, b = pair
    subscribe(a.base, receiver.url)
    wait_for(lambda: requests.get(a.base + "/__sandbox/scheduler", timeout=5).json()["lease"], 10, "a lease")
    holder = requests.get(a.base + "/__sandbox/scheduler", timeout=5).json()["lease"]["holder"]
    pid = int(holder.split(":")[1])
    dead, alive = (a, b) if pid in workers_of(a.proc.pid) else (b, a)
    assert pid in workers_of(dead.proc.pid)
    create(dead.base, "BEFORE-KILL")
    wait_for(lambda: ("BEFORE-KILL", "OrderCreated") in {(n, t) for n, t, _ in events(receiver)}, 10, "OrderCreated")
    os.killpg(dead.proc.pid, signal.SIGKILL)    # the holder and its host die with work still due
    dead.proc.wait(timeout=10)
    create(alive.base, "AFTER-KILL")            # the last client request
    wait_for(lambda: {"BEFORE-KILL", "AFTER-KILL"} <= {n for n, t, _ in events(receiver)
                                                      if t == "OrderDeliveryDataChanged"}, 30,
             "the survivor to take the lease and deliver both orders' events")
    got = events(receiver)
    for number in ("BEFORE-KILL", "AFTER-KILL"):
        assert [t for n, t, _ in got if n == number] == FLOW, got
    lease = requests.get(alive.base + "/__sandbox/scheduler", timeout=5).json()["lease"]
    assert int(lease["holder"].split(":")[1]) in workers_of(alive.proc.pid)
    orders = requests.get(alive.base + "/__sandbox/data/xtnd/orders", timeout=5).json()["tenants"]
    statuses = {o["orderNumber"]: o["status"] for docs in orders.values() for o in docs}
    assert statuses["BEFORE-KILL"] == statuses["AFTER-KILL"] == "delivered"
    assert json.dumps(lease)
