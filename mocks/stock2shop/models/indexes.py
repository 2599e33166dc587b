"""Stock2Shop's Elasticsearch side: the searchable documents of each collection (cached per store
version), the index lag behind the database and :func:`elastic_search`, which answers in the
documents' shape. The query language itself is :mod:`mocks.stock2shop.search`."""
from __future__ import annotations

import copy
import gc
import threading
import weakref
from typing import Any

from mocks.core.coerce import is_ascii_digits
from mocks.core.state import TenantState
from mocks.stock2shop import errors as X
from mocks.stock2shop import search as S

ES_BASE = "https://vpc-stock2shop-sandbox.eu-west-1.es.amazonaws.com"
FREEZE_AT = 20_000  # documents in one collection; see _indexed
INDEXES = {"products": "products--------2020-09-02-08-31-08", "orders": "orders--------2020-09-02-08-31-08",
           "customers": "customers--------2020-09-02-08-31-08"}


class _Indexed:
    """The searchable documents of one collection and their :class:`search.DocIndex`, valid for one
    version of the collection's namespace and of the index-lag namespace."""

    __slots__ = ("versions", "docs", "index", "lagging")

    def __init__(self, versions: tuple[int, int], docs: list[S.Doc], lagging: bool) -> None:
        self.versions = versions
        self.docs = docs
        self.index = S.DocIndex(docs)
        self.lagging = lagging


_INDEXED: "weakref.WeakKeyDictionary[Any, dict[str, _Indexed]]" = weakref.WeakKeyDictionary()
_DOC_CACHES: "weakref.WeakKeyDictionary[Any, dict[str, S.DocCache]]" = weakref.WeakKeyDictionary()
_DOC_LOCK = threading.Lock()


INDEX_JOB = "index"  # the scheduler ref of a client's lagging index


class IndexLag:
    """The Elasticsearch index trails the database by ``index_lag_seconds`` (default 0) on the
    sandbox clock, as the documents warn: a record written at t is found by queries, and shown in
    ``hits``, from t + lag on; until then searches see the version indexed before (or nothing, for a
    new record). ``system_products``/``system_orders`` always hold the live records."""

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.pending = state.collection("index_pending")

    @property
    def seconds(self) -> float:
        override = self.state.collection("settings").lookup("index_lag")
        if override is not None:
            return float(override["seconds"])
        return max(float(self.state.options.get("index_lag_seconds", 0) or 0), 0.0)

    def set(self, seconds: float) -> None:
        self.state.collection("settings").put("index_lag", {"seconds": max(float(seconds), 0.0)})

    def before_write(self, collection: str, key: str, old: dict[str, Any] | None, at: float | None = None) -> None:
        """Call before a record is written (at ``at``, default now): keeps the indexed version until
        the lag has passed. Several writes within the lag keep the oldest indexed version and move
        the due time on."""
        lag = self.seconds
        if lag <= 0:
            return
        due = (self.state.now() if at is None else at) + lag
        pkey = f"{collection}/{key}"
        self.pending.update(pkey, lambda cur: {**cur, "due": due} if cur else
                            {"collection": collection, "key": key, "due": due, "old": copy.deepcopy(old)})
        self.state.due(INDEX_JOB, due, earliest=True)  # the scheduler catches the index up then

    def catch_up(self) -> float | None:
        """Drop what the index has caught up with; returns when the next lagging write is due."""
        if self.pending.count() == 0:
            return None
        now = self.state.now()
        later = []
        for key, entry in self.pending.items():
            if entry["due"] <= now:
                self.pending.delete(key)
            else:
                later.append(float(entry["due"]))
        return min(later) if later else None

    def overrides(self, collection: str) -> dict[str, Any]:
        return {e["key"]: e["old"] for _, e in self.pending.items() if e["collection"] == collection}


