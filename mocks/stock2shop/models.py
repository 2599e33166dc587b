"""Stock2Shop state and domain logic: users and tokens, sources, channels, products, orders,
customers, the product/image/order queue and the Elasticsearch-style search.

One tenant is one Stock2Shop client (tenant id = ``str(client_id)``). Never imports Flask.
"""
from __future__ import annotations

import base64
import binascii
import copy
import gc
import datetime as dt
import hashlib
import json
import secrets
import threading
import uuid
import weakref
from typing import Any

from mocks.core.scenarios.item_failures import ItemFailures
from mocks.core.state import TenantState
from mocks.stock2shop import errors as X
from mocks.stock2shop import channel_orders as CO
from mocks.stock2shop import search as S

DEFAULT_TOKEN_TTL = 86_400
DEFAULT_QUEUE_DELAY = 0  # processed at the next read or clock move; the index lag is separate
IMAGE_BASE = "https://s2s-image.s3.amazonaws.com"
ES_BASE = "https://vpc-stock2shop-sandbox.eu-west-1.es.amazonaws.com"

# Roles (the documents' table); "" is an admin user (no role). Ids: the document gives
# product_meta_editor id 1; the others are the sandbox's.
ROLE_IDS = {"product_meta_editor": 1, "trade": 2, "read_only": 3, "product_editor": 4, "customer_read_only": 5}
ROLES = ("", "trade", "read_only", "product_editor", "product_meta_editor", "customer_read_only")

_EVERYONE_BUT_CUSTOMERS = {"", "trade", "read_only", "product_editor", "product_meta_editor"}
PERMISSIONS: dict[str, set[str]] = {
    "read sources": _EVERYONE_BUT_CUSTOMERS,
    "read channels": _EVERYONE_BUT_CUSTOMERS,
    "read products": _EVERYONE_BUT_CUSTOMERS,
    "read orders": {"", "trade", "read_only"},
    "read customers": {"", "read_only", "customer_read_only"},
    "read the queue": {"", "trade", "read_only", "product_editor", "product_meta_editor"},
    "queue products": {"", "product_editor", "product_meta_editor"},
    "queue product meta": {"", "product_meta_editor"},
    "queue images": {"", "product_editor", "product_meta_editor"},
    "queue orders": {"", "trade"},
}


def require(user: dict[str, Any], action: str) -> None:
    if user["role"] not in PERMISSIONS[action]:
        raise X.RoleForbidden(user["role"], action)


# -- time formats ---------------------------------------------------------------------------------
def s2s_time(ts: float) -> str:
    """Products and orders: ``2021-01-05 08:25:04``."""
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def user_time(ts: float) -> str:
    """Users, sources and channels: ``2015-03-03T07:30:06+0000``."""
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _bool(value: Any, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "y")


def _num(value: Any, default: float = 0) -> float | int:
    if isinstance(value, bool) or value is None:
        return default
    try:
        f = float(value)
    except (TypeError, ValueError):
        return default
    if f != f or f in (float("inf"), float("-inf")):
        return default
    return int(f) if f.is_integer() else round(f, 4)


def money(value: float) -> str:
    return f"{value:.2f}"


# -- users and tokens -----------------------------------------------------------------------------
class Users:
    """Users of one client and their tokens. A new token invalidates the user's earlier ones."""

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.users = state.collection("users")
        self.tokens = state.collection("tokens")

    @property
    def ttl(self) -> float:
        return float(self.state.options.get("token_ttl_seconds", DEFAULT_TOKEN_TTL))

    def find(self, username: str) -> dict[str, Any] | None:
        for _, user in self.users.items():
            if user["username"] == username:
                return user
        return None

    def issue(self, user: dict[str, Any]) -> str:
        token = secrets.token_hex(20)
        now = self.state.now()
        self.tokens.put(token, {"user_id": user["id"], "issued": now, "expires": now + self.ttl})

        replaced: list[str] = []

        def swap(old: dict[str, Any] | None) -> dict[str, Any] | None:
            replaced.clear()  # update may retry (Redis): only the stored try counts
            if old is None:
                return None
            previous = old.get("token")
            if previous and previous != token:
                replaced.append(previous)
            return {**old, "token": token}
        self.users.update(str(user["id"]), swap)
        # after the update, not inside it: a store write within update's transaction fails on sqlite
        for previous in replaced:
            self.tokens.delete(previous)
        return token

    def expire(self, token: str) -> bool:
        """Make a live token expire now (the scenario engine's ``expire_token``)."""
        now = self.state.now()
        if self.tokens.lookup(token) is None:
            return False
        self.tokens.update(token, lambda old: {**old, "expires": min(old["expires"], now)} if old else None)
        return True

    def by_token(self, token: str) -> tuple[dict[str, Any] | None, str]:
        """(user, "") or (None, reason) where reason is "invalid" or "expired"."""
        record = self.tokens.lookup(token)
        if record is None:
            return None, "invalid"
        user = self.users.lookup(str(record["user_id"]))
        if user is None or user.get("token") != token or not user.get("active", 1):
            return None, "invalid"
        if self.state.now() >= record["expires"]:
            return None, "expired"
        return user, ""


