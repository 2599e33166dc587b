"""The request journal's per-process write buffer, shared by the sqlite and redis backends."""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from typing import Any, Callable

from mocks.core.store.base import Json, _dumps


class JournalBuffer:
    """Journal entries of this process waiting to be written in one batch.

    A daemon thread flushes a few milliseconds after the first pending entry; readers flush
    first (``Store.journal``); exit flushes too. Safe across fork: a child starts empty.
    """

    def __init__(self, write_batch: Callable[[list[Json]], None], interval: float = 0.005) -> None:
        self.write_batch = write_batch
        self.interval = interval
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: list[Json] = []
        self._wake = threading.Event()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None

    def append(self, entry: Json) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: nothing inherited is ours to write
                self._pid, self._pending, self._thread = os.getpid(), [], None
                self._wake = threading.Event()
                atexit.register(self.flush)
            self._pending.append(entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.interval)  # let a batch gather
            self._wake.clear()
            self.flush()

    def settle(self) -> None:
        """Before a read: write this process's entries, and give other processes' writers the
        time of one batch so that what they answered already is there too."""
        self.flush()
        time.sleep(self.interval * 2)

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                if self._pid != os.getpid():
                    return
                batch, self._pending = self._pending, []
            if batch:
                try:
                    self.write_batch(batch)
                except Exception:  # the journal must never take a request or the process down
                    logging.getLogger("commerce_sandbox").exception("journal batch of %d lost", len(batch))




def _journal_dumps(entry: "Json | Encoded") -> str:
    """A journal entry as JSON; text no store can hold (a lone surrogate) becomes U+FFFD, so one
    odd request never costs the batch it is written with."""
    if isinstance(entry, Encoded):
        return entry.text
    try:
        return _dumps(entry).encode("utf-8").decode("utf-8")
    except (TypeError, ValueError):
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


class Encoded:
    """A journal entry whose JSON is already written (the fast path answers the same request
    again and again: only its time and duration differ). The sqlite and redis stores write
    ``text`` as it is; the memory store keeps :meth:`entry`."""

    __slots__ = ("text", "_entry")

    def __init__(self, text: str, entry: Callable[[], Json]) -> None:
        self.text = text
        self._entry = entry

    def entry(self) -> Json:
        return self._entry()


class Template:
    """The JSON of an entry whose ``time`` and ``duration_ms`` change from one use to the next,
    cut around those two values once. None from :meth:`of` when the entry's JSON cannot be cut
    (a value that needed the fallback encoder's replacements)."""

    _MARK = {"time": "\x00time\x00", "duration_ms": "\x00duration\x00"}

    def __init__(self, parts: tuple[str, str, str], order: tuple[str, str]) -> None:
        self.parts = parts
        self.order = order

    @classmethod
    def of(cls, entry: Json) -> "Template | None":
        marked = dict(entry, **cls._MARK)
        text = _journal_dumps(marked)
        if any(text.count(_dumps(mark)) != 1 for mark in cls._MARK.values()):
            return None
        cuts = sorted((text.find(_dumps(mark)), name) for name, mark in cls._MARK.items())
        (a, first), (b, second) = cuts
        la, lb = len(_dumps(cls._MARK[first])), len(_dumps(cls._MARK[second]))
        return cls((text[:a], text[a + la:b], text[b + lb:]), (first, second))

    def fill(self, values: dict[str, Any], entry: Callable[[], Json]) -> Encoded:
        p0, p1, p2 = self.parts
        first, second = self.order
        return Encoded(p0 + _dumps(values[first]) + p1 + _dumps(values[second]) + p2, entry)
