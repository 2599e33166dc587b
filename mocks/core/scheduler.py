"""Due work on its own time: outbound webhooks and their retries, queues, order progress, polls.

Work that falls due later is a *timer* in the store (``__sandbox__/due``), one document per job::

    {"kind": "webhook" | "api", "api": "xtnd", "tenant": "...", "ref": "...", "at": 1718000000.0,
     "order": 12, "claim": null | {"token": "...", "until": <real time>}}

``at`` is read on the clock of the job's API and tenant (:mod:`mocks.core.clock`), so moving a
tenant's clock makes its work due and nobody else's. A timer is written by whoever creates the
work (:func:`schedule`) and is run by a handler: ``"webhook"`` by :mod:`mocks.core.webhooks`,
``"api"`` by the API's :meth:`~mocks.core.api.Api.run_due`. A handler returns when the job is due
next (on the same clock) or ``None`` when it is done. Timers are in the store, so work that was
due when a process was killed (``kill -9``) is still due when one starts again.

One runner per deployment. Every process (each gunicorn worker, each host sharing a Redis)
starts a :class:`Scheduler` thread; they compete for a *lease* (``__sandbox__/leases``,
``{"holder", "expires"}`` on real time, taken with the store's atomic ``update``). The holder
renews it every ``RENEW_S``; if it dies, the lease expires after ``LEASE_TTL_S`` and another
process takes it over. Each job is also *claimed* before it runs (an atomic ``update`` on its
timer), so a job runs once even when a synchronous run (``POST /__sandbox/clock``) and the holder
meet, or a lease changes hands in the middle of a job.

No busy loop: the holder sleeps until the next timer is due on its clock (a frozen clock never
falls due by waiting), until its lease needs renewing, or until the timers or the clocks change.
A change in this process wakes it at once; one made by another process is noticed within
``WATCH_S`` (one version read of the two namespaces). Processes that do not hold the lease only
look at it every ``CHECK_S``.

Tests: the in-process app starts no thread (``testing``) unless asked (``scheduler=True``); the
control plane's clock route runs what fell due synchronously (:meth:`Scheduler.run_due`).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
import weakref
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from mocks.core.sandbox import Sandbox
    from mocks.core.store import Store

TIMERS = "__sandbox__/due"
LEASES = "__sandbox__/leases"
LEASE = "scheduler"
LEASE_TTL_S = 5.0     # a dead holder's lease is taken over after this (real seconds)
RENEW_S = 1.5         # the holder renews this often
CHECK_S = 1.0         # the others look at the lease this often
WATCH_S = 0.2         # the holder notices another process's new work or clock move this fast
CLAIM_S = 20.0        # a claimed job whose runner died is free again after this (real seconds; > a webhook timeout)
RETRY_S = 5.0         # a job whose handler raised runs again this much later (its clock)
WAIT_S = 1.0          # run_if_due waits this long at most for a job the lease holder is running
MAX_PASSES = 20       # a synchronous run repeats while jobs make new due work, this many times at most

log = logging.getLogger("commerce_sandbox.scheduler")

Handler = Callable[["Sandbox", str, str, str, float], "float | None"]
_HANDLERS: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    """``handler(sandbox, api, tenant, ref, now) -> next due time | None`` runs timers of ``kind``."""
    _HANDLERS[kind] = handler


def _api_handler(sandbox: "Sandbox", api: str, tenant: str, ref: str, now: float) -> float | None:
    target = sandbox.apis.get(api)
    return None if target is None else target.run_due(sandbox, tenant, ref, now)


register("api", _api_handler)

Preparer = Callable[["Sandbox", str, str, str], None]
#: per kind, what runs before a job is claimed (reads only): ``prepare(sandbox, api, tenant, ref)``
_PREPARERS: dict[str, Preparer] = {}


def _api_prepare(sandbox: "Sandbox", api: str, tenant: str, ref: str) -> None:
    target = sandbox.apis.get(api)
    if target is not None:
        target.prepare_due(sandbox, tenant, ref)


_PREPARERS["api"] = _api_prepare


def timer_key(kind: str, api: str, tenant: str, ref: str) -> str:
    return f"{kind}|{api}|{tenant}|{ref}"


def schedule(sandbox: "Sandbox", kind: str, api: str, tenant: str, ref: str, at: float, order: int = 0,
             earliest: bool = False) -> None:
    """Make a job due at ``at`` on the clock of ``api``/``tenant`` (replacing its earlier time;
    ``earliest``: keep the earlier of the two). Wakes this process's scheduler."""
    schedule_in(sandbox.store, kind, api, tenant, ref, at, order, earliest)


