"""API2Cart webhooks driven by the scheduler: retries and poll ticks happen with no client request
after the triggering one; only the store's clock moves."""
from __future__ import annotations

import time
from typing import Any

import pytest

from mocks.core import scheduler as S
from mocks.core import webhooks as core_webhooks
from tests.api2cart.conftest import A2C, MAGENTO
from tests.api2cart.receiver import Receiver


def wait_for(predicate: Any, seconds: float = 5.0) -> Any:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


@pytest.fixture
def running(app_factory, tmp_path):
    app = app_factory(apis=["api2cart"], scheduler=True, state=f"sqlite:///{tmp_path}/a2c.db")
    yield app
    app.extensions["sandbox"].scheduler.stop()


def test_a_callback_answering_500_ends_up_in_failed_webhooks_once_the_clock_has_moved(running):
    sandbox = running.extensions["sandbox"]
    a2c = A2C(running.test_client())
    with Receiver(lambda req: (500, {})) as rx:
        wid = a2c.ok("webhook.create", "POST", body={"entity": "product", "action": "add", "callback": rx.url})["id"]
        pid = a2c.ok("product.add", "POST", body={"name": "n", "model": "sched-1", "description": "d", "price": 1})[
            "product_id"]
        seen = sandbox.store.journal()[-1]["seq"]
        wait_for(lambda: len(rx.requests) == 1)                        # sent at once, answered 500
        tenant = core_webhooks.listing(sandbox, api="api2cart")[0]["tenant"]
        def recorded(n: int) -> bool:  # the sandbox has recorded attempt n and its timer is free again
            row = core_webhooks.listing(sandbox, api="api2cart")[0]
            timers = S.pending(sandbox)
            return len(row["attempts"]) >= n and (row["status"] != "pending" or bool(timers and not timers[0]["claim"]))

        for attempt in range(2, core_webhooks.MAX_ATTEMPTS + 1):      # only the store's clock moves:
            wait_for(lambda: recorded(attempt - 1))
            if len(rx.requests) < attempt:                             # (real time moves it too)
                sandbox.clock.advance(60, "api2cart", tenant)          # no request of any kind
            wait_for(lambda: len(rx.requests) >= attempt)
        wait_for(lambda: core_webhooks.listing(sandbox, api="api2cart")[0]["status"] == "failed")
        time.sleep(0.3)
        assert len(rx.requests) == core_webhooks.MAX_ATTEMPTS
    assert all(e.get("direction") == "outbound" for e in sandbox.store.journal(seen))   # no request since
    outbound = [e for e in sandbox.store.journal() if e.get("direction") == "outbound"]
    assert [e["status"] for e in outbound] == [500] * core_webhooks.MAX_ATTEMPTS
    res = a2c.ok("account.failed_webhooks", store_key=None)
    assert res["all_failed_webhook"] == "1"
    assert res["webhook"][0]["webhook_id"] == wid and res["webhook"][0]["entity_id"] == pid


def test_a_polled_platform_delivers_at_its_tick_with_no_request(running):
    sandbox = running.extensions["sandbox"]
    a2c = A2C(running.test_client(), MAGENTO)
    with Receiver(lambda req: (200, {})) as rx:
        a2c.ok("webhook.create", "POST", body={"entity": "product", "action": "add", "callback": rx.url})
        a2c.ok("product.add", "POST", body={"name": "n", "model": "poll-2", "description": "d", "price": 1})
        pending = core_webhooks.listing(sandbox, api="api2cart")[0]
        time.sleep(0.3)
        assert rx.requests == [] and pending["status"] == "pending"   # waits for the poll tick
        sandbox.clock.set(pending["next_attempt_at"], "api2cart", pending["tenant"])   # the tick comes
        wait_for(lambda: len(rx.requests) == 1)
        assert rx.requests[0]["headers"]["X-Webhook-Cart-Id"] == "Magento1212"
