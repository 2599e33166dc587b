"""Product, image and order queues: stored as queued, applied FIFO by the scheduler once
queue_delay_seconds have passed on the client's clock (and before the client's next request is
answered, or a clock move through the control plane)."""
from __future__ import annotations

import json
import time

import pytest

from tests.stock2shop.conftest import P, advance, assert_error, login, search

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAFCAYAAACNbyblAAAAHElEQVQI12P4"


def product(code="ABC", sku=None, active="true", source_id="57", **fields):
    return {"source": {"source_id": source_id, "product_active": active, "source_product_code": code,
                       "sync_token": "0", "fetch_token": "0"},
            "product": {"title": fields.pop("title", "Example"),
                        "variants": fields.pop("variants", {"source_variant_code": sku or code, "sku": sku or code}),
                        **fields}}


def find(c, tok, code):
    r = search(c, tok, {"query": {"term": {"source_product_code": code}}})
    assert r.status_code == 200
    return r.json["system_products"]


def summary(c, tok):
    return c.get(f"{P}/v1/queue/summary?token={tok}").json["system_queue_summary"]


def test_documented_minimal_product_is_queued_then_applied_on_clock(s2s_factory):
    c = s2s_factory(queue_delay_seconds=5).test_client()
    tok = login(c, "admin")
    r = c.post(f"{P}/v1/products/queue?token={tok}&source_id=57", json={"system_products": [product()]})
    assert r.status_code == 200 and r.json == {"system_products": {"sync_product": 1}}
    assert find(c, tok, "ABC") == []
    s = summary(c, tok)
    assert s["total"] == 1 and s["instructions"][0]["instruction"] == "sync_product"
    advance(c, 5)
    got = find(c, tok, "ABC")
    assert len(got) == 1 and got[0]["title"] == "Example" and got[0]["source_id"] == 57
    assert [v["sku"] for v in got[0]["variants"]] == ["ABC"]
    assert summary(c, tok)["total"] == 0
    item = c.get(f"{P}/v1/queue/items?token={tok}").json["system_queue_items"][0]
    assert item["status"] == "processed" and item["result"]["product_id"] == got[0]["id"]


def test_full_documented_product_with_meta_and_update(c):
    tok = login(c, "product_meta_editor")
    full = product("XYZ", options=[{"name": "Size", "position": "1"}], body_html="<p>b</p>", collection="C",
                   product_type="T", tags="a,b", vendor="V",
                   variants={"source_variant_code": "XYZ-XXL", "sku": "XYZ-XXL", "barcode": "", "qty": 9,
                             "qty_availability": [{"description": "Warehouse X", "qty": 10}], "price": 100.00,
                             "price_tiers": [{"tier": "Price List X", "price": 80.00}],
                             "inventory_management": "true", "grams": 0, "option1": "XXL", "option2": None,
                             "option3": None},
                   meta=[{"key": "foo", "value": "bar"}])
    assert c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [full]}).status_code == 200
    advance(c, 10)
    p = find(c, tok, "XYZ")[0]
    v = p["variants"][0]
    assert (v["price"], v["qty"], v["option1"], v["inventory_management"]) == (100, 9, "XXL", True)
    assert v["price_tiers"] == [{"tier": "Price List X", "price": 80}]
    assert p["options"] == [{"name": "Size", "position": 1}] and p["meta"][0]["key"] == "foo"
    first_modified = p["modified"]
    # a second push updates the same product and variant, adds another variant
    # (one variant per product entry: the guide's rule; the product gains the second one)
    again = [product("XYZ", title="Renamed", variants=[{"source_variant_code": "XYZ-XXL", "sku": "XYZ-XXL", "qty": 1}]),
             product("XYZ", title="Renamed", variants={"source_variant_code": "XYZ-S", "sku": "XYZ-S", "price": 5})]
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": again})
    advance(c, 10)
    p2 = find(c, tok, "XYZ")[0]
    assert p2["id"] == p["id"] and p2["title"] == "Renamed" and p2["modified"] > first_modified
    assert [(x["sku"], x["qty"]) for x in p2["variants"]] == [("XYZ-XXL", 1), ("XYZ-S", 0)]
    assert p2["variants"][0]["id"] == v["id"]
    # range on modified finds exactly what changed since the first push
    since = search(c, tok, {"query": {"range": {"modified": {"gt": first_modified}}}, "size": 100}).json
    assert [h["_id"] for h in since["hits"]["hits"]] == [str(p["id"])]


