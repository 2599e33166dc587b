"""Search features beyond the basics: search_after, _source filtering, the result window,
date_histogram and the other aggregations, unsupported clauses, and the index planner agreeing
with document-by-document evaluation."""
from __future__ import annotations

import copy

import pytest

from mocks.stock2shop import search as S
from tests.stock2shop.conftest import P, advance, assert_error, login, search

BY_MODIFIED = [{"modified": {"order": "desc", "unmapped_type": "date"}}, {"id": "asc"}]


def test_search_after_pages_without_gaps_or_repeats(c):
    tok = login(c, "admin")
    everything = search(c, tok, {"size": 1000, "sort": BY_MODIFIED}).json
    want = [h["_id"] for h in everything["hits"]["hits"]]
    got, after = [], None
    while True:
        body = {"size": 7, "sort": BY_MODIFIED}
        if after is not None:
            body["search_after"] = after
        r = search(c, tok, body)
        assert r.status_code == 200
        hits = r.json["hits"]["hits"]
        if not hits:
            break
        got += [h["_id"] for h in hits]
        after = hits[-1]["sort"]
        assert r.json["hits"]["total"] == everything["hits"]["total"]
    assert got == want and len(set(got)) == len(got)


def test_search_after_errors(c):
    tok = login(c, "admin")
    assert "requires a [sort]" in assert_error(search(c, tok, {"search_after": [1]}), 400, "search_query_error")["message"]
    err = assert_error(search(c, tok, {"search_after": [1], "sort": BY_MODIFIED}), 400, "search_query_error")
    assert "search_after" in err["message"]
    err = assert_error(search(c, tok, {"search_after": [1, 2], "from": 5, "sort": BY_MODIFIED}), 400)
    assert "[from]" in err["message"]
    assert_error(search(c, tok, {"search_after": [{"x": 1}, 2], "sort": BY_MODIFIED}), 400, "search_query_error")


def test_source_includes_and_excludes(c):
    tok = login(c, "admin")
    q = {"query": {"ids": {"values": ["62777"]}}}
    r = search(c, tok, {**q, "_source": ["title", "variants.sku"]}).json
    assert r["hits"]["hits"][0]["_source"] == {"title": "CD ROMs", "variants": [{"sku": "CD003"}, {"sku": "CD004"}]}
    # system_products keeps the complete record
    assert r["system_products"][0]["variants"][0]["sku"] == "CD003" and "price" in r["system_products"][0]["variants"][0]
    r = search(c, tok, {**q, "_source": {"includes": ["vari*"], "excludes": ["variants.price_tiers", "variants.qty*"]}}).json
    v = r["hits"]["hits"][0]["_source"]["variants"][0]
    assert set(r["hits"]["hits"][0]["_source"]) == {"variants"} and "sku" in v
    assert "price_tiers" not in v and "qty" not in v and "qty_availability" not in v
    r = search(c, tok, {**q, "_source": {"excludes": ["images", "meta"]}}).json
    src = r["hits"]["hits"][0]["_source"]
    assert "images" not in src and "meta" not in src and src["title"] == "CD ROMs"
    r = search(c, tok, {**q, "_source": False}).json
    assert "_source" not in r["hits"]["hits"][0] and r["system_products"][0]["id"] == 62777
    assert search(c, tok, {**q, "_source": "title"}).json["hits"]["hits"][0]["_source"] == {"title": "CD ROMs"}
    assert_error(search(c, tok, {**q, "_source": {"only": ["x"]}}), 400, "invalid_request")  # the schema names it
    assert_error(search(c, tok, {**q, "_source": 5}), 400, "invalid_request")  # the schema rejects it first


@pytest.mark.parametrize("body, words", [
    ({"from": 9_990, "size": 11}, ["Result window is too large", "10000", "10001", "max_result_window"]),
    ({"from": "10000", "size": "1"}, ["Result window"]),
    ({"query": {"fuzzy": {"title": "cd"}}}, ["[fuzzy]"]),
    ({"query": {"bool": {"must": [{"regexp": {"title": "c.*"}}]}}}, ["[regexp]"]),
    ({"query": {"bool": {"should_not": []}}}, ["[should_not]"]),
    ({"query": {"range": {"modified": {"from": "2020-01-01"}}}}, ["[from]"]),
    ({"highlight": {"fields": {"title": {}}}}, ["[highlight]"]),
    ({"aggs": {"x": {"histogram": {"field": "id", "interval": 10}}}}, ["[histogram]"]),
    ({"aggs": {"x": {"date_histogram": {"field": "modified", "calendar_interval": "fortnight"}}}}, ["fortnight"]),
    ({"aggs": {"x": {"date_histogram": {"field": "modified", "calendar_interval": "day",
                                        "extended_bounds": {}}}}}, ["[extended_bounds]"]),
    ({"sort": [{"modified": {"order": "up"}}]}, ["order"]),
])
def test_unsupported_or_invalid_requests_are_400_naming_the_clause(c, body, words):
    tok = login(c, "admin")
    err = assert_error(search(c, tok, body), 400, "search_query_error")
    for w in words:
        assert w in err["message"], err