def _indexed(state: TenantState, collection: str) -> _Indexed:
    coll = state.collection(collection)
    lag = IndexLag(state)
    lag.catch_up()
    store = state.store
    versions = (store.version(coll.namespace), store.version(lag.pending.namespace))
    with _DOC_LOCK:
        per_store = _INDEXED.setdefault(store, {})
        hit = per_store.get(coll.namespace)
        if hit is not None and hit.versions == versions:
            return hit
        caches = _DOC_CACHES.setdefault(store, {})
        cache = caches.get(coll.namespace)
        if cache is None:
            cache = caches[coll.namespace] = S.DocCache()
    with S.no_gc():  # the store decodes the whole collection here after a write: millions of objects
        items = coll.items()
        overrides = lag.overrides(collection) if versions[1] else {}
        if overrides:
            items = [(k, overrides.get(k, v)) for k, v in items if overrides.get(k, v) is not None]
        indexed = _Indexed(versions, cache.docs(items), bool(overrides))
        if len(items) >= FREEZE_AT:
            # A large collection was just decoded (millions of objects): move everything alive to the
            # permanent generation, so the cyclic GC stops walking it on every later collection.
            # Measured with 100,000 products: a search answer through the app took ~107 ms while the
            # collector kept promoting the decoded documents, ~10 ms after the freeze. Decoded JSON
            # holds no reference cycles, so reference counting still frees it when it is replaced.
            gc.freeze()
    with _DOC_LOCK:
        _INDEXED.setdefault(store, {})[coll.namespace] = indexed
    return indexed


def echo_query(query: Any, extra: list[dict[str, Any]]) -> dict[str, Any]:
    """The query as ``request.body`` shows it: as in both documents' examples, a ``bool`` query
    keeps its clauses and gets the client's filters appended to its own ``filter`` list (a single
    filter object becomes the list's first entry); any other query becomes ``bool.must``."""
    if isinstance(query, dict) and len(query) == 1 and isinstance(query.get("bool"), dict):
        clauses = dict(query["bool"])
        own = clauses.get("filter")
        own_list = list(own) if isinstance(own, list) else ([] if own is None else [own])
        clauses["filter"] = own_list + extra
        return {"bool": clauses}
    return {"bool": {"must": [query or {"match_all": {}}], "filter": extra}}


def elastic_search(state: TenantState, collection: str, body: Any,
                   user: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a search; the response in the documents' shape (``system_{collection}`` = live records).

    The client's own filters are added as Stock2Shop adds them (``request.body`` shows them):
    ``client_id`` always, ``active: true`` on products, and a trade user's own ``customer_id`` on orders."""
    client_id = int(state.tenant) if is_ascii_digits(state.tenant) else state.tenant
    extra: list[dict[str, Any]] = [{"term": {"client_id": client_id}}]
    if collection == "products":
        extra.append({"term": {"active": True}})
    if collection == "orders" and user is not None and user["role"] == "trade":
        extra.append({"term": {"customer_id": user.get("customer_id") or 0}})
    indexed = _indexed(state, collection)
    try:
        # client_id holds for every document of the tenant: shown in request.body, not evaluated
        result = S.search(indexed.docs, body, extra_filters=extra[1:], now=state.now(), index=indexed.index)
    except S.SearchError as exc:
        raise X.BadSearch(str(exc)) from None
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        # a malformed clause that slipped past the compiler's checks (e.g. "boost": {}): still the caller's
        raise X.BadSearch(f"malformed query ({type(exc).__name__}: {exc})"[:300]) from None
    source = result["source"]
    hits = []
    for doc, score, sort in result["hits"]:
        hit: dict[str, Any] = {"_index": INDEXES[collection], "_type": "_doc", "_id": str(doc.id), "_score": score}
        if source is True:
            hit["_source"] = doc.source
        elif source is not False:
            hit["_source"] = S.filter_source(doc.source, *source)
        if sort is not None:
            hit["sort"] = sort
        hits.append(hit)
    internal = copy.deepcopy(body)
    internal.setdefault("aggs", {})
    internal["query"] = echo_query(internal.get("query"), extra)
    response: dict[str, Any] = {
        "took": 1 + len(result["hits"]) // 50,
        "timed_out": False,
        "_shards": {"total": 5, "successful": 5, "skipped": 0, "failed": 0},
        "hits": {"total": result["total"], "max_score": result["max_score"], "hits": hits},
    }
    if "aggregations" in result:
        response["aggregations"] = result["aggregations"]
    response["request"] = {"url": f"{ES_BASE}/{collection}/_search", "method": "POST", "body": internal}
    if indexed.lagging:  # the index may be behind: the live records, as Stock2Shop reads them from its database
        coll = state.collection(collection)
        live = [coll.lookup(doc.id) for doc, _, _ in result["hits"]]
        response[f"system_{collection}"] = [r for r in live if r is not None]
    else:
        response[f"system_{collection}"] = [doc.source for doc, _, _ in result["hits"]]
    response["took_s2s"] = response["took"] + 1
    return response