def test_deactivating_a_product_hides_it_from_search(c):
    tok = login(c, "admin")
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("CDROM", sku="CD003")]})
    advance(c, 5)
    assert find(c, tok, "CDROM")[0]["title"] == "Example"
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("CDROM", sku="CD003", active="false")]})
    advance(c, 5)
    assert find(c, tok, "CDROM") == []


def test_processing_is_lazy_on_read_after_the_delay(s2s_factory):
    c = s2s_factory(queue_delay_seconds=30).test_client()
    tok = login(c, "admin")
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("LAZY")]})
    advance(c, 29)
    assert find(c, tok, "LAZY") == []
    advance(c, 1)
    assert len(find(c, tok, "LAZY")) == 1


def test_unknown_source_is_refused_with_the_request_like_the_placeholder(c):
    """The full example's "source_id": "{source_id}" is refused when posted (400); an unknown
    numeric source is refused at the same point, naming it, and nothing of the request is queued."""
    tok = login(c, "admin")
    before = summary(c, tok)["total"]
    placeholder = c.post(f"{P}/v1/products/queue?token={tok}",
                         json={"system_products": [product("BAD", source_id="{source_id}")]})
    assert_error(placeholder, 400)
    r = c.post(f"{P}/v1/products/queue?token={tok}",
               json={"system_products": [product("GOOD"), product("BAD", source_id="318")]})
    err = assert_error(r, 400, "invalid_payload")
    assert "source 318" in err["message"] and "system_products[1]" in err["message"]
    r = c.post(f"{P}/v1/products/queue?token=%s&source_id=318" % tok,
               json={"system_products": [{**product("BAD"), "source": {"source_product_code": "BAD"}}]})
    assert "source 318" in assert_error(r, 400, "invalid_payload")["message"]
    img = {"system_images": [{"source": {"source_id": 318, "source_product_code": "keyboard"},
                              "image": {"image_id": "a", "action": "I", "image": PNG}}]}
    assert "source 318" in assert_error(c.post(f"{P}/v1/images/queue?token={tok}", json=img), 400)["message"]
    advance(c, 5)
    assert find(c, tok, "BAD") == [] and find(c, tok, "GOOD") == []
    assert summary(c, tok)["total"] == before


def test_images_follow_their_products_fifo(c):
    tok = login(c, "admin")
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("keyboard", sku="4191161")]})
    img = {"system_images": [{"source": {"source_id": 57, "source_product_code": "keyboard", "source_variant_code": "4191161"},
                              "image": {"image_id": "a", "action": "I", "image": PNG, "meta": {"main_image": "true"}}}]}
    r = c.post(f"{P}/v1/images/queue?token={tok}", json=img)
    assert r.json == {"system_images": {"sync_image": 1}}
    advance(c, 5)
    p = find(c, tok, "keyboard")[0]
    assert len(p["images"]) == 1 and p["images"][0]["source_image_code"] == "a"
    src = p["images"][0]["src"]
    assert src.startswith("http://localhost/stock2shop/s2s-image/") and src.endswith(".png")
    assert p["variants"][0]["image_id"] == p["images"][0]["id"]
    delete = {"system_images": [{"source": {"source_id": 57, "source_product_code": "keyboard"},
                                 "image": {"image_id": "a", "action": "D"}}]}
    c.post(f"{P}/v1/images/queue?token={tok}", json=delete)
    advance(c, 5)
    p = find(c, tok, "keyboard")[0]
    assert p["images"] == [] and p["variants"][0]["image_id"] is None


def test_image_for_a_missing_product_fails(c):
    tok = login(c, "admin")
    img = {"system_images": [{"source": {"source_id": 57, "source_product_code": "ghost"},
                              "image": {"image_id": "a", "action": "I", "image": PNG}}]}
    c.post(f"{P}/v1/images/queue?token={tok}", json=img)
    advance(c, 5)
    item = c.get(f"{P}/v1/queue/items?token={tok}&instruction=sync_image").json["system_queue_items"][0]
    assert item["status"] == "failed" and "ghost" in item["message"]


