"""The Elasticsearch query DSL, clause by clause, against the seeded example records and the
whole catalogue (expected results computed here in plain Python)."""
from __future__ import annotations

import pytest

from tests.stock2shop.conftest import P, assert_error, login, search


@pytest.fixture
def tok(c):
    return login(c, "admin")


@pytest.fixture
def all_products(c, tok):
    return search(c, tok, {"size": 1000}).json["system_products"]


def ids(r):
    assert r.status_code == 200, r.json
    return [h["_id"] for h in r.json["hits"]["hits"]]


def test_the_documents_example_query_and_response_shape(c, tok, all_products):
    body = {"query": {"bool": {"filter": [{"range": {"modified": {"gt": "2021-01-01 00:00:00"}}}]}},
            "size": 1, "from": 0, "sort": {"modified": {"order": "desc"}}}
    r = search(c, tok, body)
    j = r.json
    assert set(j) >= {"took", "timed_out", "_shards", "hits", "request", "system_products", "took_s2s"}
    newer = [p for p in all_products if p["modified"] > "2021-01-01 00:00:00"]
    assert j["hits"]["total"] == len(newer) and j["hits"]["max_score"] is None
    hit = j["hits"]["hits"][0]
    latest = max(newer, key=lambda p: p["modified"])
    assert hit["_id"] == str(latest["id"]) and hit["_source"]["id"] == latest["id"] and hit["_score"] is None
    assert hit["_type"] == "_doc" and hit["_index"].startswith("products")
    import datetime as dt
    expected_ms = int(dt.datetime.strptime(latest["modified"], "%Y-%m-%d %H:%M:%S")
                      .replace(tzinfo=dt.timezone.utc).timestamp() * 1000)
    assert hit["sort"] == [expected_ms]
    assert j["system_products"] == [latest]
    assert j["request"]["method"] == "POST" and j["request"]["url"].endswith("/products/_search")


def test_example_product_is_there_as_documented(c, tok):
    p = search(c, tok, {"query": {"term": {"source_product_code": "CDROM"}}}).json["system_products"]
    assert len(p) == 1 and p[0]["id"] == 62777 and p[0]["title"] == "CD ROMs"
    assert [v["sku"] for v in p[0]["variants"]] == ["CD003", "CD004"]


def test_range_on_dates_gt_gte_lt_lte(c, tok):
    q = lambda b: search(c, tok, {"query": {"range": {"modified": b}}, "size": 1000})
    assert "62777" in ids(q({"gte": "2021-01-05 08:25:04", "lte": "2021-01-05 08:25:04"}))
    assert "62777" not in ids(q({"gt": "2021-01-05 08:25:04"}))
    assert "62777" not in ids(q({"lt": "2021-01-05 08:25:04"}))
    assert ids(q({"lt": "2021-01-05"})) == []  # date-only bound
    assert "62777" in ids(q({"lt": "2021-01-06"}))


def test_range_on_numbers_in_nested_variants(c, tok, all_products):
    r = search(c, tok, {"query": {"range": {"variants.price": {"gte": 50, "lt": 100}}}, "size": 1000})
    expected = {str(p["id"]) for p in all_products if any(50 <= v["price"] < 100 for v in p["variants"])}
    assert set(ids(r)) == expected and "62777" in expected


def test_term_and_terms(c, tok, all_products):
    assert ids(search(c, tok, {"query": {"term": {"variants.sku": "CD004"}}})) == ["62777"]
    assert ids(search(c, tok, {"query": {"term": {"variants.sku": {"value": "cd004"}}}})) == []
    r = search(c, tok, {"query": {"terms": {"collection": ["Storage", "Audio"]}}, "size": 1000})
    assert set(ids(r)) == {str(p["id"]) for p in all_products if p["collection"] in ("Storage", "Audio")}
    # numeric and string forms of the same term match (Elasticsearch coerces)
    assert ids(search(c, tok, {"query": {"term": {"channels.channel_id": 255}}, "size": 1000})) == \
        ids(search(c, tok, {"query": {"term": {"channels.channel_id": "255"}}, "size": 1000}))


