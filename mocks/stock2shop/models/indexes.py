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
from mocks.core.state import Collection, KeyIndex, TenantState
from mocks.stock2shop import errors as X
from mocks.stock2shop import search as S

ES_BASE = "https://vpc-stock2shop-sandbox.eu-west-1.es.amazonaws.com"
FREEZE_AT = 20_000  # documents in one collection; see _indexed
INDEXES = {"products": "products--------2020-09-02-08-31-08", "orders": "orders--------2020-09-02-08-31-08",
           "customers": "customers--------2020-09-02-08-31-08"}


#: fields every live index reads in its first pass (what connectors filter and sort on)
WARM_FIELDS = {"products": ["modified", "active", "source_id", "client_id", "id"],
               "orders": ["modified", "created", "client_id", "customer_id", "channel_id", "id"],
               "customers": ["modified", "client_id", "active", "id"]}
_LAST = 1 << 62  # the insert order of a document only the index lag knows of: after every other


class _Loader(S.DocLoader):
    """Reads one collection's documents from the store, with the index lag's older versions in
    place of the live ones (``overrides``: key -> the indexed version, None: not indexed yet)."""

    def __init__(self, store: Any, namespace: str) -> None:
        self.store = store
        self.namespace = namespace
        self.overrides: dict[str, Any] = {}

    def scan(self, fields: list[str]) -> Any:
        overrides = self.overrides
        for key, order, values in self.store.scan_columns(self.namespace, fields, S.field_values):
            if key in overrides:
                old = overrides[key]
                if old is None:
                    continue
                values = [S.field_values(old, f) for f in fields]
            yield key, order, values

    def fetch(self, keys: list[str]) -> dict[str, Any]:
        overrides = self.overrides
        out = self.store.get_many(self.namespace, [k for k in keys if k not in overrides])
        for k in keys:
            if overrides.get(k) is not None:
                out[k] = overrides[k]
        return out


class _Indexed:
    """The live :class:`search.DocIndex` of one collection in this process, as of change ``seq``
    of the store's change log (its own writes and the index-lag namespace's)."""

    def __init__(self, store: Any, namespace: str, pending: str, collection: str) -> None:
        self.store = store
        self.namespace = namespace
        self.pending = pending
        self.collection = collection
        self.loader = _Loader(store, namespace)
        self.index = S.DocIndex(loader=self.loader)
        self.seq = -1
        self.lagging = False

    @property
    def docs(self) -> list[S.Doc]:
        """Every document (fetched: for tests and small collections)."""
        return self.index.all_docs()

    def refresh(self, lag: "IndexLag") -> None:
        """Apply the changes since the last refresh, document by document (under ``index.lock``)."""
        store = self.store
        # the index follows the change log, which read tracking (mocks.core.cache) does not see: an
        # answer made from it depends on the collection and the lag's namespace, so note them as read
        store.version(self.namespace)
        store.version(self.pending)
        seq = store.applied()
        overrides = lag.overrides(self.collection)
        keys = None if self.seq < 0 else store.changes_after(self.namespace, self.seq)
        pkeys = None if self.seq < 0 else store.changes_after(self.pending, self.seq)
        if keys is None or pkeys is None:
            self._build(overrides)
        else:
            prefix = self.collection + "/"
            changed = list(dict.fromkeys(keys + [p[len(prefix):] for p in pkeys if p.startswith(prefix)]))
            if changed:
                self.loader.overrides = overrides
                index = self.index
                rows = store.get_rows(self.namespace, changed)
                for key in sorted(changed, key=lambda k: rows[k][0] if k in rows else _LAST):
                    row = rows.get(key)
                    if key in overrides:
                        held = index.slot.get(key)
                        order = index.orders[held] if held is not None else (row[0] if row else _LAST)
                        index.apply(key, order, overrides[key])
                    else:
                        index.apply(key, row[0] if row else 0, row[1] if row else None)
                store.counters["indexed"] += len(changed)
        self.seq = max(self.seq, seq)
        self.lagging = bool(overrides)

    def _build(self, overrides: dict[str, Any]) -> None:
        self.loader.overrides = overrides
        index = S.DocIndex(loader=self.loader)
        with S.no_gc():
            index.ensure(WARM_FIELDS.get(self.collection, []))
            for key, old in overrides.items():  # indexed versions of records deleted since
                if old is not None and key not in index.slot:
                    index.apply(key, _LAST, old)
        self.store.counters["indexed"] += len(index)
        if len(index) >= FREEZE_AT:
            # a large index was just built (millions of small objects): move everything alive to the
            # permanent generation, so the cyclic GC stops walking it on every later collection.
            gc.freeze()
        self.index = index


#: what a warmed index builds besides its columns: each collection's sort orders and term postings
#: that connectors' searches use first (the feed tutorial's sort by modified, the client's filters)
WARM_SORTS = {"products": ["modified"], "orders": ["modified"], "customers": ["modified"]}
WARM_TERMS = {"products": ["active", "source_id"], "orders": ["channel_id"], "customers": ["active"]}


