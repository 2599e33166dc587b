"""Running a search: :func:`search` validates the body, asks the index for a plan, evaluates what is
left document by document (or walks a single-valued sort field's order when the plan is exact) and
pages, sorts and aggregates the hits."""
from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from mocks.stock2shop.search.aggs import _aggregate
from mocks.stock2shop.search.docs import _MISSING, Doc
from mocks.stock2shop.search.index import DocIndex, Plan
from mocks.stock2shop.search.query import CORPUS, Corpus, compile_query
from mocks.stock2shop.search.sort import (_after_key, _doc_keys, _is_after, _order, _sort_tuple, check_after_value,
                                          check_sort_mapping, field_kind, parse_sort_full)
from mocks.stock2shop.search.source import parse_source
from mocks.stock2shop.search.values import _NOW, Json, SearchError, _int_param

MAX_RESULT_WINDOW = 10_000  # Elasticsearch's index.max_result_window default
SEARCH_KEYS = {"query", "from", "size", "sort", "aggs", "aggregations", "_source", "track_total_hits",
               "search_after"}


def search(docs: list[Doc] | None, body: Json, *, extra_filters: list[Json] | None = None,
           now: "float | Callable[[], float] | None" = None, index: DocIndex | None = None) -> dict[str, Any]:
    """Evaluate a search body; returns {total, max_score, hits: [(doc, score, sort)], aggregations,
    source: True/False/(includes, excludes)}.

    ``now`` (epoch seconds, or a function read only when the query uses it) is what ``"now"``
    means in range bounds (the sandbox clock); ``index``,
    a :class:`DocIndex` over the same ``docs``, answers term/range/sort without visiting every document
    (given an index, ``docs`` may be None: the index hands out the documents it needs)."""
    token = _NOW.set(now)
    try:
        with no_gc():
            return _search(docs, body, extra_filters, index)
    finally:
        _NOW.reset(token)


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while indexes are built: they allocate millions of small
    objects next to a large heap of decoded documents, and every collection would walk that heap
    (measured: building the index of 100,000 products took several times longer with it on). The
    objects made here hold no reference cycles; reference counting frees them as usual."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _search(docs: list[Doc], body: Json, extra_filters: list[Json] | None,
            index: DocIndex | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SearchError("the search body must be an object")
    unknown = set(body) - SEARCH_KEYS
    if unknown:
        raise SearchError(f"unsupported search parameter [{sorted(unknown)[0]}]")
    query = body.get("query") or {"match_all": {}}
    main = compile_query(query)
    filters = [compile_query(f) for f in extra_filters or []]
    start = _int_param(body, "from", 0)
    size = _int_param(body, "size", 10)
    if start + size > MAX_RESULT_WINDOW:
        raise SearchError(f"Result window is too large, from + size must be less than or equal to: "
                          f"[{MAX_RESULT_WINDOW}] but was [{start + size}]. See the scroll api for a more "
                          f"efficient way to request large data sets. This limit can be set by changing "
                          f"the [index.max_result_window] index level setting.")
    full_sort = parse_sort_full(body.get("sort"))
    sort = [(f, d, m) for f, d, m, _ in full_sort]
    kinds: dict[str, str | None] = {}

    def kind(field: str) -> str | None:  # the field's mapping, from the index when there is one
        if field not in kinds:
            kinds[field] = index.kind(field) if index is not None else field_kind(docs, field)
        return kinds[field]

    check_sort_mapping(full_sort, kind)
    source = parse_source(body.get("_source"))
    aggs = body.get("aggs", body.get("aggregations"))
    if aggs is not None and not isinstance(aggs, dict):
        raise SearchError("[aggs] must be an object")
    after = body.get("search_after")
    after_keys: list[Any] | None = None
    if after is not None:
        if not sort:
            raise SearchError("[search_after] requires a [sort]")
        if not isinstance(after, list) or len(after) != len(sort):
            raise SearchError(f"[search_after] has {len(after) if isinstance(after, list) else 'no'} value(s) "
                              f"but the sort has {len(sort)} field(s)")
        if any(isinstance(v, (dict, list)) for v in after):
            raise SearchError("[search_after] values must be scalars")
        if start > 0:
            raise SearchError("[from] parameter must be set to 0 when [search_after] is used")
        for v, (f, _, _) in zip(after, sort):
            check_after_value(v, f, kind(f))
        after_keys = [_after_key(v, f) for v, (f, _, _) in zip(after, sort)]
    by_field = [s for s in sort if s[0] != "_score"]
    needs_scores = not by_field or len(by_field) != len(sort)

    # candidates from the index; exact plans skip evaluating the query document by document
    plan: Plan | None = None
    if index is not None:
        plan = index.plan(query)
        for f in extra_filters or []:
            plan.merge(index.plan(f))
    exact = plan is not None and plan.exact

    fast = (index is not None and exact and not needs_scores and aggs is None and sort
            and sort[0][0] not in ("_id", "_doc") and (after_keys is None or after_keys[0] is not None)
            and index.sorted_by(sort[0][0]) is not None)
    if fast:
        return _search_indexed(index, plan, sort, start, size, after_keys, source)  # type: ignore[arg-type]

    cand = index.members(plan) if index is not None and plan is not None else None
    if index is not None:
        slots = index.live() if cand is None else cand
        pool = list(zip(slots, index.docs_at(slots)))
    elif cand is None:
        pool = list(enumerate(docs))
    else:
        pool = [(i, docs[i]) for i in cand]
    matched: list[tuple[Doc, float]] = []
    if exact and not needs_scores:
        matched = [(doc, 1.0) for _, doc in pool]
    else:
        kept = [doc for _, doc in pool if not any(f(doc) is None for f in filters)]
        # BM25's document counts and lengths come from the documents evaluated (see query.Corpus)
        token = CORPUS.set(Corpus(kept) if needs_scores else None)
        try:
            for doc in kept:
                score = main(doc)
                if score is not None:
                    matched.append((doc, score))
        finally:
            CORPUS.reset(token)

    ordered = _order(matched, sort)
    if after_keys is not None:
        ordered = [(d, s) for d, s in ordered if _is_after(_doc_keys(d, s, sort), after_keys, sort)]
    page = ordered[start:start + size]
    hits = [(doc, None if by_field else score, _sort_tuple(doc, score, sort) if sort else None)
            for doc, score in page]
    max_score = None if by_field else (max((s for _, s in matched), default=None))
    result: dict[str, Any] = {"total": len(matched), "max_score": max_score, "hits": hits, "source": source}
    if aggs is not None:
        result["aggregations"] = _aggregate([d for d, _ in matched], aggs)
    return result


