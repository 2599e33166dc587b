"""The sandbox clock: real time plus an offset that the control plane can advance.

The offset lives in the store, so every worker agrees on the time. Everything that expires,
lags or retries reads the time from here, never from ``time.time()``.
"""
from __future__ import annotations

import datetime as dt
import time

from mocks.core import cache as _cache
from mocks.core.store import Store

_NS = "__sandbox__/meta"
_KEY = "clock_offset"


class Clock:
    def __init__(self, store: Store) -> None:
        self.store = store

    def offset(self) -> float:
        value = self.store.lookup(_NS, _KEY)
        return float(value or 0.0)

    def now(self) -> float:
        """Seconds since the epoch on the sandbox clock."""
        _cache.note_clock()  # an answer that reads the time is never served from the cache
        return time.time() + self.offset()

    def utcnow(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(), tz=dt.timezone.utc)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.store.update(_NS, _KEY, lambda old: float(old or 0.0) + seconds)
        return self.now()

    def reset(self) -> None:
        self.store.delete(_NS, _KEY)

    def describe(self) -> dict:
        now = self.now()
        return {
            "now": now,
            "iso": dt.datetime.fromtimestamp(now, tz=dt.timezone.utc).isoformat().replace("+00:00", "Z"),
            "offset_seconds": self.offset(),
        }
