"""Typed access to one tenant's data: ``TenantState.collection("products")``.

Models take a :class:`TenantState` and never touch Flask or the raw store.
"""
from __future__ import annotations

from typing import Any, Callable

from mocks.core.clock import Clock
from mocks.core.store import Json, Store, ns


class Collection:
    """An ordered map of id -> document in one tenant's namespace."""

    def __init__(self, store: Store, namespace: str) -> None:
        self.store = store
        self.namespace = namespace

    def get(self, key: str) -> Json | None:
        """A private copy, safe to modify and put back."""
        return self.store.get(self.namespace, str(key))

    def lookup(self, key: str) -> Json | None:
        """A shared, read-only view (faster; do not modify)."""
        return self.store.lookup(self.namespace, str(key))

    def put(self, key: str, value: Json) -> None:
        self.store.put(self.namespace, str(key), value)

    def put_many(self, items: list[tuple[str, Json]]) -> None:
        self.store.put_many(self.namespace, [(str(k), v) for k, v in items])

    def add(self, key: str, value: Json) -> bool:
        return self.store.add(self.namespace, str(key), value)

    def delete(self, key: str) -> bool:
        return self.store.delete(self.namespace, str(key))

    def update(self, key: str, fn: Callable[[Json | None], Json | None]) -> Json | None:
        return self.store.update(self.namespace, str(key), fn)

    def items(self) -> list[tuple[str, Json]]:
        """Read-only shared views in insertion order."""
        return self.store.items(self.namespace)

    def values(self) -> list[Json]:
        return self.store.values(self.namespace)

    def keys(self) -> list[str]:
        return [k for k, _ in self.store.items(self.namespace)]

    def count(self) -> int:
        return self.store.count(self.namespace)

    def __contains__(self, key: object) -> bool:
        return self.lookup(str(key)) is not None


class TenantState:
    """One tenant of one API: its collections, its counters and the sandbox clock."""

    def __init__(self, store: Store, api: str, tenant: str, clock: Clock, options: dict[str, Any] | None = None) -> None:
        self.store = store
        self.api = api
        self.tenant = tenant
        self.clock = clock
        self.options = options or {}

    def collection(self, name: str) -> Collection:
        return Collection(self.store, ns(self.api, self.tenant, name))

    def next_id(self, sequence: str, start: int = 1) -> int:
        """A per-tenant increasing id, atomic across workers (first value is ``start``)."""
        value = self.store.incr(ns(self.api, self.tenant, "__sequences__"), sequence)
        return start + value - 1

    def reserve_ids(self, sequence: str, count: int, start: int = 1) -> range:
        """``count`` consecutive ids of the same sequence as :meth:`next_id`, in one write."""
        last = self.store.incr(ns(self.api, self.tenant, "__sequences__"), sequence, count)
        return range(start + last - count, start + last)

    def due(self, ref: str, at: float, earliest: bool = False) -> None:
        """Ask for ``Api.run_due(sandbox, tenant, ref, now)`` once this tenant's clock reaches ``at``
        (a timer of :mod:`mocks.core.scheduler`; ``earliest``: keep an earlier time already set).
        Models use this for work that happens later on its own: queues, order moves, index lag."""
        from mocks.core import scheduler
        scheduler.schedule_in(self.store, "api", self.api, self.tenant, ref, at, earliest=earliest)

    def now(self) -> float:
        """This tenant's sandbox clock (global, then API, then tenant scope: mocks.core.clock)."""
        return self.clock.now(self.api, self.tenant)
