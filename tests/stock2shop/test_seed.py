"""The default seed: the documents' examples plus 1,000 products (variants, images, meta) and 300
orders per client, the same for the same seed."""
from __future__ import annotations

from mocks.stock2shop import seed as S
from tests.stock2shop.conftest import login, search


def test_default_seed_sizes_and_the_documents_examples(app_factory):
    app = app_factory(apis=["stock2shop"])
    c = app.test_client()
    sb = app.extensions["sandbox"]
    products = sb.state("stock2shop", "21").collection("products").values()
    assert len(products) == S.DEFAULT_PRODUCTS == 1_000
    assert len(sb.state("stock2shop", "91").collection("orders").values()) == S.DEFAULT_ORDERS == 300
    assert sum(1 for p in products if p["images"]) > 500 and sum(1 for p in products if p["meta"]) > 300
    assert all(p["variants"] for p in products)
    tok = login(c, "admin")
    cd = search(c, tok, {"query": {"term": {"variants.sku": "CD004"}}}).json["system_products"]
    assert [(p["id"], p["title"]) for p in cd] == [(62777, "CD ROMs")]
    assert [v["sku"] for v in cd[0]["variants"]] == ["CD003", "CD004"]
    tok91 = login(c, "admin91")
    o = search(c, tok91, {"query": {"ids": {"values": ["933302"]}}}, "orders").json["system_orders"]
    assert o[0]["customer"]["email"] == "abc@example.com" and o[0]["total"] == 137.11


def test_same_seed_same_data(s2s_factory):
    a = s2s_factory().extensions["sandbox"].state("stock2shop", "21").collection("products").values()
    b = s2s_factory().extensions["sandbox"].state("stock2shop", "21").collection("products").values()
    assert a == b