def test_bad_image_data_is_400_and_nothing_is_queued(c):
    tok = login(c, "admin")
    img = {"system_images": [{"source": {"source_id": 57, "source_product_code": "CDROM"},
                              "image": {"image_id": "a", "action": "I", "image": "not base64!!"}}]}
    assert_error(c.post(f"{P}/v1/images/queue?token={tok}", json=img), 400, "invalid_payload")
    assert summary(c, tok)["total"] == 0


def test_order_queue_answers_the_documented_shape_and_creates_the_order(s2s_factory):
    c = s2s_factory(queue_delay_seconds=5).test_client()
    tok = login(c, "trade91")
    payload = {"id": 777001, "email": "jane@example.com", "note": "ring twice",
               "customer": {"id": 55, "email": "jane@example.com", "first_name": "Jane", "last_name": "Doe"},
               "line_items": [{"sku": "NOPE-1", "quantity": 2, "price": "10.00", "title": "Thing"}],
               "shipping_address": {"address1": "1 Main Rd", "city": "Cape Town", "country_code": "ZA"}}
    r = c.post(f"{P}/v2-queue/order?client_id=91&channel_id=123&token={tok}", json=payload)
    assert r.status_code == 200 and r.json["message"] == "order received"
    msg = r.json["queue_messages"][0]
    assert msg["key"].startswith("91-123-0/") and msg["key"].endswith("-sync_order.json")
    admin = login(c, "admin91")
    find_order = {"query": {"term": {"channel_order_code": "777001"}}}
    assert search(c, admin, find_order, "orders").json["hits"]["total"] == 0
    advance(c, 5)
    orders = search(c, admin, find_order, "orders").json["system_orders"]
    assert len(orders) == 1
    o = orders[0]
    assert o["channel_id"] == 123 and o["customer"]["email"] == "jane@example.com" and o["notes"] == "ring twice"
    assert o["line_items"][0]["qty"] == 2 and o["sub_total"] == 20 and o["total"] == 23
    item = c.get(f"{P}/v1/queue/items/{msg['message_id']}?token={admin}").json["system_queue_item"]
    assert item["status"] == "processed" and item["result"]["order_id"] == o["id"]
    # the customer was created and is searchable
    cust = search(c, admin, {"query": {"term": {"email": "jane@example.com"}}}, "customers").json
    assert cust["hits"]["total"] == 1


def test_order_queue_negative_cases(c):
    tok = login(c, "admin")
    assert_error(c.post(f"{P}/v2-queue/order?client_id=21&channel_id=999&token={tok}", json={}), 404, "channel_not_found")
    assert_error(c.post(f"{P}/v2-queue/order?channel_id=47&token={tok}", json={}), 400, "invalid_request")
    assert_error(c.post(f"{P}/v2-queue/order?client_id=21&channel_id=47&token={tok}", data="{nope"), 400)
    assert_error(c.get(f"{P}/v1/queue/items/12345?token={tok}"), 404, "queue_item_not_found")


def test_product_queue_validation(c):
    tok = login(c, "admin")
    bad = [{}, {"system_products": []}, {"system_products": [{"source": {}, "product": {}}]},
           {"system_products": [product(variants={"sku": "x"})]}]
    for body in bad:
        assert_error(c.post(f"{P}/v1/products/queue?token={tok}", json=body), 400, "invalid_request")
    no_source = product("NS")
    del no_source["source"]["source_id"]
    assert_error(c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [no_source]}), 400, "invalid_payload")
    assert c.post(f"{P}/v1/products/queue?token={tok}&source_id=57", json={"system_products": [no_source]}).status_code == 200


def test_fifo_order_of_processing(c):
    tok = login(c, "admin")
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("F1", title="one")]})
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("F1", title="two")]})
    advance(c, 5)
    assert find(c, tok, "F1")[0]["title"] == "two"
    assert all(i["status"] == "processed" for i in c.get(f"{P}/v1/queue/items?token={tok}").json["system_queue_items"])