def schedule_in(store: "Store", kind: str, api: str, tenant: str, ref: str, at: float, order: int = 0,
                earliest: bool = False) -> None:
    """:func:`schedule` for code that holds the store only (``TenantState.due``)."""
    at = float(at)

    def put(old: dict[str, Any] | None) -> dict[str, Any]:
        when = min(at, float(old["at"])) if (earliest and old is not None) else at
        doc = {"kind": kind, "api": api, "tenant": tenant, "ref": ref, "at": when, "order": order,
               "claim": None, "rescheduled": False}
        if old is not None and old.get("claim"):  # running now: its runner keeps the earlier time
            doc.update(claim=old["claim"], rescheduled=True)
        return doc

    store.update(TIMERS, timer_key(kind, api, tenant, ref), put)
    for runner in list(_LIVE):  # this process's schedulers on that store look again at once
        if runner.sandbox.store is store:
            runner.wake()


def timer_in(store: "Store", kind: str, api: str, tenant: str, ref: str) -> dict[str, Any] | None:
    """A job's timer (read-only, cached), or None: nothing of it is due now or later."""
    return store.lookup(TIMERS, timer_key(kind, api, tenant, ref))


def cancel(sandbox: "Sandbox", kind: str, api: str, tenant: str, ref: str) -> None:
    cancel_in(sandbox.store, kind, api, tenant, ref)


def cancel_in(store: "Store", kind: str, api: str, tenant: str, ref: str) -> None:
    """:func:`cancel` for code that holds the store only (a runner that claimed it finishes with no effect)."""
    store.delete(TIMERS, timer_key(kind, api, tenant, ref))


def pending(sandbox: "Sandbox", api: str | None = None, tenant: str | None = None) -> list[dict[str, Any]]:
    """The timers (what is due when), for the control plane and tests."""
    rows = [dict(v, key=k) for k, v in sandbox.store.items(TIMERS)
            if (api is None or v["api"] == api) and (tenant is None or v["tenant"] == tenant)]
    rows.sort(key=lambda v: (v["at"], v.get("order", 0)))
    return rows


_LIVE: "weakref.WeakSet[Scheduler]" = weakref.WeakSet()


