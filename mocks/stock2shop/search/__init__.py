"""A small Elasticsearch query evaluator over JSON documents (pure Python, no Flask).

Supported query clauses: ``bool`` (must, filter, should + minimum_should_match, must_not),
``match_all``, ``match_none``, ``term``, ``terms``, ``range`` (gt/gte/lt/lte on numbers and dates
such as ``"2021-08-27 08:23:04"``, date math on ``now``), ``match``, ``match_phrase``,
``multi_match`` (dotted fields, ``^boost``, the ``.autocomplete`` prefix sub-field, operator
or/and), ``exists``, ``prefix``, ``wildcard``, ``ids``, ``nested`` and ``constant_score``. Sorting
on fields and ``_score`` (object or list form), ``from``/``size`` within the 10,000 result window,
``search_after``, ``_source`` includes/excludes and the aggregations ``terms``,
``date_histogram``, ``min``, ``max``, ``avg``, ``sum``, ``value_count`` and ``cardinality``.
Anything else raises :class:`SearchError` naming the clause.

Field values are extracted lazily, one dotted path at a time (arrays of objects contribute every
element, as Elasticsearch's object mapping does). A :class:`DocIndex` over one version of a
collection answers the exact part of a query (``term``/``terms``/``range`` conjunctions) from
postings, per-field sort orders and prefix counts, and a query sorted by a single-valued field
walks that order and stops once the page is full; what it cannot answer exactly is evaluated
document by document on the candidates left.

Modules, by topic:

===========  ======================================================================================
``values``   tokens, dates and date math, numbers, term equality, sort keys; :class:`SearchError`
``docs``     dotted-path extraction, :class:`Doc` (lazy per-field values), :class:`DocCache`
``query``    :func:`compile_query`: each query clause as a matcher (doc -> score or None)
``aggs``     aggregations (terms, date_histogram, metrics)
``source``   ``_source`` filtering
``index``    :class:`DocIndex` (postings, sort orders, prefix counts) and its planner (:class:`Plan`)
``sort``     sort specifications, multi-key ordering, ``search_after``
``engine``   :func:`search`: validate the body, plan, evaluate, page, sort, aggregate
===========  ======================================================================================
"""
from mocks.stock2shop.search.docs import Doc, DocCache, extract, flatten
from mocks.stock2shop.search.engine import MAX_RESULT_WINDOW, SEARCH_KEYS, no_gc, search
from mocks.stock2shop.search.index import DocIndex, DocLoader, Plan, Unplannable, field_values
from mocks.stock2shop.search.query import Matcher, compile_query
from mocks.stock2shop.search.sort import parse_sort
from mocks.stock2shop.search.source import filter_source, parse_source
from mocks.stock2shop.search.values import (Json, SearchError, date_math, parse_date, same_value, sort_key,
                                            sort_value, tokens)

__all__ = [
    "MAX_RESULT_WINDOW", "SEARCH_KEYS", "Doc", "DocCache", "DocIndex", "DocLoader", "Json", "Matcher", "Plan", "SearchError",
    "Unplannable", "compile_query", "date_math", "extract", "field_values", "filter_source", "flatten", "no_gc", "parse_date",
    "parse_sort", "parse_source", "same_value", "search", "sort_key", "sort_value", "tokens",
]
