"""The scheduler and the sandbox clocks, in-process.

Each test that needs due work to run on its own starts the scheduler explicitly (``scheduler=True``)
and stops it at the end: no thread runs behind the back of any other test.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

from mocks import create_app
from mocks.core import scheduler as S
from mocks.core import webhooks


class Hook:
    """A local receiver; ``answer(n)`` gives the status of the n-th request (0-based)."""

    def __init__(self, answer: Callable[[int], int] = lambda n: 200) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = answer(len(outer.got))
                outer.got.append((dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(predicate: Callable[[], Any], seconds: float = 5.0) -> Any:
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


@pytest.fixture(params=["sqlite", "redis"])
def state_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/11"
    import redis
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def running(app_factory, state_url):
    """``running(**config)``: an app whose scheduler thread runs; all stopped at the end."""
    started: list[Any] = []

    def make(**config: Any) -> Any:
        config.setdefault("state", state_url)
        config.setdefault("apis", ["click2sync"])
        app = app_factory(scheduler=True, **config)
        started.append(app.extensions["sandbox"].scheduler)
        return app

    yield make
    for sched in started:
        sched.stop()


# -- clocks ------------------------------------------------------------------------------------------
def test_clock_scopes_nest_and_do_not_move_each_other(app_factory):
    app = app_factory(apis=["xtnd", "click2sync"])
    c = app.test_client()
    tenants = [t["id"] for t in c.get("/__sandbox/tenants/xtnd").json["tenants"]]
    base = c.get("/__sandbox/clock").json["now"]
    r = c.post("/__sandbox/clock", json={"advance_seconds": 3600, "api": "xtnd", "tenant": tenants[0]})
    assert r.status_code == 200 and r.json["tenant"] == tenants[0]
    assert r.json["now"] - base == pytest.approx(3600, abs=5)
    other = c.get("/__sandbox/clock", query_string={"api": "xtnd", "tenant": tenants[1]}).json["now"]
    assert other - base == pytest.approx(0, abs=5)                       # the other tenant did not move
    assert c.get("/__sandbox/clock").json["now"] - base == pytest.approx(0, abs=5)   # nor did the world
    c.post("/__sandbox/clock", json={"advance_seconds": 60, "api": "xtnd"})   # the API's clock: both tenants
    sb = app.extensions["sandbox"]
    assert sb.clock.now("xtnd", tenants[0]) - base == pytest.approx(3660, abs=5)
    assert sb.clock.now("xtnd", tenants[1]) - base == pytest.approx(60, abs=5)
    assert sb.clock.now("click2sync") - base == pytest.approx(0, abs=5)
    assert sb.state("xtnd", tenants[0]).now() == pytest.approx(sb.clock.now("xtnd", tenants[0]), abs=1)
    c.post("/__sandbox/clock", json={"advance_seconds": 10})                 # global: everyone
    assert sb.clock.now("click2sync") - base == pytest.approx(10, abs=5)
    assert sb.clock.now("xtnd", tenants[0]) - base == pytest.approx(3670, abs=5)
    scopes = {(s["api"], s["tenant"]) for s in c.get("/__sandbox/clock").json["scopes"]}
    assert scopes == {(None, None), ("xtnd", None), ("xtnd", tenants[0])}
    r = c.delete("/__sandbox/clock", query_string={"api": "xtnd"})          # the API and its tenants
    assert r.status_code == 200 and r.json["now"] - base == pytest.approx(10, abs=5)
    assert sb.clock.now("xtnd", tenants[0]) - base == pytest.approx(10, abs=5)


def test_set_and_freeze(app_factory):
    app = app_factory(apis=["click2sync"])
    c = app.test_client()
    r = c.post("/__sandbox/clock", json={"now": "2030-05-01T12:00:00Z", "freeze": True, "api": "click2sync"})
    assert r.status_code == 200 and r.json["iso"].startswith("2030-05-01T12:00:00") and r.json["frozen"] is True
    time.sleep(0.05)
    frozen = c.get("/__sandbox/clock", query_string={"api": "click2sync"}).json
    assert frozen["now"] == r.json["now"] and frozen["frozen"] is True
    c.post("/__sandbox/clock", json={"advance_seconds": 30})                  # a frozen scope ignores its parent
    assert c.get("/__sandbox/clock?api=click2sync").json["now"] == r.json["now"]
    r = c.post("/__sandbox/clock", json={"advance_seconds": 90, "api": "click2sync"})   # but moves when told
    assert r.json["iso"].startswith("2030-05-01T12:01:30") and r.json["frozen"] is True
    r = c.post("/__sandbox/clock", json={"freeze": False, "api": "click2sync"})         # runs on from there
    assert r.json["frozen"] is False and r.json["iso"].startswith("2030-05-01T12:01:3")
    time.sleep(0.05)
    assert c.get("/__sandbox/clock?api=click2sync").json["now"] > r.json["now"]
    r = c.post("/__sandbox/clock", json={"now": 0})                           # epoch seconds, and back in time
    assert r.status_code == 200 and r.json["now"] < 5


@pytest.mark.parametrize("body, status, words", [
    ({"set": 0}, 400, "unknown clock key(s) set; accepted: advance_seconds"),
    ({"advance_seconds": -5}, 400, "advance_seconds must be a finite number >= 0"),
    ({"advance_seconds": "soon"}, 400, "advance_seconds must be a number"),
    ({"advance_seconds": True}, 400, "advance_seconds must be a number"),
    ({"now": "yesterday"}, 400, "now must be epoch seconds or an ISO 8601 date-time"),
    ({"now": -1}, 400, "now must be epoch seconds"),
    ({"freeze": "maybe"}, 400, "freeze must be true or false"),
    ({"tenant": "21"}, 400, "a tenant's clock needs its api"),
    ({"api": "nope", "advance_seconds": 1}, 404, "unknown api 'nope'"),
    ({"api": "click2sync", "tenant": "nobody", "advance_seconds": 1}, 404, "unknown tenant 'nobody'"),
])
def test_a_bad_clock_request_is_a_400_that_says_what_is_accepted(app_factory, body, status, words):
    app = app_factory(apis=["click2sync"])
    c = app.test_client()
    before = c.get("/__sandbox/clock").json
    r = c.post("/__sandbox/clock", json=body)
    assert r.status_code == status and words in json.dumps(r.json), r.json
    after = c.get("/__sandbox/clock").json
    assert after["scopes"] == before["scopes"] == []                          # nothing moved


def test_reset_of_one_api_resets_its_clock(app_factory):
    app = app_factory(apis=["click2sync"])
    c = app.test_client()
    c.post("/__sandbox/clock", json={"advance_seconds": 500, "api": "click2sync"})
    c.post("/__sandbox/reset", json={"api": "click2sync"})
    assert c.get("/__sandbox/clock").json["scopes"] == []


# -- the scheduler -----------------------------------------------------------------------------------
def test_no_thread_runs_unless_asked(app_factory):
    sb = app_factory(apis=["click2sync"]).extensions["sandbox"]
    assert not sb.scheduler.running
    webhooks.enqueue(sb, "click2sync", "t1", "http://127.0.0.1:9/none", "x", {})
    assert sb.scheduler.next_wait() == 0.0 and webhooks.listing(sb)[0]["attempts"] == []


def test_a_webhook_is_delivered_and_journaled_with_no_client_request(running, hook):
    app = running()
    sb = app.extensions["sandbox"]
    webhooks.enqueue(sb, "click2sync", "c2s-demo-key", hook.url, "product.add", {"id": 7}, secret="k")
    wait_for(lambda: hook.got)
    assert json.loads(hook.got[0][1]) == {"id": 7}
    row = wait_for(lambda: [w for w in webhooks.listing(sb) if w["status"] == "delivered"])[0]
    assert row["attempts"][0]["status"] == 200
    entries = [e for e in sb.store.journal() if e.get("direction") == "outbound"]
    assert len(entries) == 1 and entries[0]["path"] == hook.url and entries[0]["status"] == 200
    assert entries[0]["event"] == "product.add" and entries[0]["webhook"] == row["id"]
    assert entries[0]["request"]["headers"]["X-Webhook-Signature"] == "***"
    shown = app.test_client().get("/__sandbox/requests?method=POST").json["requests"]
    assert any(e.get("direction") == "outbound" for e in shown)               # what the console polls
    wait_for(lambda: S.pending(sb) == [])                          # the timer is gone once it is done
    assert sb.scheduler.next_wait() is None


def test_retries_wait_for_the_tenants_clock_then_run_on_their_own(running):
    hook = Hook(answer=lambda n: 500 if n == 0 else 200)
    try:
        app = running()
        sb = app.extensions["sandbox"]
        c = app.test_client()
        tenant = next(iter(sb.tenants("click2sync")))
        scope = {"api": "click2sync", "tenant": tenant}
        assert c.post("/__sandbox/clock", json={"freeze": True, **scope}).status_code == 200
        webhooks.enqueue(sb, "click2sync", tenant, hook.url, "order.add", {"id": 1})
        wait_for(lambda: hook.got)                               # the first attempt: 500
        time.sleep(1.3)                                          # backoff is 1 s, but on a frozen clock
        assert len(hook.got) == 1 and webhooks.listing(sb)[0]["status"] == "pending"
        assert c.post("/__sandbox/clock", json={"freeze": False, **scope}).status_code == 200
        wait_for(lambda: len(hook.got) == 2, 4)                  # the clock runs again: retried with no request
        wait_for(lambda: webhooks.listing(sb)[0]["status"] == "delivered")
    finally:
        hook.close()


def test_due_work_left_by_a_dead_process_runs_after_the_restart(app_factory, running, hook, state_url):
    url = state_url
    dead = app_factory(state=url, apis=["click2sync"])          # no scheduler: as if killed before sending
    webhooks.enqueue(dead.extensions["sandbox"], "click2sync", "c2s-demo-key", hook.url, "x", {"n": 1})
    assert not hook.got
    running(state=url)
    wait_for(lambda: hook.got)
    assert len(hook.got) == 1


def test_one_lease_holder_and_the_lease_is_taken_over_when_it_dies(app_factory, state_url, monkeypatch):
    monkeypatch.setattr(S, "LEASE_TTL_S", 0.3)
    url = state_url
    a = app_factory(state=url, apis=["click2sync"]).extensions["sandbox"].scheduler
    b = app_factory(state=url, apis=["click2sync"]).extensions["sandbox"].scheduler
    assert a.take_lease() is True and b.take_lease() is False
    assert a.take_lease() is True                                  # renewing
    time.sleep(0.4)                                                # a stops renewing (it "died")
    assert b.take_lease() is True and a.take_lease() is False
    b.release_lease()                                              # a graceful stop hands it on at once
    assert a.take_lease() is True


def test_two_running_schedulers_deliver_each_webhook_exactly_once(running, hook):
    apps = [running(), running()]
    sandboxes = [a.extensions["sandbox"] for a in apps]
    ids = [webhooks.enqueue(sandboxes[i % 2], "click2sync", "c2s-demo-key", hook.url, f"e{i}", {"i": i})["id"]
           for i in range(12)]
    wait_for(lambda: len(hook.got) >= 12)
    time.sleep(0.5)
    assert len(ids) == 12
    delivered = [json.loads(body)["i"] for _, body in hook.got]     # each payload names its delivery
    assert sorted(delivered) == list(range(12))
    holders = [sb.scheduler.holding for sb in sandboxes]
    assert holders.count(True) == 1


def test_a_job_is_claimed_once_when_synchronous_runs_meet(app_factory, hook):
    sb = app_factory(apis=["click2sync"]).extensions["sandbox"]
    for i in range(5):
        webhooks.enqueue(sb, "click2sync", "c2s-demo-key", hook.url, f"e{i}", {"i": i})
    threads = [threading.Thread(target=sb.scheduler.run_due) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(hook.got) == 5
