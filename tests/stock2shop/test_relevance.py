"""Relevance: match/multi_match hits are scored BM25-like (term frequency with saturation, idf,
field length), so sorting by ``_score`` ranks; filter context keeps Elasticsearch's scores."""
from __future__ import annotations

import copy

import pytest

from mocks.stock2shop import search as S

DOCS = [
    ("1", {"title": "Blue cotton shirt with a long descriptive name for summer", "body": "shirt", "client_id": 21}),
    ("2", {"title": "Shirt", "body": "shirt shirt shirt, the shirt", "client_id": 21}),
    ("3", {"title": "Red trousers", "body": "trousers", "client_id": 21}),
    ("4", {"title": "Green shirt", "body": "a plain shirt", "client_id": 21}),
    ("5", {"title": "Hat", "body": "a hat", "client_id": 22}),
]


def run(body, indexed):
    docs = [S.Doc(k, v) for k, v in DOCS]
    if indexed:
        return S.search(None, copy.deepcopy(body), index=S.DocIndex(docs))
    return S.search(docs, copy.deepcopy(body))


def ranked(result):
    return [(d.id, s) for d, s, _ in result["hits"]]


@pytest.mark.parametrize("indexed", [False, True])
def test_a_shorter_field_and_more_occurrences_rank_first_and_scores_differ(indexed):
    short = run({"query": {"match": {"title": "shirt"}}}, indexed)
    got = ranked(short)
    assert [i for i, _ in got] == ["2", "4", "1"]                     # "Shirt" < "Green shirt" < long title
    assert got[0][1] > got[1][1] > got[2][1] > 0
    assert short["max_score"] == got[0][1] != 1.0
    often = ranked(run({"query": {"match": {"body": "shirt"}}, "sort": ["_score"]}, indexed))
    assert often[0][0] == "2" and often[0][1] > often[1][1]           # four times beats once
    # a rarer term weighs more (idf): "trousers" is in one document, "shirt" in three
    both = ranked(run({"query": {"match": {"title": "shirt trousers"}}}, indexed))
    assert both[0][0] == "3"
    multi = run({"query": {"multi_match": {"query": "shirt", "fields": ["title^2", "body"]}}}, indexed)
    assert ranked(multi)[0][0] == "2" and len({s for _, s in ranked(multi)}) > 1
    most = ranked(run({"query": {"multi_match": {"query": "shirt", "fields": ["title", "body"],
                                                 "type": "most_fields"}}}, indexed))
    best = dict(ranked(multi))
    assert dict(most)["2"] > 0 and set(dict(most)) == set(best)


@pytest.mark.parametrize("indexed", [False, True])
def test_filter_context_and_term_queries_keep_elasticsearchs_scores(indexed):
    only_filter = run({"query": {"bool": {"filter": [{"match": {"title": "shirt"}}]}}}, indexed)
    assert {s for _, s in ranked(only_filter)} == {0.0} and only_filter["total"] == 3
    constant = run({"query": {"constant_score": {"filter": {"match": {"body": "shirt"}}, "boost": 2}}}, indexed)
    assert {s for _, s in ranked(constant)} == {2.0}
    term = run({"query": {"term": {"client_id": 21}}}, indexed)
    assert {s for _, s in ranked(term)} == {1.0} and term["total"] == 4
    # a filter beside a match narrows the hits without changing their order by relevance
    mixed = ranked(run({"query": {"bool": {"must": [{"match": {"title": "shirt"}}],
                                           "filter": [{"term": {"client_id": 21}}]}}}, indexed))
    assert [i for i, _ in mixed] == ["2", "4", "1"]
