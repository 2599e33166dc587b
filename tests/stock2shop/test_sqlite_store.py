"""The same flows on the SQLite store (what `serve` uses by default): queue writes, the index lag's
bookkeeping, rate-limit buckets and image files all go through store updates there."""
from __future__ import annotations

import base64

import pytest

from tests.stock2shop.conftest import P, advance, assert_error, login, search
from tests.stock2shop.test_channel_orders import SHOPIFY
from tests.stock2shop.test_images import png


@pytest.fixture
def c(app_factory, tmp_path):
    app = app_factory(state=f"sqlite:///{tmp_path}/state.db", apis=["stock2shop"],
                      options={"stock2shop": {"products": 30, "orders": 5, "customers": 5, "index_lag_seconds": 10}})
    return app.test_client()


def test_queue_images_orders_lag_and_rate_limit_on_sqlite(c):
    tok = login(c, "admin")
    login(c, "admin")  # a second login replaces the first token
    tok = login(c, "admin")
    item = {"source": {"source_id": 57, "source_product_code": "SQL1"},
            "product": {"title": "On sqlite", "variants": {"source_variant_code": "SQL1", "sku": "SQL1"}}}
    assert c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [item]}).status_code == 200
    img = {"source": {"source_id": 57, "source_product_code": "SQL1"},
           "image": {"image_id": "a", "action": "I", "image": base64.b64encode(png()).decode()}}
    assert c.post(f"{P}/v1/images/queue?token={tok}", json={"system_images": [img]}).status_code == 200
    find = {"query": {"term": {"source_product_code": "SQL1"}}}
    assert search(c, tok, find).json["hits"]["total"] == 0          # the index lags 10 s
    advance(c, 10)
    p = search(c, tok, find).json["system_products"][0]
    assert c.get(p["images"][0]["src"].replace("http://localhost", "")).data == png()
    tok91 = login(c, "admin91")
    assert c.post(f"{P}/v2-queue/order?client_id=91&channel_id=123&token={tok91}", json=SHOPIFY).status_code == 200
    advance(c, 10)
    q = {"query": {"term": {"channel_order_code": str(SHOPIFY["id"])}}}
    assert search(c, tok91, q, "orders").json["hits"]["total"] == 1
    c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 21, "enabled": True, "per_second": 1})
    assert c.get(f"{P}/v1/sources?token={tok}").status_code == 200
    assert_error(c.get(f"{P}/v1/sources?token={tok}"), 429, "rate_limited")