def test_aggregations(c):
    tok = login(c, "admin")
    body = {"size": 0, "aggs": {
        "vendors": {"terms": {"field": "vendor", "size": 3}},
        "lo": {"min": {"field": "variants.price"}}, "hi": {"max": {"field": "variants.price"}},
        "avg": {"avg": {"field": "variants.price"}}, "sum": {"sum": {"field": "variants.price"}},
        "n": {"value_count": {"field": "variants.price"}}, "distinct": {"cardinality": {"field": "vendor"}},
        "per_month": {"date_histogram": {"field": "modified", "calendar_interval": "month"},
                      "aggs": {"top": {"max": {"field": "id"}}}},
    }}
    r = search(c, tok, body).json
    assert r["hits"]["hits"] == []
    a = r["aggregations"]
    everything = search(c, tok, {"size": 1000}).json["system_products"]
    prices = [v["price"] for p in everything for v in p["variants"]]
    assert a["lo"]["value"] == min(prices) and a["hi"]["value"] == max(prices)
    assert a["n"]["value"] == len(prices) and a["sum"]["value"] == pytest.approx(sum(prices))
    assert a["avg"]["value"] == pytest.approx(sum(prices) / len(prices))
    assert a["distinct"]["value"] == len({p["vendor"] for p in everything})
    assert len(a["vendors"]["buckets"]) <= 3
    months = a["per_month"]["buckets"]
    assert sum(b["doc_count"] for b in months) == len(everything)
    assert [b["key"] for b in months] == sorted(b["key"] for b in months)
    assert all(b["key_as_string"].endswith("-01 00:00:00") for b in months)
    for b in months:
        inside = [p["id"] for p in everything if p["modified"][:7] == b["key_as_string"][:7]]
        assert b["doc_count"] == len(inside)
        assert b["top"]["value"] == (max(inside) if inside else None)


def test_date_histogram_fixed_interval_and_min_doc_count(c):
    tok = login(c, "admin")
    r = search(c, tok, {"size": 0, "aggs": {"d": {"date_histogram": {
        "field": "modified", "fixed_interval": "30d", "min_doc_count": 1}}}}).json
    buckets = r["aggregations"]["d"]["buckets"]
    assert buckets and all(b["doc_count"] >= 1 for b in buckets)
    assert all((b2["key"] - b1["key"]) % (30 * 86_400_000) == 0 for b1, b2 in zip(buckets, buckets[1:]))


def test_index_lag_shows_live_records_at_once_and_hits_later(s2s_factory):
    c = s2s_factory(index_lag_seconds=20).test_client()
    tok = login(c, "admin")
    q = {"query": {"ids": {"values": ["62777"]}}}
    item = {"source": {"source_id": "57", "source_product_code": "62777-code"},
            "product": {"title": "ignored"}}
    before = search(c, tok, q).json
    code = before["system_products"][0]["source_product_code"]
    item["source"]["source_product_code"] = code
    item["product"] = {"title": "CD ROMs renamed", "variants": {"source_variant_code": "CD003", "sku": "CD003"}}
    assert c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [item]}).status_code == 200
    r = search(c, tok, q).json
    assert r["system_products"][0]["title"] == "CD ROMs renamed"        # the live record at once
    assert r["hits"]["hits"][0]["_source"]["title"] == "CD ROMs"         # the index still has the old one
    assert search(c, tok, {"query": {"match": {"title": "renamed"}}}).json["hits"]["total"] == 0
    new = {"source": {"source_id": "57", "source_product_code": "LAGNEW"},
           "product": {"title": "Brand new", "variants": {"source_variant_code": "LAGNEW", "sku": "LAGNEW"}}}
    assert c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [new]}).status_code == 200
    assert search(c, tok, {"query": {"term": {"source_product_code": "LAGNEW"}}}).json["hits"]["total"] == 0
    advance(c, 20)
    r = search(c, tok, q).json
    assert r["hits"]["hits"][0]["_source"]["title"] == "CD ROMs renamed"
    assert search(c, tok, {"query": {"match": {"title": "renamed"}}}).json["hits"]["total"] == 1
    assert search(c, tok, {"query": {"term": {"source_product_code": "LAGNEW"}}}).json["hits"]["total"] == 1