def _search_indexed(index: DocIndex, plan: Plan, sort: list[tuple[str, bool, str]],
                    start: int, size: int, after_keys: list[Any] | None, source: Any) -> dict[str, Any]:
    """Sorted by a single-valued field: walk its order inside the plan's range on that field (if
    any), keep the documents the other constraints allow, stop once the page is full (plus every
    document tied with the last on the first key, which the other keys then order)."""
    field, desc, missing = sort[0]
    keys, positions, lacking = index.sorted_by(field)  # type: ignore[misc]
    total = index.count(plan)
    want = start + size
    lo, hi = plan.ranges.get(field, (0, len(keys)))
    ok = index._checks(plan, skip_field=field)
    if after_keys is not None and after_keys[0] is not None:
        # everything before the search_after value on the first key is skipped by bisection
        if desc:
            hi = min(hi, bisect_right(keys, after_keys[0]))
        else:
            lo = max(lo, bisect_left(keys, after_keys[0]))
    seq = range(hi - 1, lo - 1, -1) if desc else range(lo, hi)
    lack = [] if field in plan.ranges else [i for i in lacking if ok(i)]
    chunk: list[int] = []
    if missing == "_first":
        chunk.extend(lack)
    last_key: Any = _MISSING
    counted = len(chunk)
    boundary = None if after_keys is None else after_keys[0]
    for j in seq:
        i = positions[j]
        if not ok(i):
            continue
        if counted >= want and keys[j] != last_key:
            break
        chunk.append(i)
        last_key = keys[j]
        if keys[j] != boundary:  # ties with the search_after value may all be before it
            counted += 1
    else:
        if missing != "_first":
            chunk.extend(lack)
    # the chunk, ordered exactly as the general path orders it
    pairs = [(doc, 1.0) for doc in index.docs_at(sorted(chunk))]
    ordered = _order(pairs, sort)
    if after_keys is not None:
        ordered = [(d, s) for d, s in ordered if _is_after(_doc_keys(d, s, sort), after_keys, sort)]
    page = ordered[start:start + size]
    hits = [(doc, None, _sort_tuple(doc, score, sort)) for doc, score in page]
    return {"total": total, "max_score": None, "hits": hits, "source": source}
