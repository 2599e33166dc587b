"""The sandbox object: config, store, clock, the mounted APIs and their tenants.

One per app (``app.extensions["sandbox"]``). Seeding happens here, once per tenant: a flag
in the store (written with an atomic ``add``) says a tenant is seeded, so workers that share a
backend never seed twice and a restarted server keeps what clients wrote.
"""
from __future__ import annotations

import gc
import logging
import threading
from typing import Any, Callable

from mocks.core.api import Api, Tenant
from mocks.core.clock import Clock
from mocks.core.config import SandboxConfig
from mocks.core import webhooks  # noqa: F401  (registers the scheduler's "webhook" handler)
from mocks.core.scheduler import Scheduler
from mocks.core.seed import seeded
from mocks.core.state import TenantState
from mocks.core.store import Store, open_store

META = "__sandbox__/meta"
SEEDED = "__sandbox__/seeded"
TENANTS = "__sandbox__/tenants"
SEED_EPOCH = 1_704_067_200.0  # 2024-01-01T00:00:00Z: seed data timestamps are relative to this


class Sandbox:
    def __init__(self, config: SandboxConfig, apis: list[Api], store: Store | None = None) -> None:
        self.config = config
        self.store = store or open_store(config.state, config.journal_size)
        self.clock = Clock(self.store)
        self.scheduler = Scheduler(self)  # its thread is started by create_app when serving
        self.apis: dict[str, Api] = {api.name: api for api in apis}
        self._tenant_cache: dict[str, tuple[int, dict[str, Tenant]]] = {}
        self._lock = threading.Lock()
        self._restore: Callable[[], None] | None = None  # set by checkpoint()
        self._freeze_after_warm = False  # set by after_fork(): a serving worker

    # -- tenants -----------------------------------------------------------------
    def state(self, api: str, tenant: str) -> TenantState:
        return TenantState(self.store, api, tenant, self.clock, self.config.api_options(api))

    def tenants(self, api: str) -> dict[str, Tenant]:
        """Every tenant of an API: the built-in ones and those created at run time.

        For an API whose built-in tenants come from configuration only (``Api.static_tenants``)
        the answer is cached until a tenant is registered (the hot path of authentication).
        """
        namespace = f"{TENANTS}/{api}"
        static = self.apis[api].static_tenants
        if static:
            version = self.store.version(namespace)
            hit = self._tenant_cache.get(api)
            if hit is not None and hit[0] == version:
                return hit[1]
        builtin = {t.id: t for t in self.apis[api].tenants(self)}
        for key, value in self.store.items(namespace):
            builtin.setdefault(key, Tenant(key, value.get("credentials", {}), value.get("seeded", False)))
        if static:
            self._tenant_cache[api] = (version, builtin)
        return builtin

    def register_tenant(self, api: str, tenant: Tenant) -> bool:
        """Record a tenant created at run time (e.g. a store added through API2Cart)."""
        added = self.store.add(f"{TENANTS}/{api}", tenant.id,
                               {"credentials": tenant.credentials, "seeded": tenant.seeded})
        if added and tenant.seeded:
            self.seed_tenant(api, tenant.id)
        return added

    def seed_tenant(self, api: str, tenant: str, force: bool = False) -> bool:
        """Seed one tenant unless it already is; True if this call seeded it."""
        key = f"{api}/{tenant}"
        if force:
            self.store.clear(f"{api}/{tenant}/")
            self.store.delete(SEEDED, key)
        if self.store.lookup(SEEDED, key) is not None:
            return False
        if not self.store.add(SEEDED, key, {"seed": self.config.seed, "status": "seeding"}):
            return False
        ctx = seeded(self.config.seed, api, tenant, options=self.config.api_options(api), now=SEED_EPOCH)
        self.apis[api].seed(self.state(api, tenant), ctx)
        self.store.put(SEEDED, key, {"seed": self.config.seed, "status": "seeded"})
        return True

    def seed_all(self, progress: Callable[[str, str, int, int], None] | None = None) -> None:
        """Seed every built-in tenant not seeded yet; ``progress(api, tenant, done, total)`` after each."""
        todo = self.unseeded()
        for done, (name, tenant) in enumerate(todo, 1):
            self.seed_tenant(name, tenant)
            if progress is not None:
                progress(name, tenant, done, len(todo))

    def unseeded(self) -> list[tuple[str, str]]:
        """``(api, tenant)`` of every built-in tenant that is not seeded yet (nor being seeded)."""
        return [(name, t.id) for name, api in self.apis.items() for t in api.tenants(self)
                if t.seeded and self.store.lookup(SEEDED, f"{name}/{t.id}") is None]

    # -- this process's background work -------------------------------------------
    def start(self) -> None:
        """Start this process's threads: the scheduler's (``config.runs_scheduler``; the lease picks
        the one process that runs due work) and, in a serving process, the warm-up."""
        if self.config.runs_scheduler:
            self.scheduler.start()
        if self.config.background and not self.config.testing:
            self.warm()  # search indexes of big collections built in the background

    def before_fork(self) -> None:
        """Nothing this process opened may be used after a fork: close its store connections
        (each process opens its own on first use). Call it with no thread of this sandbox running.
        What was built so far (the app, the contracts) is set aside from the garbage collector
        (``gc.freeze``): a worker's full collections no longer walk it, nor write to its pages."""
        self.store.close()
        gc.collect()
        gc.freeze()

    def after_fork(self) -> None:
        """In a process forked from the one that built the app (a gunicorn worker, ``serve``):
        a scheduler of its own (its own lease holder name: the master's would be shared by every
        worker), then this process's threads; what the warm-up builds is set aside from the garbage
        collector once it is built."""
        self.scheduler = Scheduler(self)
        self._freeze_after_warm = True
        self.start()

    def warm(self) -> threading.Thread:
        """Each API's :meth:`Api.warm` in one background thread of this process (a serving worker
        starts it once it is up; requests are answered meanwhile)."""
        def run() -> None:
            for api in self.apis.values():
                try:
                    api.warm(self)
                except Exception:  # noqa: BLE001 - a cache built later, on first use, instead
                    logging.getLogger("commerce_sandbox").exception("warming %s", api.name)
            if self._freeze_after_warm:
                # the search indexes of big collections live as long as the process: full
                # collections (tens of ms beside a search, issue 16) need not walk them
                gc.collect()
                gc.freeze()

        thread = threading.Thread(target=run, name="sandbox-warm", daemon=True)
        thread.start()
        return thread

    def reset(self, api: str | None = None, tenant: str | None = None) -> list[str]:
        """Back to the seeded state; returns the ``api/tenant`` pairs that were reset."""
        names = [api] if api else list(self.apis)
        done: list[str] = []
        for name in names:
            if tenant is None:
                self.store.clear(f"{name}/")
                self.store.clear(f"{TENANTS}/{name}")
                if api is not None:
                    self.clock.reset(name)
                for key, _ in list(self.store.items(SEEDED)):
                    if key.startswith(f"{name}/"):
                        self.store.delete(SEEDED, key)
                for t in self.apis[name].tenants(self):
                    if t.seeded:
                        self.seed_tenant(name, t.id)
                    done.append(f"{name}/{t.id}")
            else:
                self.store.clear(f"{name}/{tenant}/")
                self.store.delete(SEEDED, f"{name}/{tenant}")
                self.clock.reset(name, tenant)
                known = self.tenants(name).get(tenant)
                if known is not None and known.seeded:
                    self.seed_tenant(name, tenant)
                done.append(f"{name}/{tenant}")
        if api is None and tenant is None:
            self.clock.reset()
            self.store.journal_clear()
            self.store.clear("__sandbox__/violations")
        return done

    # -- checkpoint: the fast way back to "just built" (test suites, between tests) -------------
    def checkpoint(self) -> bool:
        """Remember the whole state as it is now (call it right after the app is built): data,
        scenarios and their counters, webhooks, clock, journal, violations. False if the store
        cannot snapshot itself (only the memory store can); then ``restore`` is not available."""
        snapshot = getattr(self.store, "snapshot", None)
        self._restore = snapshot() if snapshot is not None else None
        return self._restore is not None

    def restore(self) -> None:
        """Back to the checkpoint, in the time the writes since took (``reset`` re-seeds instead)."""
        restore = self._restore
        if restore is None:
            raise RuntimeError("restore() needs a checkpoint() on a store that can snapshot (memory)")
        restore()
        self._tenant_cache.clear()

    def credentials(self) -> dict[str, Any]:
        return {name: api.credentials(self) for name, api in self.apis.items()}