QUERIES = [
    {"query": {"bool": {"filter": [{"range": {"modified": {"gt": "2021-08-27 08:23:04"}}}]}}, "size": 50,
     "sort": {"modified": {"unmapped_type": "date", "order": "desc"}}},
    {"query": {"bool": {"filter": [{"range": {"modified": {"gte": "2020-01-01", "lt": "2023-01-01"}}},
                                   {"term": {"source_id": 57}}]}}, "size": 100, "sort": [{"modified": "asc"}]},
    {"query": {"term": {"active": "true"}}, "sort": [{"id": "desc"}], "size": 5, "from": 3},
    {"query": {"terms": {"vendor": ["x", "y"]}}, "sort": ["modified"]},
    {"query": {"bool": {"must": [{"range": {"id": {"gt": 62000}}}], "must_not": [{"term": {"source_id": 58}}]}},
     "sort": [{"modified": "desc"}], "size": 30},
    {"query": {"bool": {"filter": {"term": {"variants.sku": "CD003"}}}}, "sort": {"id": "asc"}},
    {"query": {"match": {"title": "cd"}}, "size": 20},
    {"query": {"range": {"variants.price": {"gte": 10, "lte": 500}}}, "sort": [{"modified": "desc"}, "_score"]},
    {"sort": [{"modified": "desc"}], "search_after": ["2022-01-01 00:00:00"], "size": 15},
    {"sort": [{"created": "asc"}, {"id": "desc"}], "size": 40},
    {"query": {"constant_score": {"filter": {"term": {"client_id": 21}}}}, "sort": [{"title": "asc"}], "size": 25},
]


@pytest.mark.parametrize("body", QUERIES)
def test_index_planner_agrees_with_full_evaluation(s2s, body):
    from mocks.stock2shop.models import indexes as M
    sb = s2s.extensions["sandbox"]
    state = sb.state("stock2shop", "21")
    indexed = M._indexed(state, "products")
    fresh = [S.Doc(d.id, d.source) for d in indexed.docs]
    extra = [{"term": {"active": True}}]
    fast = S.search(indexed.docs, copy.deepcopy(body), extra_filters=extra, now=state.now(), index=indexed.index)
    slow = S.search(fresh, copy.deepcopy(body), extra_filters=extra, now=state.now())
    assert fast["total"] == slow["total"]
    assert [(d.id, sc, so) for d, sc, so in fast["hits"]] == [(d.id, sc, so) for d, sc, so in slow["hits"]]


def test_search_after_on_the_general_path_with_a_text_query(c):
    tok = login(c, "admin")
    sort = [{"vendor": "asc"}, {"id": "desc"}]
    q = {"bool": {"must_not": [{"term": {"id": 62777}}]}}   # not an exact plan: evaluated per document
    want = [h["_id"] for h in search(c, tok, {"query": q, "size": 1000, "sort": sort}).json["hits"]["hits"]]
    got, after = [], None
    while True:
        body = {"query": q, "size": 6, "sort": sort, **({"search_after": after} if after else {})}
        hits = search(c, tok, body).json["hits"]["hits"]
        if not hits:
            break
        got += [h["_id"] for h in hits]
        after = hits[-1]["sort"]
    assert got == want and "62777" not in got and len(got) > 6


# -- aggregations as the elasticsearch DSL library builds them (issue #19) --------------------------