def test_rate_limit_renders_in_the_error_shape():
    from mocks.core.errors import TooManyRequests
    from mocks.stock2shop.errors import error_body
    body, status, headers = error_body(TooManyRequests())
    assert status == 429 and body == {"error": {"code": 429, "message": "Too Many Requests", "type": "rate_limited"}}
    assert headers["Retry-After"] == "1"
    body, _, headers = error_body(TooManyRequests(headers={"Retry-After": "7"}))
    assert "Retry-After" not in headers


def test_absurd_order_numbers_stay_finite(c):
    tok = login(c, "admin")
    payload = {"id": "huge", "line_items": [{"sku": "X", "quantity": 10 ** 30, "price": 1e308},
                                            {"sku": "Y", "quantity": "two", "price": {"amount": 1}}]}
    assert c.post(f"{P}/v2-queue/order?client_id=21&channel_id=47&token={tok}", json=payload).status_code == 200
    advance(c, 5)
    r = c.post(f"{P}/v1/orders/elastic_search?token={tok}", json={"query": {"term": {"channel_order_code": "huge"}}})
    assert b"Infinity" not in r.data and b"NaN" not in r.data
    o = r.json["system_orders"][0]
    assert o["line_items"][0]["qty"] == 1_000_000 and o["line_items"][1]["qty"] == 1 and o["line_items"][1]["price"] == 0


def test_finished_items_beyond_queue_keep_are_forgotten_pending_ones_stay(s2s_factory):
    c = s2s_factory(queue_delay_seconds=5, queue_keep=3).test_client()
    tok = login(c, "admin")
    batch = {"system_products": [product(code=f"K{i}") for i in range(5)]}
    assert c.post(f"{P}/v1/products/queue?token={tok}&source_id=57", json=batch).status_code == 200
    advance(c, 5)
    later = {"system_products": [product(code="LATE")]}
    assert c.post(f"{P}/v1/products/queue?token={tok}&source_id=57", json=later).status_code == 200
    items = c.get(f"{P}/v1/queue/items?token={tok}&limit=100").json
    statuses = sorted(i["status"] for i in items["system_queue_items"])
    assert statuses == ["pending", "processed", "processed", "processed"], statuses
    assert all(len(find(c, tok, f"K{i}")) == 1 for i in range(5))  # the products themselves stay


def test_a_processed_image_item_keeps_its_outcome_not_its_bytes(s2s_factory):
    app = s2s_factory(queue_delay_seconds=5)
    c = app.test_client()
    tok = login(c, "admin")
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("kb2", sku="kb2-v")]})
    img = {"system_images": [{"source": {"source_id": 57, "source_product_code": "kb2", "source_variant_code": "kb2-v"},
                              "image": {"image_id": "b", "action": "I", "image": PNG}}]}
    assert c.post(f"{P}/v1/images/queue?token={tok}", json=img).status_code == 200
    queued = [v for _, v in app.extensions["sandbox"].store.items("stock2shop/21/queue") if v["instruction"] == "sync_image"]
    assert queued and "payload" in queued[0]
    advance(c, 5)
    done = [v for _, v in app.extensions["sandbox"].store.items("stock2shop/21/queue") if v["instruction"] == "sync_image"]
    assert done[0]["status"] == "processed" and "payload" not in done[0]
    assert find(c, tok, "kb2")[0]["images"]  # the image itself lives with the product


def test_each_product_must_contain_only_one_variant(c):
    """The guide: "Each product must contain only one variant, in the future we will allow
    multiple variants." Two in one entry: 400, nothing of the request is queued."""
    tok = login(c, "admin")
    before = summary(c, tok)["total"]
    two = product("TWO", variants=[{"source_variant_code": "TWO-1", "sku": "TWO-1"},
                                   {"source_variant_code": "TWO-2", "sku": "TWO-2"}])
    r = c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("OK1"), two]})
    err = assert_error(r, 400)
    assert "only one variant" in err["message"] and "system_products[1]" in err["message"]
    assert summary(c, tok)["total"] == before
    one = product("ONE", variants=[{"source_variant_code": "ONE-1", "sku": "ONE-1"}])  # a list of one is fine
    assert c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [one]}).status_code == 200