class Scheduler:
    """The due-work runner of one sandbox in one process (see the module docstring)."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self.sandbox = sandbox
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self.holding = False
        self.ran = 0  # jobs this process ran (diagnostics)
        _LIVE.add(self)

    # -- the lease --------------------------------------------------------------------------------
    def lease(self) -> dict[str, Any] | None:
        return self.sandbox.store.lookup(LEASES, LEASE)

    def take_lease(self) -> bool:
        """Take or renew the lease if it is free, expired or ours; True if we hold it now."""
        store = self.sandbox.store
        real = time.time()
        current = store.lookup(LEASES, LEASE)
        if current is not None and current["holder"] != self.holder and current["expires"] > real:
            return False  # held by a live process: a read, no write

        def take(old: dict[str, Any] | None) -> dict[str, Any] | None:
            if old is not None and old["holder"] != self.holder and old["expires"] > real:
                return old
            since = old["since"] if old is not None and old["holder"] == self.holder else real
            return {"holder": self.holder, "expires": real + LEASE_TTL_S, "since": since}

        new = store.update(LEASES, LEASE, take)
        if new is not None and new["holder"] == self.holder and not self.holding:
            log.info("scheduler lease taken by %s", self.holder)
        self.holding = new is not None and new["holder"] == self.holder
        return self.holding

    def release_lease(self) -> None:
        self.sandbox.store.update(LEASES, LEASE, lambda old: None if old and old["holder"] == self.holder else old)
        self.holding = False

    # -- running due work ---------------------------------------------------------------------------
    def _clock(self, cache: dict[tuple[str, str], tuple[float, bool]], api: str, tenant: str) -> tuple[float, bool]:
        hit = cache.get((api, tenant))
        if hit is None:
            hit = cache[(api, tenant)] = self.sandbox.clock.read(api, tenant)
        return hit

    def _mine(self, timer: dict[str, Any]) -> bool:
        """An API's job runs only where that API is mounted (hosts sharing a store may mount
        different APIs); webhook deliveries run anywhere."""
        return timer["kind"] != "api" or timer["api"] in self.sandbox.apis

    def due(self, kinds: set[str] | None = None) -> list[tuple[str, dict[str, Any], float]]:
        """(key, timer, now on its clock) of every job due now and not claimed, in time order."""
        real = time.time()
        clocks: dict[tuple[str, str], tuple[float, bool]] = {}
        out = []
        for key, timer in self.sandbox.store.items(TIMERS):
            if (kinds is not None and timer["kind"] not in kinds) or not self._mine(timer):
                continue
            claim = timer.get("claim")
            if claim and claim["until"] > real:
                continue
            now = self._clock(clocks, timer["api"], timer["tenant"])[0]
            if timer["at"] <= now:
                out.append((key, timer, now))
        out.sort(key=lambda row: (row[1]["at"], row[1].get("order", 0)))
        return out

    def next_wait(self) -> float | None:
        """Real seconds until the next job falls due (0: now; None: nothing will by waiting)."""
        real = time.time()
        clocks: dict[tuple[str, str], tuple[float, bool]] = {}
        best: float | None = None
        for _, timer in self.sandbox.store.items(TIMERS):
            if not self._mine(timer):
                continue
            claim = timer.get("claim")
            if claim and claim["until"] > real:
                wait = claim["until"] - real  # a runner that died frees it then
            else:
                now, frozen = self._clock(clocks, timer["api"], timer["tenant"])
                if timer["at"] <= now:
                    return 0.0
                if frozen:
                    continue
                wait = timer["at"] - now
            best = wait if best is None else min(best, wait)
        return best

    def _claim(self, key: str, now: float) -> str | None:
        token = uuid.uuid4().hex
        real = time.time()
        got: list[bool] = []

        def take(old: dict[str, Any] | None) -> dict[str, Any] | None:
            got.clear()
            if old is None or old["at"] > now or (old.get("claim") and old["claim"]["until"] > real):
                return old
            got.append(True)
            return {**old, "claim": {"token": token, "until": real + CLAIM_S, "holder": self.holder},
                    "rescheduled": False}

        self.sandbox.store.update(TIMERS, key, take)
        return token if got else None

    def _finish(self, key: str, token: str, result: float | None) -> None:
        def done(old: dict[str, Any] | None) -> dict[str, Any] | None:
            if old is None or (old.get("claim") or {}).get("token") != token:
                return old  # cancelled meanwhile, or no longer ours
            if old.get("rescheduled"):  # new work arrived while this ran: keep the earlier time
                at = old["at"] if result is None else min(float(old["at"]), float(result))
                return {**old, "at": at, "claim": None, "rescheduled": False}
            if result is None:
                return None
            return {**old, "at": float(result), "claim": None}

        self.sandbox.store.update(TIMERS, key, done)

    def run_one(self, key: str, timer: dict[str, Any], now: float) -> bool:
        """Claim and run one due job; False if another runner had it."""
        prepare = _PREPARERS.get(timer["kind"])
        if prepare is not None:  # outside the claim: nobody waits for it (see Api.prepare_due)
            try:
                prepare(self.sandbox, timer["api"], timer["tenant"], timer["ref"])
            except Exception:  # only a head start: the job itself still does all it needs
                log.exception("preparing scheduled job %s failed", key)
        token = self._claim(key, now)
        if token is None:
            return False
        handler = _HANDLERS.get(timer["kind"])
        try:
            result = None if handler is None else handler(self.sandbox, timer["api"], timer["tenant"], timer["ref"], now)
        except Exception:  # one broken job must not stop the others; it is tried again later
            log.exception("scheduled job %s failed; retried in %s s", key, RETRY_S)
            result = now + RETRY_S
        self._finish(key, token, result)
        self.ran += 1
        return True

    def run_if_due(self, kind: str, api: str, tenant: str, ref: str, wait: float = WAIT_S) -> bool:
        """Run one job now if it is due (claimed as usual): for an API whose answers must never show
        older state than the scheduler would have by now (a client's own request, or an in-process
        test with no thread). If the live lease holder is running it right now, wait for that (at
        most ``wait`` seconds; a claim of a dead process is never waited for). Cheap when nothing is
        due: one cached lookup."""
        key = timer_key(kind, api, tenant, ref)
        store = self.sandbox.store
        timer = store.lookup(TIMERS, key)
        deadline = time.time() + wait
        while timer is not None:
            claim = timer.get("claim")
            if not (claim and claim["until"] > time.time()):
                now = self.sandbox.clock.now(api, tenant)
                return timer["at"] <= now and self.run_one(key, timer, now)
            lease = store.get(LEASES, LEASE)
            alive = lease is not None and lease["holder"] == claim.get("holder") and lease["expires"] > time.time()
            if not alive or time.time() >= deadline:
                return False
            time.sleep(0.01)
            timer = store.get(TIMERS, key)  # uncached: the request's version snapshot would not move
        return False

    def run_due(self, kinds: set[str] | None = None, passes: int = MAX_PASSES) -> int:
        """Run every job that is due now (and what those make due at once); returns how many ran."""
        total = 0
        for _ in range(passes):
            ran = 0
            for key, timer, now in self.due(kinds):
                if self._stop.is_set() and self._thread is threading.current_thread():
                    return total
                ran += self.run_one(key, timer, now)
            total += ran
            if not ran:
                break
        return total

    # -- the thread ---------------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def _marks(self) -> tuple[int, int]:
        return self.sandbox.store.version(TIMERS), self.sandbox.clock.version()

    def start(self) -> None:
        """Start this process's scheduler thread (once per process; again after a fork)."""
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        self._stop.clear()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="sandbox-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        thread = self._thread
        self._stop.set()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        if self.holding:
            try:
                self.release_lease()
            except Exception:  # the store may be closed already; the lease then simply expires
                pass

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        renew_at = 0.0
        while not self._stop.is_set():
            try:
                real = time.time()
                if real >= renew_at:
                    renew_at = real + (RENEW_S if self.take_lease() else CHECK_S)
                if not self.holding:
                    self._sleep(renew_at, watch=False)
                    continue
                self.run_due()
                wait = self.next_wait()
                deadline = renew_at if wait is None else min(renew_at, time.time() + wait)
                self._sleep(deadline, watch=True)
            except Exception:  # never let the scheduler die: log, pause, go on
                log.exception("scheduler round failed")
                self._stop.wait(1.0)

    def _sleep(self, deadline: float, watch: bool) -> None:
        marks = self._marks() if watch else None
        while not self._stop.is_set():
            remaining = deadline - time.time()
            if remaining <= 0:
                return
            if self._wake.wait(min(remaining, WATCH_S) if watch else remaining):
                self._wake.clear()
                return
            if watch and self._marks() != marks:
                return

    def describe(self) -> dict[str, Any]:
        lease = self.lease()
        return {"running": self.running, "holder": self.holder, "holding": self.holding,
                "lease": lease, "pending": len(self.sandbox.store.items(TIMERS)), "next_wait": self.next_wait()}
