"""Issue 16, the contention figure: with no queue delay a writer applies what it queued in its own
request and leaves no due queue job behind, so another request of the client (a search) never
claims and runs queue work inline for other writers (counted, not timed)."""
from __future__ import annotations

import pytest

from mocks.core import scheduler as S
from tests.stock2shop.conftest import P, login, search
from tests.stock2shop.test_queues import PNG, find, product


def _queue_jobs(sb):
    return [t for t in S.pending(sb, "stock2shop") if t["ref"] == "queue"]


@pytest.fixture
def runs(monkeypatch):
    """Every scheduler job run (claimed and handled), by anyone, as (api, tenant, ref)."""
    seen = []
    run_one = S.Scheduler.run_one

    def counting(self, key, timer, now):
        ran = run_one(self, key, timer, now)
        if ran:
            seen.append((timer["api"], timer["tenant"], timer["ref"]))
        return ran

    monkeypatch.setattr(S.Scheduler, "run_one", counting)
    return seen


def test_writes_with_no_delay_leave_no_queue_job_and_a_search_runs_none(s2s_factory, runs):
    app = s2s_factory(queue_delay_seconds=0)
    sb = app.extensions["sandbox"]
    writer, other, reader = app.test_client(), app.test_client(), app.test_client()
    tok = login(writer, "admin")
    for n in range(6):  # two writers of the client, taking turns
        c = writer if n % 2 else other
        r = c.post(f"{P}/v1/products/queue?token={tok}&source_id=57", json={"system_products": [product(f"CW{n}")]})
        assert r.status_code == 200
        assert _queue_jobs(sb) == []  # nothing left for anyone else to run
    assert runs == []
    r = search(reader, tok, {"query": {"prefix": {"source_product_code": "CW"}}, "size": 10})
    assert r.status_code == 200
    assert sorted(p["source_product_code"] for p in r.json["system_products"]) == [f"CW{n}" for n in range(6)]
    assert runs == []  # the search ran no queue work inline
    items = reader.post(f"{P}/v1/queue/items?token={tok}", data=b"").json["system_items"]
    assert [i["status"] for i in items[:6]] == ["processed"] * 6
    assert runs == []


def test_items_due_before_a_write_are_applied_first_and_the_job_is_then_done(s2s_factory, runs):
    """A reset item is due with a timer; a client's next request applies it (FIFO) and the timer
    goes with it, so the write after finds nothing due and runs only its own items."""
    app = s2s_factory(queue_delay_seconds=0)
    sb = app.extensions["sandbox"]
    c = app.test_client()
    tok = login(c, "admin")
    img = {"source": {"source_id": "57", "source_product_code": "CLATER"},
           "image": {"image": PNG, "image_id": "i1", "action": "I"}}
    assert c.post(f"{P}/v1/images/queue?token={tok}", json={"system_images": [img]}).status_code == 200
    failed = c.post(f"{P}/v1/queue/items?token={tok}&status=failed", data=b"").json["system_items"]
    assert [i["client_instruction"] for i in failed] == ["add_image"]
    assert c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("CLATER")]}).status_code == 200
    assert c.put(f"{P}/v1/queue/reset/{failed[0]['id']}?token={tok}").status_code == 200
    assert [t["ref"] for t in _queue_jobs(sb)] == ["queue"]  # due now, for the scheduler
    # the model's own path (a request would have run the due job in its authentication first)
    from mocks.stock2shop import models as M

    tenant = next(t.id for t in sb.apis["stock2shop"].tenants(sb))
    state = sb.state("stock2shop", tenant)
    user = next(u for _, u in state.collection("users").items() if u["username"] == "admin")
    with sb.store.transaction():
        M.Queue(state).queue_products(user, {"system_products": [product("CAFTER")]}, 57)
    assert _queue_jobs(sb) == []
    items = {i["id"]: i for i in c.post(f"{P}/v1/queue/items?token={tok}", data=b"").json["system_items"]}
    assert items[failed[0]["id"]]["status"] == "processed" and items[failed[0]["id"]]["result"]["image_id"]
    newest = max(items)
    assert items[newest]["status"] == "processed" and items[newest]["client_instruction"] == "add_product"
    assert find(c, login(c, "admin"), "CAFTER")[0]["source_product_code"] == "CAFTER"
    assert runs == []


def test_queue_keep_holds_when_a_writer_trims_before_storing(s2s_factory):
    c = s2s_factory(queue_delay_seconds=0, queue_keep=3).test_client()
    tok = login(c, "admin")
    for n in range(4):
        assert c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product(f"CK{n}")]}).status_code == 200
    r = c.post(f"{P}/v1/products/queue?token={tok}",
               json={"system_products": [product(f"CK{n}") for n in range(4, 9)]})  # more than queue_keep at once
    assert r.status_code == 200
    items = c.post(f"{P}/v1/queue/items?token={tok}", data=b"").json
    assert items["total"] == 3 and [i["status"] for i in items["system_items"]] == ["processed"] * 3
    assert [p["source_product_code"] for p in find(c, tok, "CK8")] == ["CK8"]
    assert [p["source_product_code"] for p in find(c, tok, "CK4")] == ["CK4"]  # applied, then forgotten