def test_variant_option_without_product_options_fails_in_the_queue(c):
    """The guide: "If the relationship between the product and variant is not correctly configure,
    these products will be ignored": the documented full example's option1 without its options."""
    tok = login(c, "admin")
    bad = product("NOOPT", variants={"source_variant_code": "NOOPT-XXL", "sku": "NOOPT-XXL", "option1": "XXL",
                                     "option2": None, "option3": None})
    assert c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [bad]}).status_code == 200
    advance(c, 5)
    assert find(c, tok, "NOOPT") == []
    item = c.get(f"{P}/v1/queue/items?token={tok}&status=failed").json["system_queue_items"][0]
    assert item["status"] == "failed" and "option1" in item["log_message"] and "no options" in item["log_message"]
    # with the product's option it is applied; option2 needs a second option
    good = product("NOOPT", options=[{"name": "Size", "position": "1"}],
                   variants={"source_variant_code": "NOOPT-XXL", "sku": "NOOPT-XXL", "option1": "XXL"})
    two = product("NOOPT", variants={"source_variant_code": "NOOPT-XL-R", "sku": "NOOPT-XL-R", "option1": "XL",
                                     "option2": "Red"})
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [good, two]})
    advance(c, 5)
    got = find(c, tok, "NOOPT")
    assert [v["option1"] for v in got[0]["variants"]] == ["XXL"]  # the stored product's one option counted
    failed = c.get(f"{P}/v1/queue/items?token={tok}&status=failed").json["system_queue_items"][0]
    assert "option2" in failed["log_message"] and "1 option(s)" in failed["log_message"]


# -- the queue as Stock2Shop's own clients read it (issue #19) ------------------------------------------

def test_client_posts_queue_items_with_empty_body_and_reads_log_message_then_resets(s2s_factory):
    c = s2s_factory(queue_delay_seconds=0).test_client()
    tok = login(c, "admin")
    # a variant option the product lacks: applying fails, with a log message (an unknown source is
    # refused when posted: test_unknown_source_is_refused_with_the_request_like_the_placeholder)
    bad = product("BAD", variants={"source_variant_code": "BAD", "sku": "BAD", "option1": "XL"})
    assert c.post(f"{P}/v1/products/queue?token={tok}",
                  json={"system_products": [bad, product("NEW1")]}).status_code == 200
    url = (f"{P}/v1/queue/items?token={tok}&source_id=57&limit=50&mode=non-blocking"
           f"&search_mode=products&instruction=add_product&status=failed")
    r = c.post(url, data=b"")  # exactly as the client sends it: POST, query string, empty body
    assert r.status_code == 200, r.json
    items = r.json["system_items"]
    assert len(items) == 1 and items[0]["status"] == "failed"
    assert "ignored" in items[0]["log_message"]
    assert items[0]["client_instruction"] == "add_product"
    assert r.json["system_queue_items"] == items  # today's name stays as an alias
    assert c.get(url).json["system_items"] == items  # and the GET form answers the same
    # the source filter keeps one source's items
    assert c.post(f"{P}/v1/queue/items?token={tok}&source_id=999&status=failed", data=b"").json["total"] == 0
    # the product that was created reads as add_product; queued again, it is an update_product
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("NEW1", title="Again")]})
    upd = c.post(f"{P}/v1/queue/items?token={tok}&instruction=update_product&status=processed", data=b"").json
    assert upd["total"] == 1 and upd["system_items"][0]["client_instruction"] == "update_product"
    # reset: the failed item goes back to pending and is tried again (failing again: still no options)
    item_id = items[0]["id"]
    r = c.put(f"{P}/v1/queue/reset/{item_id}?token={tok}", data=b"")
    assert r.status_code == 200 and r.json["system_queue_item"]["status"] == "pending"
    again = c.get(f"{P}/v1/queue/items/{item_id}?token={tok}").json["system_queue_item"]
    assert again["status"] == "failed" and again["log_message"]
    # a processed item cannot be reset; an unknown one is a 404 in the API's shape
    done = upd["system_items"][0]["id"]
    assert_error(c.put(f"{P}/v1/queue/reset/{done}?token={tok}"), 400, "invalid_payload")
    assert_error(c.put(f"{P}/v1/queue/reset/424242?token={tok}"), 404, "queue_item_not_found")
    # unknown instruction: the API's 400, not a 500
    assert c.post(f"{P}/v1/queue/items?token={tok}&instruction=fly", data=b"").status_code == 400