def warm_indexes(state: TenantState, at_least: int = FREEZE_AT) -> list[str]:
    """Build the live index of each searchable collection of the tenant holding ``at_least``
    documents (with its sort orders and term postings), as the first search would; returns the
    collections built. A search meanwhile waits for the build (the index's lock), as it would
    have built it itself. Of the products' key indexes, the one by source code is built too (the
    first queued product looks it up): ~1.6 MB at 100,000 (:class:`KeyIndex`)."""
    built = []
    for collection in INDEXES:
        if state.collection(collection).count() < at_least:
            continue
        with _lock_for(state, collection):
            index = _indexed(state, collection).index
            with S.no_gc():
                for field in WARM_SORTS.get(collection, []):
                    index.sorted_by(field)
                for field in WARM_TERMS.get(collection, []):
                    index.postings(field)
        built.append(collection)
    if "products" in built:  # the first queued product looks it up, in a client's request (auth runs due items)
        with S.no_gc():
            by_source_code(state.collection("products")).refresh()
    if built:
        gc.freeze()  # the sort orders and postings too: the cyclic GC stops walking them (see _build)
    return built


_INDEXED: "weakref.WeakKeyDictionary[Any, dict[str, _Indexed]]" = weakref.WeakKeyDictionary()
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


def source_code_key(source_id: Any, code: Any) -> str:
    """The look-up value of :func:`by_source_code`: one string of both parts."""
    return f"{source_id}\x1f{code}"


def _source_code(product: dict[str, Any]) -> list[str]:
    return [source_code_key(product.get("source_id"), product.get("source_product_code"))]


def _skus(product: dict[str, Any]) -> list[str]:
    return [str(v["sku"]) for v in product.get("variants") or () if isinstance(v, dict) and v.get("sku")]


def by_source_code(products: Collection) -> KeyIndex:
    """Product keys by (source_id, source_product_code), kept up to date (see :class:`KeyIndex`)."""
    return products.key_index("source_code", _source_code, ["source_id", "source_product_code"])


def by_sku(products: Collection) -> KeyIndex:
    """Product keys by variant SKU, kept up to date (see :class:`KeyIndex`)."""
    return products.key_index("sku", _skus, ["variants"])


def _indexed(state: TenantState, collection: str) -> _Indexed:
    """The collection's live index, brought up to date (the caller holds ``index.lock`` while it
    searches; this takes it too, so call it inside that block)."""
    coll = state.collection(collection)
    lag = IndexLag(state)
    lag.catch_up()
    store = state.store
    with _DOC_LOCK:
        per_store = _INDEXED.setdefault(store, {})
        hit = per_store.get(coll.namespace)
        if hit is None:
            hit = per_store[coll.namespace] = _Indexed(store, coll.namespace, lag.pending.namespace, collection)
    hit.refresh(lag)
    return hit


_LOCKS: dict[tuple[int, str], threading.RLock] = {}


def _lock_for(state: TenantState, collection: str) -> threading.RLock:
    """One lock per collection index in this process: a search and the refresh before it see one
    version of the index (another thread's refresh waits for them, and they for it: a few
    documents' work, never a rebuild on a write)."""
    key = (id(state.store), state.collection(collection).namespace)
    with _DOC_LOCK:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = threading.RLock()
    return lock


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
                   user: dict[str, Any] | None = None, channel_id: int | None = None) -> dict[str, Any]:
    """Run a search; the response in the documents' shape (``system_{collection}`` = live records).

    The client's own filters are added as Stock2Shop adds them (``request.body`` shows them):
    ``client_id`` always, ``active: true`` on products, and a trade user's own ``customer_id`` on orders.
    ``channel_id`` (the query parameter the product-feed guide tells a channel's consumer to send)
    keeps the products linked to that channel (``channels[].channel_id``), or that channel's orders."""
    client_id = int(state.tenant) if is_ascii_digits(state.tenant) else state.tenant
    extra: list[dict[str, Any]] = [{"term": {"client_id": client_id}}]
    if collection == "products":
        extra.append({"term": {"active": True}})
    if collection == "orders" and user is not None and user["role"] == "trade":
        extra.append({"term": {"customer_id": user.get("customer_id") or 0}})
    if channel_id is not None and collection == "products":
        extra.append({"term": {"channels.channel_id": str(channel_id)}})
    elif channel_id is not None and collection == "orders":
        extra.append({"term": {"channel_id": channel_id}})
    try:
        with _lock_for(state, collection):
            indexed = _indexed(state, collection)
            # client_id holds for every document of the tenant: shown in request.body, not evaluated
            result = S.search(None, body, extra_filters=extra[1:], now=state.now, index=indexed.index)  # (read if the query says now)
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
        found = state.collection(collection).get_many([doc.id for doc, _, _ in result["hits"]])
        response[f"system_{collection}"] = [found[doc.id] for doc, _, _ in result["hits"] if doc.id in found]
    else:
        response[f"system_{collection}"] = [doc.source for doc, _, _ in result["hits"]]
    response["took_s2s"] = response["took"] + 1
    return response
