"""Sandbox clocks: real time moved by the control plane, globally, per API or per tenant.

Scopes nest: the global clock, an API's clock, one tenant's clock of that API. A scope that was
never touched follows its parent. A touched scope stores ``{"offset": s, "frozen": t|None}``:

* running: its time is its parent's time plus ``offset`` (so a global advance moves every API
  and tenant that is not frozen, and an API's advance adds to the global one);
* frozen: its time is ``frozen`` and stands still, whatever the parent does, until it is
  advanced, set, or unfrozen (it then runs on from where it stood).

The scopes live in the store (``__sandbox__/clock``), so every worker and host agrees on the
time. Everything in the sandbox that expires, lags or retries reads its time from here
(``TenantState.now()`` is the clock of its API and tenant); only checks against the real world
(OAuth 1.0a timestamps, leases) read ``time.time()``.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any, Callable

from mocks.core import cache as _cache
from mocks.core.store import Store

NS = "__sandbox__/clock"
#: the latest time a clock may be set to (year 9999); the earliest is the epoch
MAX_TIME = 253_402_300_799.0


def scope_key(api: str | None = None, tenant: str | None = None) -> str:
    """``""`` (global), ``"xtnd"`` (one API) or ``"xtnd/<tenant>"`` (one tenant of one API)."""
    if tenant is not None and not api:
        raise ValueError("a tenant's clock needs its api")
    return "" if not api else (api if tenant is None else f"{api}/{tenant}")


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(value: Any) -> float:
    """Epoch seconds from a number or an ISO 8601 date-time (a zoneless one is UTC)."""
    if isinstance(value, bool):
        raise ValueError("not a time")
    if isinstance(value, (int, float)):
        ts = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            ts = float(text)
        except ValueError:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.timezone.utc)
            ts = parsed.timestamp()
    else:
        raise ValueError("not a time")
    if not math.isfinite(ts) or ts < 0 or ts > MAX_TIME:
        raise ValueError("out of range")
    return ts


class Clock:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reading -------------------------------------------------------------------------------
    def _chain(self, api: str | None, tenant: str | None) -> list[str]:
        if not api:
            return [""]
        return ["", api] if tenant is None else ["", api, f"{api}/{tenant}"]

    def read(self, api: str | None = None, tenant: str | None = None, real: float | None = None) -> tuple[float, bool]:
        """(time, frozen) of a scope (``real``: the real time to start from, default now)."""
        _cache.note_clock()  # an answer that reads the time is never served from the cache
        return self._read(api, tenant, real)

    def before(self, at: float, api: str | None = None, tenant: str | None = None) -> bool:
        """Whether the scope's clock is still before ``at`` (a token that has not expired yet).
        True is noted for the response cache as a deadline (an answer may be kept while the clock
        stays before ``at``), False as a clock read (mocks.core.cache)."""
        if self._read(api, tenant, None)[0] < at:
            _cache.note_deadline(at, api, tenant)
            return True
        _cache.note_clock()
        return False

    def _read(self, api: str | None, tenant: str | None, real: float | None) -> tuple[float, bool]:
        t, frozen = (time.time() if real is None else real), False
        scopes = self.store.items(NS)
        if not scopes:
            return t, False
        docs = dict(scopes) if len(scopes) > 1 else {scopes[0][0]: scopes[0][1]}
        for key in self._chain(api, tenant):
            doc = docs.get(key)
            if doc is None:
                continue
            if doc.get("frozen") is not None:
                t, frozen = float(doc["frozen"]), True
            else:
                t += float(doc.get("offset", 0.0))
        return t, frozen

    def now(self, api: str | None = None, tenant: str | None = None) -> float:
        """Seconds since the epoch on the clock of a scope (the global one by default)."""
        return self.read(api, tenant)[0]

    def offset(self, api: str | None = None, tenant: str | None = None) -> float:
        """How far a scope's clock is from real time (seconds; 0.0 exactly when never moved)."""
        real = time.time()
        return self.read(api, tenant, real)[0] - real

    def utcnow(self, api: str | None = None, tenant: str | None = None) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(api, tenant), tz=dt.timezone.utc)

    def version(self) -> int:
        """Changes whenever any clock is moved (the scheduler watches it)."""
        return self.store.version(NS)

    def _parent(self, key: str) -> tuple[str | None, str | None]:
        if not key:
            return None, None
        api, _, tenant = key.partition("/")
        return (None, None) if not tenant else (api, None)

    def _parent_now(self, key: str) -> float:
        if not key:
            return time.time()
        api, tenant = self._parent(key)
        return self.now(api, tenant)

    # -- moving ----------------------------------------------------------------------------------
    def advance(self, seconds: float, api: str | None = None, tenant: str | None = None) -> float:
        if not seconds >= 0 or not math.isfinite(seconds):
            raise ValueError("the sandbox clock only moves forward")
        self._move_scope(scope_key(api, tenant), frozen_to=lambda frozen: float(frozen) + seconds,
                         offset_to=lambda offset: float(offset) + seconds)
        return self.now(api, tenant)

    def set(self, when: float, api: str | None = None, tenant: str | None = None) -> float:
        """Make a scope's time ``when`` (it keeps running from there unless frozen)."""
        key = scope_key(api, tenant)
        parent = self._parent_now(key)
        self._move_scope(key, frozen_to=lambda frozen: when, offset_to=lambda offset: when - parent)
        return self.now(api, tenant)

    def _move_scope(self, key: str, frozen_to: Callable[[Any], float], offset_to: Callable[[Any], float]) -> None:
        """One update of a scope's stored clock: a frozen scope's ``frozen`` becomes
        ``frozen_to(frozen)``, a running one's ``offset`` becomes ``offset_to(offset)`` (a scope
        never touched starts running at offset 0)."""
        def move(old: dict[str, Any] | None) -> dict[str, Any]:
            doc = dict(old or {"offset": 0.0, "frozen": None})
            if doc.get("frozen") is not None:
                doc["frozen"] = frozen_to(doc["frozen"])
            else:
                doc["offset"] = offset_to(doc.get("offset", 0.0))
            return doc

        self.store.update(NS, key, move)

    def freeze(self, frozen: bool, api: str | None = None, tenant: str | None = None) -> float:
        """Stop a scope's clock where it stands (``True``) or let it run on from there (``False``)."""
        key = scope_key(api, tenant)
        own = self.store.lookup(NS, key) or {}
        if frozen == (own.get("frozen") is not None):
            return self.now(api, tenant)  # already so (a scope inside a frozen one stays frozen with it)
        current = self.now(api, tenant)
        parent = self._parent_now(key)

        def put(old: dict[str, Any] | None) -> dict[str, Any]:
            doc = dict(old or {"offset": 0.0, "frozen": None})
            if frozen:
                doc["frozen"] = current
            else:
                doc["offset"], doc["frozen"] = (float(doc["frozen"]) if doc.get("frozen") is not None else current) - parent, None
            return doc

        self.store.update(NS, key, put)
        return self.now(api, tenant)

    def reset(self, api: str | None = None, tenant: str | None = None) -> None:
        """Drop the settings of a scope and of every scope inside it (all of them by default)."""
        if not api:
            self.store.clear(NS)
            return
        key = scope_key(api, tenant)
        for name, _ in list(self.store.items(NS)):
            if name == key or (tenant is None and name.startswith(api + "/")):
                self.store.delete(NS, name)

    def scopes(self) -> list[dict[str, Any]]:
        out = []
        for key, doc in self.store.items(NS):
            api, _, tenant = key.partition("/")
            out.append({"api": api or None, "tenant": tenant or None, "offset_seconds": doc.get("offset", 0.0),
                        "frozen": doc.get("frozen") is not None})
        return out

    def describe(self, api: str | None = None, tenant: str | None = None) -> dict[str, Any]:
        real = time.time()
        now, frozen = self.read(api, tenant, real)
        return {
            "now": now,
            "iso": iso(now),
            "offset_seconds": now - real,
            "frozen": frozen,
            "api": api,
            "tenant": tenant,
            "scopes": self.scopes(),
        }