def public_user(user: dict[str, Any], state: TenantState, full: bool) -> dict[str, Any]:
    base = {k: user[k] for k in ("id", "created", "name", "surname", "email", "username", "modified",
                                 "client_id", "active", "admin", "token")}
    if not full:
        return base
    role = user["role"]
    catalogue = Catalogue(state)
    customers = []
    if role == "trade" and user.get("customer_id") is not None:
        c = state.collection("customers").lookup(str(user["customer_id"]))
        if c is not None:
            customers.append(c)
    return {
        **base,
        "client_name": user["client_name"],
        "fulfillment_services": [],
        "channels": catalogue.channels(),
        "sources": catalogue.sources(),
        "customers": customers,
        "roles": [{"id": ROLE_IDS[role], "description": role}] if role else [],
        "role_description": role or None,
    }


# -- sources and channels -------------------------------------------------------------------------
class Catalogue:
    def __init__(self, state: TenantState) -> None:
        self.state = state

    def sources(self) -> list[dict[str, Any]]:
        return self.state.collection("sources").values()

    def channels(self) -> list[dict[str, Any]]:
        return self.state.collection("channels").values()

    def source(self, source_id: Any) -> dict[str, Any] | None:
        return self.state.collection("sources").lookup(str(source_id))

    def channel(self, channel_id: Any) -> dict[str, Any] | None:
        return self.state.collection("channels").lookup(str(channel_id))


# -- search ---------------------------------------------------------------------------------------
DEFAULT_QUEUE_KEEP = 2_000  # finished queue items kept per client (--option stock2shop.queue_keep)
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

    def catch_up(self) -> None:
        if self.pending.count() == 0:
            return
        now = self.state.now()
        for key, entry in self.pending.items():
            if entry["due"] <= now:
                self.pending.delete(key)

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