def test_reset_brings_back_a_failed_image_with_its_bytes(s2s_factory):
    c = s2s_factory(queue_delay_seconds=0).test_client()
    tok = login(c, "admin")
    img = {"source": {"source_id": "57", "source_product_code": "LATER"},
           "image": {"image": PNG, "image_id": "i1", "action": "I"}}
    assert c.post(f"{P}/v1/images/queue?token={tok}", json={"system_images": [img]}).status_code == 200
    failed = c.post(f"{P}/v1/queue/items?token={tok}&status=failed&instruction=add_image", data=b"").json
    assert failed["total"] == 1
    c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [product("LATER")]})
    c.get(f"{P}/v1/queue/summary?token={tok}")
    r = c.put(f"{P}/v1/queue/reset/{failed['system_items'][0]['id']}?token={tok}")
    assert r.status_code == 200
    item = c.get(f"{P}/v1/queue/items/{failed['system_items'][0]['id']}?token={tok}").json["system_queue_item"]
    assert item["status"] == "processed" and item["result"]["image_id"]


@pytest.mark.parametrize("lag", [0, 0.4])
def test_a_queued_product_becomes_searchable_with_no_client_request(app_factory, lag):
    """The scheduler applies the queue when the delay has passed (and the index catches up after
    the lag) on its own: the store shows it before any further request is made."""
    from mocks.stock2shop import models as M

    app = app_factory(apis=["stock2shop"], scheduler=True, options={"stock2shop": {
        "products": 10, "orders": 2, "customers": 2, "queue_delay_seconds": 0.4, "index_lag_seconds": lag}})
    sb = app.extensions["sandbox"]
    try:
        c = app.test_client()
        tok = login(c, "admin")
        r = c.post(f"{P}/v1/products/queue?token={tok}&source_id=57", json={"system_products": [product("SCHED")]})
        assert r.status_code == 200
        queue = sb.state("stock2shop", "21").collection("queue")
        assert [i["status"] for i in queue.values() if "SCHED" in json.dumps(i)] == ["pending"]
        deadline = time.time() + 10
        while time.time() < deadline and not [i for i in queue.values() if i["status"] == "processed"]:
            time.sleep(0.02)
        assert [i["status"] for i in queue.values()] == ["processed"]       # applied with no request
        lagging = M.IndexLag(sb.state("stock2shop", "21")).pending
        while time.time() < deadline and lagging.count():
            time.sleep(0.02)
        assert lagging.count() == 0                                          # the index caught up by itself
        assert [p["title"] for p in find(c, tok, "SCHED")] == ["Example"]
        hits = search(c, tok, {"query": {"term": {"source_product_code": "SCHED"}}}).json["hits"]["hits"]
        assert [h["_source"]["source_product_code"] for h in hits] == ["SCHED"]
    finally:
        sb.scheduler.stop()


def test_the_source_code_index_is_built_before_the_queue_job_is_claimed(s2s_factory, monkeypatch):
    """A client's search waits while the scheduler holds the queue job (it must see what the queue
    applied); the first run's one-off build of the products' source-code index happens before the
    claim, so no search waits for it (issue 16: one search over 1 s at 100,000 products)."""
    from array import array

    from mocks.core import scheduler as S
    from mocks.stock2shop.models.indexes import by_source_code

    app = s2s_factory(queue_delay_seconds=5)
    c = app.test_client()
    sb = app.extensions["sandbox"]
    tok = login(c, "admin")
    r = c.post(f"{P}/v1/products/queue?token={tok}&source_id=57", json={"system_products": [product("PREP")]})
    assert r.status_code == 200
    tenant = next(t.id for t in sb.apis["stock2shop"].tenants(sb))
    index = by_source_code(sb.state("stock2shop", tenant).collection("products"))
    seen = []
    claim = S.Scheduler._claim

    def watching_claim(self, key, now):
        if "stock2shop" in key:
            seen.append(("claim", index.seq >= 0))
        return claim(self, key, now)

    monkeypatch.setattr(S.Scheduler, "_claim", watching_claim)
    index.seq, index.hashes, index.codes = -1, array("q"), array("q")  # as in a worker that never looked one up
    advance(c, 5)
    assert len(find(c, tok, "PREP")) == 1
    assert seen and seen[0] == ("claim", True), seen  # built before the queue job was claimed