def test_match_and_match_phrase(c, tok):
    assert "62777" in ids(search(c, tok, {"query": {"match": {"body_html": "computers anymore"}}, "size": 1000}))
    assert ids(search(c, tok, {"query": {"match": {"body_html": {"query": "computers zzzz", "operator": "and"}}}})) == []
    assert "62777" in ids(search(c, tok, {"query": {"match": {"body_html": {"query": "computers zzzz"}}}, "size": 1000}))
    assert ids(search(c, tok, {"query": {"match_phrase": {"body_html": "uses CDs in computers"}}})) == ["62777"]
    assert ids(search(c, tok, {"query": {"match_phrase": {"body_html": "computers in CDs"}}})) == []


def test_multi_match_dotted_fields_autocomplete_and_operator(c):
    tok = login(c, "admin91")
    fields = ["id.autocomplete", "channel_order_code", "sources.source_order_code", "customer.first_name",
              "customer.last_name", "customer.email", "customer.channel_customer_code"]
    doc_query = {"query": {"bool": {"must": [{"multi_match": {"fields": fields, "query": "abc", "operator": "or"}}],
                                    "must_not": [], "filter": []}},
                 "from": 0, "size": "10", "sort": {"_score": {"order": "desc"}}}
    r = search(c, tok, doc_query, "orders")
    assert "933302" in ids(r)  # abc@example.com
    j = r.json
    assert j["hits"]["max_score"] is not None and j["hits"]["hits"][0]["_score"] > 0
    assert j["system_orders"][ids(r).index("933302")]["notes"] == "Send Soon"
    by_prefix = search(c, tok, {"query": {"multi_match": {"fields": ["id.autocomplete"], "query": "93330"}}}, "orders")
    assert ids(by_prefix) == ["933302"]
    exact_only = search(c, tok, {"query": {"multi_match": {"fields": ["id"], "query": "93330"}}}, "orders")
    assert ids(exact_only) == []
    both = {"multi_match": {"fields": ["customer.first_name", "customer.last_name"], "query": "roger waters",
                            "operator": "and"}}
    assert ids(search(c, tok, {"query": both}, "orders")) == []  # and applies per field (best_fields)
    cross = {"multi_match": {**both["multi_match"], "type": "cross_fields"}}
    assert "933302" in ids(search(c, tok, {"query": cross}, "orders"))


def test_bool_must_filter_should_must_not(c, tok, all_products):
    body = {"query": {"bool": {
        "filter": [{"term": {"collection": "Storage"}}],
        "must_not": [{"term": {"source_product_code": "CDROM"}}]}}, "size": 1000}
    expected = {str(p["id"]) for p in all_products if p["collection"] == "Storage" and p["source_product_code"] != "CDROM"}
    assert set(ids(search(c, tok, body))) == expected
    should = {"query": {"bool": {"should": [{"term": {"collection": "Storage"}}, {"term": {"collection": "Audio"}},
                                            {"term": {"product_type": "Media"}}],
                                 "minimum_should_match": 2}}, "size": 1000}
    expected2 = {str(p["id"]) for p in all_products
                 if (p["collection"] in ("Storage", "Audio")) + (p["product_type"] == "Media") >= 2}
    assert set(ids(search(c, tok, should))) == expected2 and "62777" in expected2
    # should alone: at least one must match
    one = {"query": {"bool": {"should": [{"term": {"variants.sku": "CD003"}}, {"term": {"variants.sku": "nope"}}]}}}
    assert ids(search(c, tok, one)) == ["62777"]
    # should next to a filter is optional
    opt = {"query": {"bool": {"filter": [{"term": {"id": 62777}}], "should": [{"term": {"title": "nope"}}]}}}
    assert ids(search(c, tok, opt)) == ["62777"]


def test_exists_prefix_wildcard_ids(c, tok, all_products):
    with_meta = {str(p["id"]) for p in all_products if p["meta"]}
    assert set(ids(search(c, tok, {"query": {"exists": {"field": "meta.key"}}, "size": 1000}))) == with_meta
    assert ids(search(c, tok, {"query": {"prefix": {"source_product_code": "CDR"}}})) == ["62777"]
    assert ids(search(c, tok, {"query": {"prefix": {"source_product_code": "cdr"}}})) == []
    assert ids(search(c, tok, {"query": {"wildcard": {"variants.sku": "CD00?"}}})) == ["62777"]
    assert ids(search(c, tok, {"query": {"wildcard": {"variants.sku": {"value": "cd*", "case_insensitive": True}}}})) == ["62777"]
    some = [str(p["id"]) for p in all_products[:3]]
    assert sorted(ids(search(c, tok, {"query": {"ids": {"values": some}}}))) == sorted(some)