def elastic_search(state: TenantState, collection: str, body: Any,
                   user: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a search; the response in the documents' shape (``system_{collection}`` = live records).

    The client's own filters are added as Stock2Shop adds them (``request.body`` shows them):
    ``client_id`` always, ``active: true`` on products, and a trade user's own ``customer_id`` on orders."""
    client_id = int(state.tenant) if state.tenant.isdigit() else state.tenant
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
    query = internal.get("query") or {"match_all": {}}
    internal["query"] = {"bool": {"must": [query], "filter": extra}}
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


# -- products -------------------------------------------------------------------------------------
def product_hash(product: dict[str, Any]) -> str:
    core = {k: product.get(k) for k in ("title", "body_html", "collection", "product_type", "vendor", "tags",
                                        "options", "variants")}
    return hashlib.md5(json.dumps(core, sort_keys=True, default=str).encode()).hexdigest()


def image_record(state: TenantState, image_id: int, product_id: int, storage: str, source_code: Any,
                 ts: float, base: str | None = None) -> dict[str, Any]:
    base = (base or IMAGE_BASE).rstrip("/")
    return {
        "src_50x50": f"{base}/thumb/50x50/{storage}",
        "src_160x160": f"{base}/thumb/160x160/{storage}",
        "id": image_id,
        "created": s2s_time(ts),
        "source_image_code": source_code,
        "storage_code": storage,
        "src": f"{base}/{storage}",
        "modified": s2s_time(ts),
        "client_id": int(state.tenant),
        "product_id": product_id,
        "active": True,
        "hash": storage.rsplit(".", 1)[0],
    }


MAX_IMAGE_BYTES = 2 * 1024 * 1024
_SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


def image_kind(index: int, data: Any) -> str:
    """"jpg" or "png" for base64 image data, else a 400/413. The file signature decides, not a full
    decode: the documents' own example is a truncated PNG (signature and header only) that must pass."""
    where = f"system_images[{index}].image.image"
    if not isinstance(data, str) or not data.strip():
        raise X.BadPayload(f"{where}: base64 image data is required for action I")
    text = "".join(data.split())
    if text.startswith("data:") and "," in text:  # a data: URI prefix is tolerated
        text = text.split(",", 1)[1]
    if (len(text) * 3) // 4 > MAX_IMAGE_BYTES + 3:
        raise X.ImageTooLarge(index, (len(text) * 3) // 4)
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise X.BadPayload(f"{where} is not base64 encoded") from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise X.ImageTooLarge(index, len(raw))
    for kind, signature in _SIGNATURES.items():
        if raw.startswith(signature):
            return kind
    raise X.BadPayload(f"{where} is not a JPEG or PNG image (only jpg and png are accepted)")


def image_bytes(data: str) -> bytes:
    text = "".join(data.split())
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    return base64.b64decode(text + "=" * (-len(text) % 4))


class Images:
    """Image files the sandbox serves (the real service keeps them on S3): ``{hash}.{jpg|png}`` per
    client, with the 50x50 and 160x160 thumbnail URLs answering the original bytes (no imaging
    library is bundled; see the fidelity notes)."""

    def __init__(self, state: TenantState) -> None:
        self.files = state.collection("image_files")

    def save(self, data: str, kind: str) -> str:
        raw = image_bytes(data)
        name = f"{hashlib.md5(raw).hexdigest()}.{kind}"
        if self.files.lookup(name) is None:
            self.files.put(name, {"content_type": CONTENT_TYPES[kind], "size": len(raw),
                                  "data": base64.b64encode(raw).decode()})
        return name

    def load(self, name: str) -> tuple[bytes, str] | None:
        rec = self.files.lookup(name)
        if rec is None:
            return None
        return base64.b64decode(rec["data"]), rec["content_type"]


# -- the queue ------------------------------------------------------------------------------------
class Queue:
    """Queued products, images and orders, applied FIFO once due (created + queue_delay_seconds)."""

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.items = state.collection("queue")
        self.products = state.collection("products")

    @property
    def delay(self) -> float:
        return float(self.state.options.get("queue_delay_seconds", DEFAULT_QUEUE_DELAY))

    def _add(self, instruction: str, payload: Any, failure: str | None = None, **extra: Any) -> dict[str, Any]:
        now = self.state.now()
        item_id = self.state.next_id("queue", 213_285_668)
        item = {
            "id": item_id, "instruction": instruction, "status": "pending",
            "created": s2s_time(now), "created_ts": now, "due_ts": now + self.delay,
            "processed": None, "message": None, "client_id": int(self.state.tenant),
            "message_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"stock2shop/{self.state.tenant}/queue/{item_id}")),
            "result": None, "payload": payload, **extra,
        }
        if failure is not None:
            item.update(status="failed", message=failure, processed=s2s_time(now))
        self.items.put(str(item_id), item)
        return item

    # enqueue -------------------------------------------------------------------------------------
    def queue_products(self, user: dict[str, Any], body: dict[str, Any], source_id: int | None,
                       failures: dict[str, Any] | None = None) -> int:
        require(user, "queue products")
        entries = body["system_products"]
        if any(e["product"].get("meta") for e in entries):
            require(user, "queue product meta")
        sources = []
        for entry in entries:
            src = entry["source"].get("source_id", source_id)
            if src is None:
                raise X.BadPayload("source.source_id (or the source_id query parameter) is required")
            sources.append(_num(src, 0))
        for i, (entry, src) in enumerate(zip(entries, sources), 1):
            self._add("sync_product", entry, failure=injected_failure(failures, i), source_id=src)
        return len(entries)

    def queue_images(self, user: dict[str, Any], body: dict[str, Any], failures: dict[str, Any] | None = None,
                     image_base: str | None = None) -> int:
        """Validate every image first (all or nothing), then queue them. ``image_base`` is the URL
        prefix the sandbox serves images under (from the request: the queue runs without one)."""
        require(user, "queue images")
        entries = body["system_images"]
        kinds: list[str | None] = []
        for i, entry in enumerate(entries):
            image = entry["image"]
            kind = None
            if image.get("action", "I") == "I":
                kind = image_kind(i, image.get("image"))
            kinds.append(kind)
        for i, (entry, kind) in enumerate(zip(entries, kinds), 1):
            self._add("sync_image", entry, failure=injected_failure(failures, i),
                      source_id=_num(entry["source"].get("source_id"), 0), image_kind=kind, image_base=image_base)
        return len(entries)

    def queue_order(self, user: dict[str, Any], client_id: int, channel_id: int, body: Any) -> dict[str, Any]:
        require(user, "queue orders")
        if str(client_id) != self.state.tenant:
            raise X.WrongClient(client_id)
        if Catalogue(self.state).channel(channel_id) is None:
            raise X.UnknownChannel(channel_id)
        item = self._add("sync_order", body, channel_id=channel_id)
        when = dt.datetime.fromtimestamp(item["created_ts"], tz=dt.timezone.utc)
        key = f"{client_id}-{channel_id}-0/{when:%Y-%m/%d/%H/%M/%S}-{item['id']}-sync_order.json"
        self.items.update(str(item["id"]), lambda old: {**old, "key": key} if old else old)
        return {"message": "order received", "queue_messages": [{"key": key, "message_id": item["message_id"]}]}

    # reading -------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        self.process_due()
        counts: dict[str, dict[str, int]] = {}
        for _, item in self.items.items():
            row = counts.setdefault(item["instruction"], {"pending": 0, "processed": 0, "failed": 0})
            row[item["status"]] += 1
        rows = [{"instruction": k, "count": v["pending"], "processed": v["processed"], "failed": v["failed"]}
                for k, v in sorted(counts.items())]
        return {"system_queue_summary": {"total": sum(r["count"] for r in rows), "instructions": rows}}

    def listing(self, status: str | None, instruction: str | None, limit: int) -> dict[str, Any]:
        self.process_due()
        rows = [public_item(i) for _, i in self.items.items()
                if (status is None or i["status"] == status) and (instruction is None or i["instruction"] == instruction)]
        return {"system_queue_items": rows[-limit:][::-1], "total": len(rows)}

    def one(self, ref: str) -> dict[str, Any]:
        self.process_due()
        item = self.items.lookup(ref)
        if item is None:
            item = next((i for _, i in self.items.items() if i["message_id"] == ref), None)
        if item is None:
            raise X.QueueItemNotFound(ref)
        return {"system_queue_item": public_item(item)}

    # processing ----------------------------------------------------------------------------------
    def process_due(self) -> int:
        with S.no_gc():  # applying reads whole collections (decoded afresh after a write)
            return self._process_due()

    def _process_due(self) -> int:
        now = self.state.now()
        due = [i for _, i in self.items.items() if i["status"] == "pending" and i["due_ts"] <= now]
        if not due:
            return 0
        index: dict[tuple[str, str], str] | None = None
        done = 0
        for item in sorted(due, key=lambda i: i["id"]):
            # a worker would have applied the item when it fell due: that is its time of effect
            self._at = min(max(float(item["due_ts"]), float(item["created_ts"])), now)
            current = self.items.lookup(str(item["id"]))
            if current is None or current["status"] != "pending":
                continue  # another worker took it
            if index is None:
                index = {(str(p.get("source_id")), str(p.get("source_product_code"))): k
                         for k, p in self.products.items()}
            try:
                if item["instruction"] == "sync_product":
                    result = self._apply_product(item, index)
                elif item["instruction"] == "sync_image":
                    result = self._apply_image(item, index)
                else:
                    result = self._apply_order(item)
                status, message = "processed", None
            except _Failed as exc:
                result, status, message = None, "failed", str(exc)
            self.items.update(str(item["id"]), lambda old, r=result, st=status, m=message: {
                **_without_payload(old), "status": st, "message": m, "result": r,
                "processed": s2s_time(now)} if old else old)
            done += 1
        self._trim()
        return done

    @property
    def keep(self) -> int:
        return int(self.state.options.get("queue_keep", DEFAULT_QUEUE_KEEP))

    def _trim(self) -> None:
        """Forget the oldest finished items beyond ``queue_keep`` per client (a sandbox runs for
        weeks; Stock2Shop's own queue history is not kept forever either). Pending ones stay."""
        finished = [k for k, i in self.items.items() if i["status"] != "pending"]
        for key in finished[:max(0, len(finished) - self.keep)]:
            self.items.delete(key)

    def _apply_product(self, item: dict[str, Any], index: dict[tuple[str, str], str]) -> dict[str, Any]:
        entry = item["payload"]
        source, data = entry["source"], entry["product"]
        source_id = item["source_id"]
        if Catalogue(self.state).source(source_id) is None:
            raise _Failed(f"source {source_id} does not belong to client {self.state.tenant}")
        code = str(source["source_product_code"])
        now = getattr(self, "_at", None) or self.state.now()
        client_id = int(self.state.tenant)
        key = index.get((str(source_id), code))
        product = self.products.get(key) if key else None
        if product is None:
            pid = self.state.next_id("product", 70_000)
            product = {"id": pid, "created": s2s_time(now), "active": True, "source_product_code": code,
                       "modified": s2s_time(now), "client_id": client_id, "source_id": source_id,
                       "body_html": "", "collection": "", "title": "", "product_type": "", "vendor": "",
                       "hash": "", "channels": [], "tags": "", "options": [], "meta": [], "images": [],
                       "variants": []}
        product["active"] = _bool(source.get("product_active"), True)
        for field in ("title", "body_html", "collection", "product_type", "vendor", "tags"):
            if field in data and data[field] is not None:
                product[field] = str(data[field])
        if "options" in data:
            product["options"] = [{"name": str(o.get("name", "")), "position": int(_num(o.get("position"), i + 1))}
                                  for i, o in enumerate(data["options"] or [])]
        variants = data.get("variants") or []
        for v in (variants if isinstance(variants, list) else [variants]):
            vcode = str(v["source_variant_code"])
            existing = next((x for x in product["variants"] if x["source_variant_code"] == vcode), None)
            if existing is None:
                existing = {"id": self.state.next_id("variant", 80_000), "source_variant_code": vcode,
                            "price": 0, "barcode": "", "sku": "", "qty": 0, "grams": 0,
                            "inventory_management": True, "active": True, "product_id": product["id"],
                            "image_id": None, "client_id": client_id, "option1": None, "option2": None,
                            "option3": None, "price_tiers": [], "qty_availability": []}
                product["variants"].append(existing)
            existing["sku"] = str(v["sku"])
            for field in ("barcode", "option1", "option2", "option3"):
                if field in v:
                    existing[field] = None if v[field] is None else str(v[field])
            for field in ("price", "qty", "grams"):
                if field in v:
                    existing[field] = min(max(_num(v[field]), -1e12), 1e12)
            if "inventory_management" in v:
                existing["inventory_management"] = _bool(v["inventory_management"])
            if "price_tiers" in v:
                existing["price_tiers"] = [{"tier": str(t.get("tier", "")), "price": _num(t.get("price"))}
                                           for t in v["price_tiers"] or []]
            if "qty_availability" in v:
                existing["qty_availability"] = [{"description": str(q.get("description", "")), "qty": _num(q.get("qty"))}
                                                for q in v["qty_availability"] or []]
        for m in data.get("meta") or []:
            mkey = str(m["key"])
            value = "" if m.get("value") is None else str(m["value"])
            current = next((x for x in product["meta"] if x["key"] == mkey), None)
            if current is None:
                product["meta"].append({"id": self.state.next_id("meta", 4_000_000), "created": s2s_time(now),
                                        "key": mkey, "value": value, "modified": s2s_time(now),
                                        "template_name": None, "client_id": client_id})
            else:
                current["value"], current["modified"] = value, s2s_time(now)
        product["modified"] = s2s_time(now)
        product["hash"] = product_hash(product)
        IndexLag(self.state).before_write("products", str(product["id"]), self.products.lookup(str(product["id"])), now)
        self.products.put(str(product["id"]), product)
        index[(str(source_id), code)] = str(product["id"])
        return {"product_id": product["id"], "variant_ids": [v["id"] for v in product["variants"]]}

    def _apply_image(self, item: dict[str, Any], index: dict[tuple[str, str], str]) -> dict[str, Any]:
        entry = item["payload"]
        source, image = entry["source"], entry["image"]
        key = index.get((str(item["source_id"]), str(source["source_product_code"])))
        product = self.products.get(key) if key else None
        if product is None:
            raise _Failed(f"product {source['source_product_code']} (source {item['source_id']}) not found; "
                          "queue the product first, then requeue the image")
        now = getattr(self, "_at", None) or self.state.now()
        code = image.get("image_id")
        action = image.get("action", "I")
        if action == "D":
            gone = [i["id"] for i in product["images"] if code is not None and str(i["source_image_code"]) == str(code)]
            if not gone:
                raise _Failed(f"image {code} not found on product {product['id']}")
            product["images"] = [i for i in product["images"] if i["id"] not in gone]
            for v in product["variants"]:
                if v.get("image_id") in gone:
                    v["image_id"] = None
            result: dict[str, Any] = {"product_id": product["id"], "deleted_image_ids": gone}
        else:
            kind = item.get("image_kind") or image_kind(0, image.get("image"))
            storage = Images(self.state).save(image["image"], kind)
            base = item.get("image_base")
            existing = next((i for i in product["images"]
                             if code is not None and str(i["source_image_code"]) == str(code)), None)
            if existing is None:
                existing = image_record(self.state, self.state.next_id("image", 300_000), product["id"],
                                        storage, code, now, base)
                product["images"].append(existing)
            else:
                fresh = image_record(self.state, existing["id"], product["id"], storage, code, now, base)
                existing.update({**fresh, "created": existing["created"]})
            if _bool((image.get("meta") or {}).get("main_image"), False):
                product["images"].remove(existing)
                product["images"].insert(0, existing)
            vcode = source.get("source_variant_code")
            if vcode is not None:
                for v in product["variants"]:
                    if v["source_variant_code"] == str(vcode):
                        v["image_id"] = existing["id"]
            result = {"product_id": product["id"], "image_id": existing["id"]}
        product["modified"] = s2s_time(now)
        IndexLag(self.state).before_write("products", str(product["id"]), self.products.lookup(str(product["id"])), now)
        self.products.put(str(product["id"]), product)
        return result

    def _apply_order(self, item: dict[str, Any]) -> dict[str, Any]:
        return Orders(self.state).from_channel(item["channel_id"], item["payload"], item["id"],
                                               getattr(self, "_at", None))


def injected_failure(spec: Any, position: int) -> str | None:
    """A scenario's ``item_failures`` (mocks.core.scenarios.item_failures) for the item at 1-based
    ``position`` of a bulk request: its failure message, recorded on its queue item (the request
    itself still succeeds)."""
    failures = ItemFailures.from_spec(spec)
    failure = failures.failure(position, code=500, message="") if failures else None
    if failure is None:
        return None
    return failure.message or f"injected failure (code {failure.code})"


class _Failed(Exception):
    """A queue item that cannot be applied (recorded on the item, never an HTTP error)."""


def _without_payload(item: dict[str, Any]) -> dict[str, Any]:
    """A finished item no longer needs what was queued (an image's base64 is up to 2.7 MB; the
    applied image lives with its product): keep the outcome, drop the bytes."""
    if item.get("instruction") == "sync_image":
        return {k: v for k, v in item.items() if k != "payload"}
    return item


def public_item(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: item.get(k) for k in ("id", "instruction", "status", "created", "processed", "message",
                                    "client_id", "message_id", "result")}
    out["log_message"] = item.get("message") if item.get("status") == "failed" else None
    for k in ("key", "source_id", "channel_id"):
        if k in item:
            out[k] = item[k]
    return out


# -- orders ---------------------------------------------------------------------------------------
def order_totals(line_items: list[dict[str, Any]], shipping: float = 0.0, rate: float = 15.0,
                 shipping_tax: float = 0.0) -> dict[str, Any]:
    """Line and order totals; a line may carry its own ``rate`` (percent) and ``total_discount``
    (tax is charged on the discounted line)."""
    for li in line_items:
        qty = li["qty"]
        line_rate = float(li.pop("rate", rate))
        disc = float(li.get("total_discount", 0) or 0)
        sub = round(li["price"] * qty, 2)
        tax = round((sub - disc) * line_rate / 100, 2)
        li.update({"sub_total": sub, "tax": tax, "tax_per_unit": round(li["price"] * line_rate / 100, 2),
                   "total": round(sub + tax - disc, 2),
                   "tax_lines": [{"rate": f"{round(line_rate, 4):g}"}]})
        li.update({"sub_total_display": money(li["sub_total"]), "tax_display": money(li["tax"]),
                   "tax_per_unit_display": money(li["tax_per_unit"]), "total_display": money(li["total"]),
                   "price_display": money(li["price"]), "total_discount_display": money(disc)})
    sub_total = round(sum(li["sub_total"] for li in line_items), 2)
    tax = round(sum(li["tax"] for li in line_items) + shipping_tax, 2)
    discount = round(sum(float(li.get("total_discount", 0) or 0) for li in line_items), 2)
    total = round(sub_total - discount + tax + shipping, 2)
    return {"total_discount": discount, "line_item_sub_total": sub_total,
            "line_item_tax": round(tax - shipping_tax, 2), "shipping_sub_total": shipping,
            "shipping_tax": shipping_tax, "sub_total": sub_total, "tax": tax, "total": total,
            "shipping_total": round(shipping + shipping_tax, 2), "sub_total_display": money(sub_total),
            "shipping_total_display": money(shipping + shipping_tax), "shipping_tax_display": money(shipping_tax),
            "tax_display": money(tax), "total_display": money(total), "total_discount_display": money(discount)}


ADDRESS_FIELDS = ("address1", "address2", "city", "company", "country", "country_code", "first_name", "last_name",
                  "phone", "province", "province_code", "zip")


def address(data: Any) -> dict[str, Any]:
    data = data if isinstance(data, dict) else {}
    return {f: (None if data.get(f) is None else str(data.get(f))) for f in ADDRESS_FIELDS}


class Orders:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.orders = state.collection("orders")
        self.customers = state.collection("customers")

    def from_channel(self, channel_id: int, payload: Any, queue_id: int, at: float | None = None) -> dict[str, Any]:
        """Turn a channel's order payload into a Stock2Shop order (``channel_orders`` maps Shopify and
        WooCommerce webhooks field by field; anything else gives a minimal order); the same
        channel_order_code on the same channel updates the order."""
        now = self.state.now() if at is None else at
        client_id = int(self.state.tenant)
        channel = Catalogue(self.state).channel(channel_id) or {}
        mapped = CO.map_order(channel.get("type"), payload)
        code = mapped["code"] or str(queue_id)
        existing = next((o for _, o in self.orders.items()
                         if o["channel_order_code"] == code and o["channel_id"] == channel_id), None)
        customer = mapped["customer"]
        customer_id = self._customer(channel_id, customer, now)
        line_items = []
        for raw in mapped["line_items"]:
            line_items.append({"id": self.state.next_id("line_item", 4_000_000), "grams": _num(raw["grams"]),
                               "price": raw["price"], "sku": raw["sku"], "total_discount": raw["total_discount"],
                               "qty": raw["qty"], "variant_id": self._variant_id(raw["sku"]), "source_id": None,
                               "title": raw["title"], "rate": raw["rate"]})
        order = {
            "id": existing["id"] if existing else self.state.next_id("order", 940_000),
            "created": existing["created"] if existing else s2s_time(now),
            "channel_order_code": code, "modified": s2s_time(now), "channel_id": channel_id,
            "client_id": client_id, "customer_id": customer_id,
            "notes": mapped["notes"], "status": "ordered",
            **order_totals(line_items, mapped["shipping"], shipping_tax=mapped["shipping_tax"]),
            "customer": customer, "sources": [], "line_items": line_items,
            "meta": [{"key": "queue_id", "value": str(queue_id)}, {"key": "channel_format", "value": mapped["channel"]},
                     *mapped["meta"]],
            "shipping_address": mapped["shipping_address"], "billing_address": mapped["billing_address"],
        }
        IndexLag(self.state).before_write("orders", str(order["id"]), self.orders.lookup(str(order["id"])), now)
        self.orders.put(str(order["id"]), order)
        return {"order_id": order["id"], "channel_order_code": code}

    def _variant_id(self, sku: str) -> int | None:
        if not sku:
            return None
        for _, p in self.state.collection("products").items():
            for v in p["variants"]:
                if v["sku"] == sku:
                    return v["id"]
        return None

    def _customer(self, channel_id: int, c: dict[str, Any], now: float) -> int | None:
        if not c["email"]:
            return None
        for _, known in self.customers.items():
            if known["email"].lower() == c["email"].lower():
                return known["id"]
        cid = self.state.next_id("customer", 500_000)
        self.customers.put(str(cid), customer_record(cid, int(self.state.tenant), channel_id, c, now))
        return cid


def customer_record(cid: int, client_id: int, channel_id: int, c: dict[str, Any], ts: float) -> dict[str, Any]:
    return {"id": cid, "created": s2s_time(ts), "modified": s2s_time(ts), "client_id": client_id,
            "channel_id": channel_id, "channel_customer_code": c.get("channel_customer_code", ""),
            "email": c["email"], "first_name": c["first_name"], "last_name": c["last_name"],
            "accepts_marketing": False, "active": True, "addresses": [], "meta": []}
