"""The Stock2Shop queue: products, images and orders are queued, then applied FIFO once due
(created + queue_delay_seconds on the client's sandbox clock) by the scheduler, with no client
request (one timer per client, ``state.due("queue", ...)``, run through ``Stock2Shop.run_due``);
with no delay, products and images are applied by the request that queues them, in its own
transaction (no timer: :meth:`Queue._enqueue`); finished items are kept up to ``queue_keep`` per
client."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from mocks.core import scheduler
from mocks.core.scenarios.item_failures import ItemFailures
from mocks.core.state import KeyIndex, TenantState
from mocks.stock2shop import errors as X
from mocks.stock2shop import search as S
from mocks.stock2shop.models.formats import _bool, _num, s2s_time
from mocks.stock2shop.models.images import Images, image_kind, image_record
from mocks.stock2shop.models.indexes import IndexLag, by_source_code, source_code_key
from mocks.stock2shop.models.orders import Orders
from mocks.stock2shop.models.sources import Catalogue
from mocks.stock2shop.models.users import require

DEFAULT_QUEUE_DELAY = 0  # processed as soon as the scheduler gets to it; the index lag is separate
QUEUE_JOB = "queue"      # the scheduler ref of a client's queue
DEFAULT_QUEUE_KEEP = 2_000  # finished queue items kept per client (--option stock2shop.queue_keep)


def product_hash(product: dict[str, Any]) -> str:
    core = {k: product.get(k) for k in ("title", "body_html", "collection", "product_type", "vendor", "tags",
                                        "options", "variants")}
    return hashlib.md5(json.dumps(core, sort_keys=True, default=str).encode()).hexdigest()


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
        item = self._new(instruction, payload, failure, **extra)
        self._store(item)
        return item

    def _store(self, item: dict[str, Any]) -> None:
        """Store an item; a pending one makes the client's queue job due then (the scheduler's timer)."""
        self.items.put(str(item["id"]), item)
        if item["status"] == "pending":
            self.state.due(QUEUE_JOB, item["due_ts"], earliest=True)

    def _new(self, instruction: str, payload: Any, failure: str | None = None, **extra: Any) -> dict[str, Any]:
        """A new item (its id taken: a write, so the request's transaction holds the write lock
        from the first one on), not stored yet."""
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
        return item

    def _enqueue(self, items: list[dict[str, Any]]) -> None:
        """Store a request's new items. With a queue delay they wait for the scheduler (a timer).
        With none, the request applies them before it answers, in its own transaction, and sets no
        timer: a read right after sees them applied (as it would apply a due item first), and
        nobody else (another request of the client, the scheduler) is left a due queue job to
        claim and run for them. Two writers queueing flat out kept the job due all the time, and
        a search of the client claimed it, waiting behind them for the write lock twice and
        scanning the queue for nothing (issue 16). Items that fell due before these (the job's
        timer is due: a reset item, one queued with a delay since passed) are applied first, as
        the scheduler would (FIFO)."""
        if self.delay > 0:
            for item in items:
                self._store(item)
            return
        timer = scheduler.timer_in(self.state.store, "api", self.state.api, self.state.tenant, QUEUE_JOB)
        if timer is not None and float(timer["at"]) <= self.state.now():
            self.process_due()  # and the timer says what is left, as the scheduler's run would
            left = self.next_due()
            if left is None:
                scheduler.cancel_in(self.state.store, "api", self.state.api, self.state.tenant, QUEUE_JOB)
            else:
                self.state.due(QUEUE_JOB, left)
        # trimmed before the new items are stored (reading the queue as committed: no view of this
        # transaction's own writes to build), as _trim would after them
        dropped = self._trim_for([str(i["id"]) for i in items])
        index = by_source_code(self.products) if any(i["status"] == "pending" for i in items) else None
        now = self.state.now()
        for item in items:
            if item["status"] == "pending":
                self._at = min(max(float(item["due_ts"]), float(item["created_ts"])), now)
                outcome = self._outcome(item, index, now)
                item = {**_without_payload(item, outcome["status"]), **outcome}
            if str(item["id"]) not in dropped:
                self.items.put(str(item["id"]), item)

    # enqueue -------------------------------------------------------------------------------------
    def queue_products(self, user: dict[str, Any], body: dict[str, Any], source_id: int | None,
                       failures: dict[str, Any] | None = None) -> int:
        require(user, "queue products")
        entries = body["system_products"]
        if any(e["product"].get("meta") for e in entries):
            require(user, "queue product meta")
        sources = []
        for n, entry in enumerate(entries):
            variants = entry["product"].get("variants")
            if isinstance(variants, list) and len(variants) > 1:
                # the guide: "Each product must contain only one variant, in the future we will
                # allow multiple variants" (a product gains variants over several pushes)
                raise X.BadPayload(f"system_products[{n}].product.variants: each product must contain only one "
                                   f"variant ({len(variants)} given)")
            src = entry["source"].get("source_id", source_id)
            if src is None:
                raise X.BadPayload("source.source_id (or the source_id query parameter) is required")
            sources.append(_num(src, 0))
        self._known_sources("system_products", sources)
        self._enqueue([self._new("sync_product", entry, failure=injected_failure(failures, i), source_id=src)
                       for i, (entry, src) in enumerate(zip(entries, sources), 1)])
        return len(entries)

    def _known_sources(self, key: str, sources: list[Any]) -> None:
        """A source id the client does not have is refused with the request (400, nothing queued),
        where a non-numeric one (the full example's "{source_id}" placeholder) is refused too."""
        catalogue = Catalogue(self.state)
        for n, src in enumerate(sources):
            if catalogue.source(int(src)) is None:
                raise X.BadPayload(f"{key}[{n}].source.source_id: source {int(src)} does not belong to client "
                                   f"{self.state.tenant}")

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
        self._known_sources("system_images", [_num(e["source"].get("source_id"), 0) for e in entries])
        self._enqueue([self._new("sync_image", entry, failure=injected_failure(failures, i),
                                 source_id=_num(entry["source"].get("source_id"), 0), image_kind=kind,
                                 image_base=image_base)
                       for i, (entry, kind) in enumerate(zip(entries, kinds), 1)])
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
        counts: dict[str, dict[str, int]] = {}
        for _, item in self.items.items():
            row = counts.setdefault(item["instruction"], {"pending": 0, "processed": 0, "failed": 0})
            row[item["status"]] += 1
        rows = [{"instruction": k, "count": v["pending"], "processed": v["processed"], "failed": v["failed"]}
                for k, v in sorted(counts.items())]
        return {"system_queue_summary": {"total": sum(r["count"] for r in rows), "instructions": rows}}

    def listing(self, status: str | None, instruction: str | None, limit: int,
                source_id: int | None = None, offset: int = 0) -> dict[str, Any]:
        """Newest first. ``instruction`` is ours (sync_product, sync_image, sync_order) or the one
        Stock2Shop's clients filter on (add_product, update_product, add_image, add_order: see
        ``client_instruction``); ``source_id`` keeps one source's items. The rows are answered under
        both ``system_items`` (the clients' name) and ``system_queue_items`` (the sandbox's first one)."""
        rows = [i for _, i in self.items.items()
                if (status is None or i["status"] == status)
                and (instruction is None or instruction in (i["instruction"], client_instruction(i)))
                and (source_id is None or i.get("source_id") == source_id)]
        page = rows[::-1][offset:offset + limit]
        out = [public_item(i) for i in page]
        return {"system_items": out, "system_queue_items": out, "total": len(rows)}

    def reset(self, ref: str) -> dict[str, Any]:
        """PUT /v1/queue/reset/{id}: a failed item goes back to pending (due now) and the scheduler
        tries it again; a pending item stays pending. A processed item has nothing to retry."""
        item = self._find(ref)
        if item["status"] == "processed":
            raise X.BadPayload(f"queue item {item['id']} is processed; only failed items can be reset")
        if item.get("payload") is None:
            raise X.BadPayload(f"queue item {item['id']} no longer holds its payload and cannot be reset")
        now = self.state.now()
        self.items.update(str(item["id"]), lambda old: {**old, "status": "pending", "message": None,
                                                        "processed": None, "result": None,
                                                        "due_ts": now} if old else old)
        self.state.due(QUEUE_JOB, now, earliest=True)  # the scheduler tries it again
        return {"system_queue_item": public_item(self.items.get(str(item["id"])))}

    def _find(self, ref: str) -> dict[str, Any]:
        item = self.items.lookup(ref)
        if item is None:
            item = next((i for _, i in self.items.items() if i["message_id"] == ref or i.get("key") == ref), None)
        if item is None:
            raise X.QueueItemNotFound(ref)
        return item

    def one(self, ref: str) -> dict[str, Any]:
        return {"system_queue_item": public_item(self._find(ref))}

    # processing ----------------------------------------------------------------------------------
    def process_due(self) -> int:
        with S.no_gc():  # applying reads whole collections (decoded afresh after a write)
            return self._process_due()

    def prepare(self) -> None:
        """What processing looks up, brought up to date ahead of it (reads only): the products by
        source code (:func:`by_source_code`)."""
        by_source_code(self.products).refresh()

    def next_due(self) -> float | None:
        """When the oldest pending item falls due (the client's clock), or None: the queue is empty."""
        pending = [float(i["due_ts"]) for _, i in self.items.items() if i["status"] == "pending"]
        return min(pending) if pending else None

    def _process_due(self) -> int:
        now = self.state.now()
        due = [i for _, i in self.items.items() if i["status"] == "pending" and i["due_ts"] <= now]
        if not due:
            return 0
        index = by_source_code(self.products)
        done = 0
        for item in sorted(due, key=lambda i: i["id"]):
            # a worker would have applied the item when it fell due: that is its time of effect
            self._at = min(max(float(item["due_ts"]), float(item["created_ts"])), now)
            current = self.items.lookup(str(item["id"]))
            if current is None or current["status"] != "pending":
                continue  # another worker took it
            outcome = self._outcome(item, index, now)
            self.items.update(str(item["id"]), lambda old, o=outcome: {
                **_without_payload(old, o["status"]), **o} if old else old)
            done += 1
        self._trim()
        return done

    def _outcome(self, item: dict[str, Any], index: KeyIndex | None, now: float) -> dict[str, Any]:
        """Apply one pending item (at ``self._at``); what changes on the item."""
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
        return {"status": status, "message": message, "result": result, "processed": s2s_time(now)}

    @property
    def keep(self) -> int:
        return int(self.state.options.get("queue_keep", DEFAULT_QUEUE_KEEP))

    def _trim(self) -> None:
        """Forget the oldest finished items beyond ``queue_keep`` per client (a sandbox runs for
        weeks; Stock2Shop's own queue history is not kept forever either). Pending ones stay."""
        finished = [k for k, i in self.items.items() if i["status"] != "pending"]
        for key in finished[:max(0, len(finished) - self.keep)]:
            self.items.delete(key)

    def _trim_for(self, new: list[str]) -> set[str]:
        """:meth:`_trim` done before ``new`` finished items (the newest) are stored: forgets the
        oldest finished items beyond ``queue_keep`` counting the new ones; returns the new keys
        that are beyond it already (``queue_keep`` smaller than the request: not to be stored)."""
        keep = self.keep
        if self.items.count() + len(new) <= keep:  # the count holds pending items too
            return set()
        finished = [k for k, i in self.items.items() if i["status"] != "pending"] + new
        gone = finished[:max(0, len(finished) - keep)]
        fresh = set(new)
        for key in gone:
            if key not in fresh:
                self.items.delete(key)
        return fresh.intersection(gone)

    def _apply_product(self, item: dict[str, Any], index: KeyIndex) -> dict[str, Any]:
        entry = item["payload"]
        source, data = entry["source"], entry["product"]
        source_id = item["source_id"]
        if Catalogue(self.state).source(source_id) is None:
            raise _Failed(f"source {source_id} does not belong to client {self.state.tenant}")
        code = str(source["source_product_code"])
        now = getattr(self, "_at", None) or self.state.now()
        client_id = int(self.state.tenant)
        found = index.get(source_code_key(source_id, code))
        key = found[-1] if found else None
        product = self.products.get(key) if key else None
        self._created = product is None
        if product is None:
            pid = self.state.next_id("product", 70_000)
            product = {"id": pid, "created": s2s_time(now), "active": True, "source_product_code": code,
                       "modified": s2s_time(now), "client_id": client_id, "source_id": source_id,
                       "body_html": "", "collection": "", "title": "", "product_type": "", "vendor": "",
                       "hash": "", "channels": [], "tags": "", "options": [], "meta": [], "images": [],
                       "variants": []}
        _check_options(code, data, product)
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
        IndexLag(self.state).before_write("products", str(product["id"]), self.products.get(str(product["id"])), now)
        self.products.put(str(product["id"]), product)
        return {"product_id": product["id"], "variant_ids": [v["id"] for v in product["variants"]],
                "created": self._created}

    def _apply_image(self, item: dict[str, Any], index: KeyIndex) -> dict[str, Any]:
        entry = item["payload"]
        source, image = entry["source"], entry["image"]
        found = index.get(source_code_key(item["source_id"], source["source_product_code"]))
        key = found[-1] if found else None
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
        IndexLag(self.state).before_write("products", str(product["id"]), self.products.get(str(product["id"])), now)
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


def _check_options(code: str, data: dict[str, Any], product: dict[str, Any]) -> None:
    """The guide: "If the relationship between the product and variant is not correctly
    configure[d], these products will be ignored": a variant's optionN needs the product's Nth
    option (the options pushed now, else those stored); the item fails with the reason."""
    options = data["options"] or [] if "options" in data else product.get("options") or []
    variants = data.get("variants") or []
    for v in (variants if isinstance(variants, list) else [variants]):
        for n in (1, 2, 3):
            if v.get(f"option{n}") not in (None, "") and len(options) < n:
                have = f"{len(options)} option(s)" if options else "no options"
                raise _Failed(f"product {code} ignored: variant {v.get('source_variant_code')} has option{n} "
                              f"{str(v[f'option{n}'])!r} but the product has {have}")


class _Failed(Exception):
    """A queue item that cannot be applied (recorded on the item, never an HTTP error)."""


def _without_payload(item: dict[str, Any], status: str) -> dict[str, Any]:
    """A finished item no longer needs what was queued (an image's base64 is up to 2.7 MB; the
    applied image lives with its product): keep the outcome, drop the bytes. A failed image keeps
    them, so PUT /v1/queue/reset/{id} can try it again."""
    if item.get("instruction") == "sync_image" and status == "processed":
        return {k: v for k, v in item.items() if k != "payload"}
    return item


CLIENT_INSTRUCTIONS = {"sync_image": "add_image", "sync_order": "add_order"}


def client_instruction(item: dict[str, Any]) -> str:
    """The instruction as Stock2Shop's own queue names it (clients filter on it): a product that was
    created is add_product, one that existed is update_product; a pending product is add_product
    until it is applied (the queue only learns which it is then: fidelity decisions)."""
    if item.get("instruction") == "sync_product":
        result = item.get("result") or {}
        return "update_product" if result.get("created") is False else "add_product"
    return CLIENT_INSTRUCTIONS.get(str(item.get("instruction")), str(item.get("instruction")))


def public_item(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: item.get(k) for k in ("id", "instruction", "status", "created", "processed", "message",
                                    "client_id", "message_id", "result")}
    out["log_message"] = item.get("message") if item.get("status") == "failed" else None
    out["client_instruction"] = client_instruction(item)
    for k in ("key", "source_id", "channel_id"):
        if k in item:
            out[k] = item[k]
    return out
