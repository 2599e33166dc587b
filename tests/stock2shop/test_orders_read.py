"""GET /v1/orders/{id} and GET /v1/orders/search?status=&limit=&offset=, as a real client calls them
(issue #19): the same orders, and the same trade-user filter, as POST /v1/orders/elastic_search."""
from __future__ import annotations

from tests.stock2shop.conftest import P, assert_error, login, search


def test_get_order_by_id_answers_the_stored_order(c):
    tok = login(c, "admin")
    first = search(c, tok, {"size": 1}, "orders").json["system_orders"][0]
    r = c.get(f"{P}/v1/orders/{first['id']}?token={tok}")
    assert r.status_code == 200 and r.json["system_order"] == first
    assert_error(c.get(f"{P}/v1/orders/99999999?token={tok}"), 404, "order_not_found")
    assert_error(c.get(f"{P}/v1/orders/abc?token={tok}"), 404, "order_not_found")
    assert_error(c.get(f"{P}/v1/orders/{first['id']}"), 401, "missing_token")


def test_orders_search_by_status_pages_newest_first(c):
    tok = login(c, "admin")
    every = search(c, tok, {"size": 100}, "orders").json["system_orders"]
    ordered = sorted((o["id"] for o in every if o["status"] == "ordered"), reverse=True)
    assert len(ordered) >= 3
    r = c.get(f"{P}/v1/orders/search?token={tok}&status=ordered&limit=2&offset=0")
    assert r.status_code == 200, r.json
    assert [o["id"] for o in r.json["system_orders"]] == ordered[:2] and r.json["total"] == len(ordered)
    page2 = c.get(f"{P}/v1/orders/search?token={tok}&status=ordered&limit=2&offset=2").json
    assert [o["id"] for o in page2["system_orders"]] == ordered[2:4]
    assert c.get(f"{P}/v1/orders/search?token={tok}&status=nosuch&limit=10&offset=0").json == \
        {"system_orders": [], "total": 0}
    assert c.get(f"{P}/v1/orders/search?token={tok}").json["total"] == len(every)
    assert_error(c.get(f"{P}/v1/orders/search?token={tok}&limit=0"), 400)


def test_trade_user_reads_only_their_own_orders(c):
    admin, trade = login(c, "admin"), login(c, "trade")
    own = {o["id"] for o in search(c, trade, {"size": 100}, "orders").json["system_orders"]}
    other = next(o for o in search(c, admin, {"size": 100}, "orders").json["system_orders"] if o["id"] not in own)
    assert_error(c.get(f"{P}/v1/orders/{other['id']}?token={trade}"), 404, "order_not_found")
    listed = {o["id"] for o in c.get(f"{P}/v1/orders/search?token={trade}&limit=100").json["system_orders"]}
    assert listed == own


def test_orders_search_offset_is_bounded_by_the_result_window(c):
    tok = login(c, "admin")
    assert c.get(f"{P}/v1/orders/search?token={tok}&limit=1000&offset=9000").json["system_orders"] == []
    assert_error(c.get(f"{P}/v1/orders/search?token={tok}&limit=10&offset=9001"), 400)
