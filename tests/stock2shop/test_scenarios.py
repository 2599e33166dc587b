"""The scenario engine's hooks as Stock2Shop implements them: expire_token, index_lag, item_failures."""
from __future__ import annotations

from tests.stock2shop.conftest import P, advance, assert_error, login, search


def _activate(c, definition):
    r = c.post("/__sandbox/scenarios", json=definition)
    assert r.status_code in (200, 201), r.json


def test_expire_token_hook_expires_the_requests_token(c):
    _activate(c, {"name": "s2s-expire", "rules": [{
        "name": "third", "match": {"api": "stock2shop", "method": "POST", "path": "/stock2shop/v1/*/elastic*search"},
        "when": {"nth": [3]}, "action": {"expire_token": True, "status": 401, "message": "Token expired"}}]})
    token = login(c, "admin")
    got = [search(c, token, {"from": i * 2, "size": 2}).status_code for i in range(3)]
    assert got == [200, 200, 401]
    # the token really expired: later requests fail too, until the client authenticates again
    assert_error(c.get(f"{P}/v1/channels?token={token}"), 401, "token_expired")
    assert search(c, login(c, "admin"), {"from": 4, "size": 2}).status_code == 200


def test_index_lag_hook_delays_queued_writes(s2s_factory):
    c = s2s_factory(queue_delay_seconds=0).test_client()
    _activate(c, {"name": "s2s-lag", "rules": [{
        "name": "lag", "match": {"api": "stock2shop", "method": "POST", "path": "/stock2shop/v1/products/queue"},
        "when": {"always": True}, "action": {"index_lag": {"seconds": 30}}}]})
    token = login(c, "admin")
    item = {"source": {"source_id": "57", "source_product_code": "LAG1"},
            "product": {"title": "Lagging", "variants": {"source_variant_code": "LAG1", "sku": "LAG1"}}}
    assert c.post(f"{P}/v1/products/queue?token={token}", json={"system_products": [item]}).status_code == 200
    find = {"query": {"term": {"source_product_code": "LAG1"}}}
    advance(c, 29)
    assert search(c, token, find).json["hits"]["total"] == 0
    advance(c, 1)
    assert search(c, token, find).json["hits"]["total"] == 1


def test_item_failures_hook_fails_every_nth_queued_item(c):
    _activate(c, {"name": "s2s-items", "rules": [{
        "name": "every-2nd", "match": {"api": "stock2shop", "method": "POST", "path": "/stock2shop/v1/products/queue"},
        "when": {"always": True}, "action": {"item_failures": {"every": 2, "code": 400}}}]})
    token = login(c, "admin")
    items = [{"source": {"source_id": "57", "source_product_code": f"IF{i}"},
              "product": {"title": f"Item {i}", "variants": {"source_variant_code": f"IF{i}", "sku": f"IF{i}"}}}
             for i in range(1, 5)]
    r = c.post(f"{P}/v1/products/queue?token={token}", json={"system_products": items})
    assert r.status_code == 200 and r.json["system_products"]["sync_product"] == 4
    advance(c, 5)
    found = search(c, token, {"query": {"prefix": {"source_product_code": "IF"}}, "sort": ["source_product_code"]})
    assert [p["source_product_code"] for p in found.json["system_products"]] == ["IF1", "IF3"]
    failed = c.get(f"{P}/v1/queue/items?token={token}&status=failed").json["system_queue_items"]
    assert len(failed) == 2 and all("injected failure" in f["message"] for f in failed)