def test_min_max_on_dates_answer_epoch_millis_and_value_as_string(c):
    import datetime as dt
    tok = login(c, "admin")
    r = search(c, tok, {"size": 1000, "aggs": {"first": {"min": {"field": "created"}},
                                               "last": {"max": {"field": "modified", "format": "dd/MM/yyyy"}}}})
    assert r.status_code == 200, r.json
    aggs, docs = r.json["aggregations"], r.json["system_products"]
    first = min(p["created"] for p in docs)
    when = dt.datetime.strptime(first, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
    assert aggs["first"] == {"value": when.timestamp() * 1000, "value_as_string": first}
    last = dt.datetime.strptime(max(p["modified"] for p in docs), "%Y-%m-%d %H:%M:%S")
    assert aggs["last"]["value_as_string"] == last.strftime("%d/%m/%Y")


def test_date_histogram_format_filter_and_top_hits(c):
    tok = login(c, "admin")
    body = {"size": 0, "aggs": {
        "per_month": {"date_histogram": {"field": "created", "calendar_interval": "month", "format": "yyyy-MM",
                                         "min_doc_count": 1}},
        "cheap": {"filter": {"range": {"variants.price": {"lt": 100}}},
                  "aggs": {"newest": {"top_hits": {"size": 2, "sort": [{"id": {"order": "desc"}}],
                                                   "_source": ["id", "title"]}}}}}}
    r = search(c, tok, body)
    assert r.status_code == 200, r.json
    aggs = r.json["aggregations"]
    assert all(len(b["key_as_string"]) == 7 and b["key_as_string"][4] == "-" for b in aggs["per_month"]["buckets"])
    every = search(c, tok, {"size": 1000}).json["system_products"]
    cheap = sorted((p["id"] for p in every if any(v["price"] < 100 for v in p["variants"])), reverse=True)
    assert aggs["cheap"]["doc_count"] == len(cheap)
    hits = aggs["cheap"]["newest"]["hits"]
    assert hits["total"] == len(cheap) and [h["_source"]["id"] for h in hits["hits"]] == cheap[:2]
    assert set(hits["hits"][0]["_source"]) == {"id", "title"}


def test_hourly_fixed_interval_over_the_catalogue_is_allowed(c):
    tok = login(c, "admin")
    # every bucket between the first and the last counts, empty ones too, as in Elasticsearch
    r = search(c, tok, {"size": 0, "aggs": {"h": {"date_histogram": {"field": "created", "fixed_interval": "1d"}}}})
    assert r.status_code == 200, r.json
    span = search(c, tok, {"size": 0, "aggs": {"lo": {"min": {"field": "modified"}},
                                                "hi": {"max": {"field": "modified"}}}}).json["aggregations"]
    minutes = int((span["hi"]["value"] - span["lo"]["value"]) / 60_000)
    step = max(1, -(-minutes // 30_000))  # about 30,000 buckets
    r = search(c, tok, {"size": 0, "aggs": {"h": {"date_histogram": {"field": "modified",
                                                                     "fixed_interval": f"{step}m"}}}})
    assert r.status_code == 200, r.json
    assert 10_000 < len(r.json["aggregations"]["h"]["buckets"]) <= 65_536  # above the former 10,000 refusal
    assert sum(b["doc_count"] for b in r.json["aggregations"]["h"]["buckets"]) == r.json["hits"]["total"]
    r = search(c, tok, {"size": 0, "aggs": {"h": {"date_histogram": {"field": "created", "fixed_interval": "1h"}}}})
    assert r.status_code == 200 or "65536" in r.json["error"]["message"]
    r = search(c, tok, {"size": 0, "aggs": {"s": {"date_histogram": {"field": "created", "fixed_interval": "1s"}}}})
    assert r.status_code == 400 and "too many buckets" in r.json["error"]["message"].lower()


def test_date_ranges_parse_as_elasticsearch_does(c):
    tok = login(c, "admin")
    every = search(c, tok, {"size": 1000}).json["hits"]["total"]
    # format dd/MM/yyyy (ignored before: 0 hits); a date far in the past keeps everything
    r = search(c, tok, {"query": {"range": {"created": {"gte": "01/01/2000", "format": "dd/MM/yyyy"}}}})
    assert r.status_code == 200 and r.json["hits"]["total"] == every
    r = search(c, tok, {"query": {"range": {"created": {"lt": "01/01/2000", "format": "dd/MM/yyyy"}}}})
    assert r.status_code == 200 and r.json["hits"]["total"] == 0
    r = search(c, tok, {"query": {"range": {"modified": {"gte": 946684800000, "format": "epoch_millis"}}}})
    assert r.json["hits"]["total"] == every
    # an unparsable date is a 400 with Elasticsearch's type and reason
    for bad in ({"created": {"gte": "yesterday"}}, {"created": {"gte": "2021-31-02", "format": "dd/MM/yyyy"}}):
        err = assert_error(search(c, tok, {"query": {"range": bad}}), 400, "search_query_error")
        assert "parse_exception" in err["message"] and "failed to parse date field" in err["message"]


def test_nested_on_a_path_that_is_not_nested_is_elasticsearchs_400(c):
    tok = login(c, "admin")
    ok = search(c, tok, {"query": {"nested": {"path": "variants", "query": {"range": {"variants.qty": {"gte": 0}}}}}})
    assert ok.status_code == 200 and ok.json["hits"]["total"] > 0
    err = assert_error(search(c, tok, {"query": {"nested": {"path": "title", "query": {"match_all": {}}}}}),
                       400, "search_query_error")
    assert "query_shard_exception" in err["message"] and "is not of nested type" in err["message"]
    # ignore_unmapped, as in Elasticsearch, matches nothing instead
    r = search(c, tok, {"query": {"nested": {"path": "title", "ignore_unmapped": True, "query": {"match_all": {}}}}})
    assert r.status_code == 200 and r.json["hits"]["total"] == 0