def test_nested_variants_match_within_one_variant(c, tok):
    same = {"nested": {"path": "variants", "query": {"bool": {"must": [
        {"term": {"variants.sku": "CD003"}}, {"range": {"variants.price": {"gte": 50}}}]}}}}
    assert ids(search(c, tok, {"query": same})) == []  # CD003 costs 10; CD004 costs 55
    flat = {"bool": {"must": [{"term": {"variants.sku": "CD003"}}, {"range": {"variants.price": {"gte": 50}}}]}}
    assert ids(search(c, tok, {"query": flat})) == ["62777"]  # object mapping mixes variants
    ok = {"nested": {"path": "variants", "query": {"term": {"variants.sku": "CD004"}}}}
    assert ids(search(c, tok, {"query": ok})) == ["62777"]


def test_sort_list_form_and_paging(c, tok, all_products):
    body = {"sort": [{"title": "asc"}, {"id": {"order": "desc"}}], "size": 1000}
    got = ids(search(c, tok, body))
    expected = sorted(all_products, key=lambda p: -p["id"])
    expected = sorted(expected, key=lambda p: p["title"].lower())
    assert got == [str(p["id"]) for p in expected]
    page1 = ids(search(c, tok, {**body, "from": 0, "size": 5}))
    page2 = ids(search(c, tok, {**body, "from": 5, "size": "5"}))
    assert page1 + page2 == got[:10]
    assert search(c, tok, {"size": 0}).json["hits"]["hits"] == []
    assert len(search(c, tok, {}).json["hits"]["hits"]) == min(10, len(all_products))


def test_inactive_products_are_not_searchable(c, tok, s2s):
    raw = s2s.test_client().get("/__sandbox/data/stock2shop/products?tenant=21").json["tenants"]["21"]
    inactive = [p for p in raw if not p["active"]]
    visible = search(c, tok, {"size": 1000}).json["hits"]["total"]
    assert visible == len(raw) - len(inactive)


def test_aggregations(c, tok, all_products):
    r = search(c, tok, {"size": 0, "aggs": {"by_collection": {"terms": {"field": "collection", "size": 100}},
                                            "max_price": {"max": {"field": "variants.price"}},
                                            "skus": {"value_count": {"field": "variants.sku"}}}})
    aggs = r.json["aggregations"]
    counts = {}
    for p in all_products:
        counts[p["collection"]] = counts.get(p["collection"], 0) + 1
    assert {b["key"]: b["doc_count"] for b in aggs["by_collection"]["buckets"]} == counts
    assert aggs["max_price"]["value"] == max(v["price"] for p in all_products for v in p["variants"])
    assert aggs["skus"]["value"] == sum(len(p["variants"]) for p in all_products)


@pytest.mark.parametrize("body,fragment", [
    ({"query": {"fuzzy": {"title": "cd"}}}, "fuzzy"),
    ({"query": {"bool": {"must": [{"more_like_this": {}}]}}}, "more_like_this"),
    ({"query": {"bool": {"shoulds": []}}}, "shoulds"),
    ({"query": {"term": {"a": 1, "b": 2}}}, "term"),
    ({"query": {"range": {"modified": {"after": "2020"}}}}, "after"),
    ({"query": {}, "size": -1}, "size"),
    ({"query": {"match_all": {}}, "size": "ten"}, "size"),
    ({"sort": {"modified": {"order": "sideways"}}}, "order"),
    ({"aggs": {"x": {"histogram": {"field": "id"}}}}, "histogram"),
    ({"query": {"multi_match": {"query": "x"}}}, "fields"),
    ({"highlight": {}}, "highlight"),
])
def test_unsupported_or_broken_queries_are_400_in_the_error_shape(c, tok, body, fragment):
    err = assert_error(search(c, tok, body), 400, "search_query_error")
    assert fragment in err["message"]


def test_non_object_body_is_400(c, tok):
    assert_error(search(c, tok, [1, 2]), 400, "invalid_request")


def test_documented_alias_path(c, tok):
    r = c.post(f"/stock2shop/v1/products/elasticsearch?token={tok}", json={"size": 1})
    assert r.status_code == 200 and len(r.json["system_products"]) == 1


