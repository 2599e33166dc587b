"""PrintXpand batches: every call takes a batch and answers ``[{"response": [<item result>, ...]}]``,
one result per input item, in input order. :func:`item_result` is the one place item results are
built; :func:`envelope` picks the codes' JSON type and the HTTP status."""
from __future__ import annotations

from typing import Any, Callable

from mocks.core.edge import text_problem
from mocks.core.scenarios.item_failures import ItemFailures
from mocks.printxpand import errors as X

Json = Any

#: bulk requests carry at most this many items; more is a 400 for the whole request, nothing stored
MAX_ITEMS = 1000
_MISSING = object()


class ItemError(Exception):
    """One item failed; the batch goes on."""

    def __init__(self, code: int, message: str, show_id: bool = True) -> None:
        super().__init__(message)
        self.code, self.message, self.show_id = code, message, show_id


def item_result(item_id: Any, code: int, message: str) -> dict[str, Any]:
    """One entry of ``response``: the ONE place per-item results are built.

    ``item_id`` is echoed as sent; ``_MISSING`` leaves ``id`` out (the document omits it when
    the item's own id is the problem). ``code`` is an int here; :func:`envelope` decides its
    JSON type for the whole batch.
    """
    out: dict[str, Any] = {}
    if item_id is not _MISSING:
        out["id"] = item_id
    out.update({"code": code, "status": "success" if code in (200, 201) else "error", "message": message})
    return out


def envelope(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The documented envelope and the HTTP status for a finished batch."""
    ok = [r for r in results if r["status"] == "success"]
    if len(ok) == len(results):
        for r in results:
            r["code"] = str(r["code"])
        return [{"response": results}], 200
    if ok:
        return [{"response": results}], 201
    codes = {int(r["code"]) for r in results}
    return [{"response": results}], 400 if 400 in codes else 404


def injected_failure(index: int, item_id: Any, spec: Any) -> tuple[int, str] | None:
    """(code, message) when a scenario's ``item_failures`` (mocks.core.scenarios.item_failures)
    fails the ``index``-th item (1-based); code 400 and "Could not save the item." by default."""
    failures = ItemFailures.from_spec(spec)
    failure = failures.failure(index, item_id, code=400, message="Could not save the item.") if failures else None
    if failure is None:
        return None
    try:
        code = int(failure.code)
    except (TypeError, ValueError):
        code = 400
    return (code if 100 <= code <= 599 else 400), failure.message


def run_batch(items: list[tuple[Any, Callable[[], tuple[int, str]], Any]],
              failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Each (id, step, item as sent): one result per item. Text the store cannot hold fails its
    own item with 400 (the edge left the items' text to the batch, ``Api.bulk_items``)."""
    results = []
    for index, (item_id, step, sent) in enumerate(items, start=1):
        try:
            bad = text_problem(sent)
            if bad is not None:
                item_id = _MISSING if text_problem(item_id) else item_id
                raise ItemError(400, f"Invalid value at {bad['pointer'] or '/'}: the text {bad['reason']}.")
            injected = injected_failure(index, item_id, failures)
            if injected is not None:
                raise ItemError(*injected)
            code, message = step()
            results.append(item_result(item_id, code, message))
        except ItemError as exc:
            shown = exc.show_id and isinstance(item_id, (str, int)) and not isinstance(item_id, bool)
            results.append(item_result(item_id if shown else _MISSING, exc.code, exc.message))
    return envelope(results)


def batch_under_root(body: Json, root: str, kind: type, kind_name: str) -> Any:
    """``body["<root>"]``, the batch of a call: a 400 for the whole request when the body has no
    ``root``, when the batch is not a ``kind`` (``kind_name`` in the message) or when it holds more
    than MAX_ITEMS items."""
    if not isinstance(body, dict) or root not in body:
        raise X.missing_root(root)
    value = body[root]
    if not isinstance(value, kind):
        raise X.wrong_type(root, kind_name)
    if len(value) > MAX_ITEMS:
        raise X.too_many(root, len(value), MAX_ITEMS)
    return value


def entries(body: Json, root: str) -> list[tuple[str, Any]]:
    """The ``{"<root>": {"<key>": item, ...}}`` map of a create call, in order."""
    return list(batch_under_root(body, root, dict, "object").items())


def id_list(body: Json, root: str) -> list[Any]:
    """The ``{"<root>": [id, ...]}`` list of a delete call."""
    return batch_under_root(body, root, list, "array")


def save_batch(body: Json, root: str, id_field: str, save_one: Callable[[Any], tuple[int, str]],
               failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
    """A create call: ``save_one`` for each item of the ``{"<root>": {...}}`` map, the item's
    ``id_field`` echoed as its id (none when the item is not an object)."""
    return run_batch([(item.get(id_field) if isinstance(item, dict) else None, lambda item=item: save_one(item), item)
                      for _, item in entries(body, root)], failures)


def delete_batch(body: Json, root: str, delete_one: Callable[[Any], tuple[int, str]],
                 failures: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
    """A delete call: ``delete_one`` for each id of the ``{"<root>": [id, ...]}`` list."""
    return run_batch([(raw, lambda raw=raw: delete_one(raw), raw) for raw in id_list(body, root)], failures)


class Tombstones:
    """The ids of a kind (``categories``, ``products``) that this store has deleted. Deleting one
    again answers the documented success (it is gone either way: the document's examples delete
    the same ids twice and print success both times); an id the store never had is "not Found".
    Saving the id again forgets it."""

    def __init__(self, state: Any, kind: str) -> None:
        self.deleted = state.collection(f"deleted_{kind}")

    def remember(self, key: str) -> None:
        self.deleted.put(key, {"id": key})

    def known(self, key: str) -> bool:
        return self.deleted.lookup(key) is not None

    def forget(self, key: str) -> None:
        self.deleted.delete(key)