def test_customers_search(c):
    tok = login(c, "customer_read_only91")
    r = search(c, tok, {"query": {"match": {"email": "abc@example.com"}}}, "customers")
    assert r.json["system_customers"][0]["id"] == 495995


def test_range_understands_now_on_the_sandbox_clock(c, tok, all_products):
    from tests.stock2shop.conftest import P, advance
    item = {"source": {"source_id": "57", "source_product_code": "NOW1"},
            "product": {"title": "Fresh", "variants": {"source_variant_code": "NOW1", "sku": "NOW1"}}}
    assert c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [item]}).status_code == 200
    advance(c, 5)
    fresh = search(c, tok, {"query": {"range": {"modified": {"gte": "now-1m"}}}, "size": 1000})
    assert [p["source_product_code"] for p in fresh.json["system_products"]] == ["NOW1"]
    old = search(c, tok, {"query": {"range": {"modified": {"lt": "now-1d/d"}}}, "size": 1000})
    assert set(ids(old)) == {str(p["id"]) for p in all_products}
    advance(c, 3 * 86_400)  # "now" is the sandbox clock: three days later the product is no longer fresh
    tok = login(c, "admin")  # (the old token expired meanwhile)
    assert ids(search(c, tok, {"query": {"range": {"modified": {"gte": "now-1d"}}}})) == []
    assert_error(search(c, tok, {"query": {"range": {"modified": {"gt": "now-1x"}}}}), 400, "search_query_error")


def test_result_window_is_limited_like_elasticsearch(c, tok):
    err = assert_error(search(c, tok, {"from": 9_995, "size": 10}), 400, "search_query_error")
    assert "Result window is too large" in err["message"]


def test_request_body_appends_the_client_filters_to_the_clients_own_filter_list(c):
    """The documents' products example: the client's bool.filter [range] is echoed as
    [range, term client_id, term active]; the orders example keeps must/must_not and fills filter []."""
    tok = login(c, "admin")
    body = {"query": {"bool": {"filter": [{"range": {"modified": {"gt": "2021-08-27 08:23:04"}}}]}},
            "size": 1, "from": 0, "sort": {"modified": {"order": "desc"}}}
    echoed = search(c, tok, body).json["request"]["body"]["query"]
    assert echoed == {"bool": {"filter": [{"range": {"modified": {"gt": "2021-08-27 08:23:04"}}},
                                          {"term": {"client_id": 21}}, {"term": {"active": True}}]}}
    orders = {"query": {"bool": {"must": [{"multi_match": {"fields": ["channel_order_code"], "query": "abc",
                                                           "operator": "or"}}], "must_not": [], "filter": []}},
              "from": 0, "size": "10", "sort": {"_score": {"order": "desc"}}}
    r = search(c, tok, orders, "orders")
    assert r.status_code == 200, r.json
    q = r.json["request"]["body"]["query"]["bool"]
    assert q["must"] == orders["query"]["bool"]["must"] and q["must_not"] == []
    assert q["filter"] == [{"term": {"client_id": 21}}]
    # a non-bool query is wrapped
    other = search(c, tok, {"query": {"term": {"source_product_code": "x"}}}).json["request"]["body"]["query"]
    assert other == {"bool": {"must": [{"term": {"source_product_code": "x"}}],
                              "filter": [{"term": {"client_id": 21}}, {"term": {"active": True}}]}}


def test_channel_id_on_product_search_keeps_that_channels_products(c):
    """The product-feed guide: a channel's consumer pages POST /v1/products/elastic_search?channel_id=..."""
    tok = login(c, "admin")
    body = {"size": 50, "from": 0}
    every = c.post(f"{P}/v1/products/elastic_search?token={tok}", json=body).json
    total = every["hits"]["total"]
    on47 = c.post(f"{P}/v1/products/elastic_search?token={tok}&channel_id=47", json=body).json
    assert 0 < on47["hits"]["total"] < total
    assert all(any(ch["channel_id"] == "47" for ch in p["channels"]) for p in on47["system_products"])
    linked = sum(1 for p in every["system_products"] if any(ch["channel_id"] == "47" for ch in p["channels"]))
    assert total <= 50 and on47["hits"]["total"] == linked  # the fixture's catalogue fits one page
    none = c.post(f"{P}/v1/products/elastic_search?token={tok}&channel_id=999999", json=body).json
    assert none["hits"]["total"] == 0 and none["system_products"] == []
