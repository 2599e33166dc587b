"""Shared fixtures.

``app``/``client`` are the sandbox with in-memory state, every API mounted. The app is built
once per session for each configuration (``shared_app(**config)``; the per-API conftests use it
with their own configuration) and brought back to its just-built state before each reuse by
``Sandbox.restore()``: data, scenarios and their counters, webhooks, clock, journal, violations
and the response cache (tests/core/test_fresh_reset.py proves a restored app is a fresh one).
``app_factory(**config)`` still builds a new app for a test that needs one of its own.

After every test, no response the sandbox sent may have broken its own schema: the gateway
records such responses in the violations log, and these fixtures fail the test if any.

``serve(wsgi_app)`` serves any WSGI app (a sandbox, or a test's own receiver or storefront) on a
free loopback port from a thread, with the pytest plugin's ``LiveServer``; it answers the base URL.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import statistics
import subprocess
import time
from typing import Any, Callable, Iterator

import pytest

from mocks import create_app
from mocks.core.gateway import VIOLATIONS
from mocks.pytest_plugin import LiveServer


def response_violations(app: Any) -> list[dict[str, Any]]:
    store = app.extensions["sandbox"].store
    return [v for v in store.values(VIOLATIONS) if v["direction"] == "response"]


def assert_no_response_violations(app: Any) -> None:
    bad = response_violations(app)
    assert not bad, f"the sandbox sent responses that break its own schema: {bad}"


@functools.lru_cache(maxsize=None)
def validate_openapi_document(api: str) -> None:
    """openapi-spec-validator on the API's bundled document (raises if it is invalid). It takes
    seconds per document; a document that passed is not validated again in the same session."""
    from openapi_spec_validator import validate

    from mocks.core.contracts import load_document

    validate(load_document(api))


def make_app(**config: Any) -> Any:
    config.setdefault("state", "memory")
    config.setdefault("testing", True)
    return create_app(config)


@pytest.fixture
def app_factory() -> Iterator[Any]:
    """Build new apps with any config; each is checked for response violations at the end."""
    made: list[Any] = []

    def build(**config: Any) -> Any:
        app = make_app(**config)
        made.append(app)
        return app

    yield build
    for app in made:
        assert_no_response_violations(app)


# -- one app per configuration per session, restored between tests ------------------------------
class AppPool:
    """Memory-state apps built once per configuration and restored to their checkpoint on reuse."""

    def __init__(self) -> None:
        self._apps: dict[str, tuple[Any, Any, Any]] = {}  # config key -> (app, fingerprint, cache limits)
        self.built = 0
        self.restores_ms: list[float] = []

    @staticmethod
    def key(config: dict[str, Any]) -> str:
        return json.dumps(config, sort_keys=True, default=repr)

    @staticmethod
    def fingerprint(app: Any) -> Any:
        """What a test could change on the app object itself (not its state): then it is not reused."""
        sandbox = app.extensions["sandbox"]
        hooks = tuple((name, tuple((k, tuple(map(id, v))) for k, v in getattr(app, name).items() if v))
                      for name in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs",
                                   "url_value_preprocessors", "url_default_functions"))
        handlers = tuple((bp, code, exc, id(fn)) for bp, codes in app.error_handler_spec.items()
                         for code, by_class in codes.items() for exc, fn in by_class.items())
        return (repr(dict(app.config)), repr(sandbox.config), len(list(app.url_map.iter_rules())), hooks,
                handlers, tuple((k, id(v)) for k, v in app.view_functions.items()),
                tuple((name, id(ext)) for name, ext in app.extensions.items()), tuple(sandbox.apis))

    def acquire(self, config: dict[str, Any]) -> Any:
        key = self.key(config)
        held = self._apps.get(key)
        if held is None:
            app = make_app(**config)
            self.built += 1
            if not app.extensions["sandbox"].checkpoint():
                return app  # a store that cannot snapshot: never shared
            cache = app.extensions.get("response_cache")
            limits = (cache.max_bytes, cache.max_entry) if cache is not None else None
            self._apps[key] = (app, self.fingerprint(app), limits)
            return app
        app, _, limits = held
        started = time.perf_counter()
        restore_app(app, limits)
        self.restores_ms.append((time.perf_counter() - started) * 1000)
        return app

    def release(self, config: dict[str, Any], app: Any) -> None:
        """After a test: an app whose object (not state) the test changed is dropped from the pool."""
        key = self.key(config)
        held = self._apps.get(key)
        if held is not None and held[0] is app and self.fingerprint(app) != held[1]:
            del self._apps[key]

    def summary(self) -> str | None:
        if not self.restores_ms:
            return None
        ms = sorted(self.restores_ms)
        return (f"app pool: {self.built} apps built, {len(ms)} restores between tests: median "
                f"{statistics.median(ms):.2f} ms, p95 {ms[int(len(ms) * 0.95)]:.2f} ms, max {ms[-1]:.1f} ms, "
                f"total {sum(ms) / 1000:.2f} s")


def restore_app(app: Any, cache_limits: tuple[int, int] | None) -> None:
    """Back to the state the app had when it was built: the store (``Sandbox.restore``) and the
    per-process response cache (entries, counters and size limits)."""
    app.extensions["sandbox"].restore()
    cache = app.extensions.get("response_cache")
    if cache is not None and cache_limits is not None:
        cache.clear()
        cache.hits = cache.misses = 0
        cache.max_bytes, cache.max_entry = cache_limits


_POOL = AppPool()


@pytest.fixture
def shared_app() -> Iterator[Callable[..., Any]]:
    """``shared_app(**config)``: the session's app for this config (memory state), in its just-built
    state. Asking twice for one config in the same test gives a second, new app (two independent
    sandboxes stay two). Checked for response violations at the end of the test."""
    held: list[tuple[dict[str, Any], Any]] = []

    def get(**config: Any) -> Any:
        config.setdefault("state", "memory")
        config.setdefault("testing", True)
        if config["state"] != "memory" or any(_POOL.key(c) == _POOL.key(config) for c, _ in held):
            app = make_app(**config)
        else:
            app = _POOL.acquire(config)
        held.append((config, app))
        return app

    yield get
    try:
        for _, app in held:
            assert_no_response_violations(app)
    finally:
        for config, app in held:
            _POOL.release(config, app)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    line = _POOL.summary()
    if line:
        terminalreporter.write_line(line)


# -- pytest-xdist: `make test` runs the suite on every core ----------------------------------------
# Each worker is a process of its own: its own AppPool, its own redis-server (``redis_url``), its own
# tmp_path. Tests are handed out in chunks that never split a module (``pytest_xdist_make_scheduler``
# below), so a module-scoped fixture (a server process, the installed wheel's venv) starts once.
# (Not ``--dist loadscope``: it keys tests by node id, and schemathesis gives every operation of a
# contract test the same node id, so it would run one operation of each and drop the others.)
#: handed out before everything else (the longest module: a wheel built and installed in a fresh venv)
FIRST = ("tests/installed/",)


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the order tests are handed out: the ``FIRST`` modules, the modules marked
    ``slow`` (real server processes), the contract suites, then the rest, each in collection order.
    The long modules then run while the many short ones fill the other workers, instead of one of
    them ending the run alone."""
    if not hasattr(config, "workerinput"):
        return

    def rank(item: pytest.Item) -> int:
        path = module_of(item.nodeid)
        if path.startswith(FIRST):
            return 0
        if item.get_closest_marker("slow") is not None:
            return 1
        return 2 if path.startswith("contract_tests/") else 3

    items.sort(key=rank)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist load`` (what ``-n`` does by default), handing out one whole module at a time: a worker
    gets the next module when it has one test left (a worker runs a test once it knows the next one).
    A module runs whole on one worker, the tests go by index, and the run ends with at most one short
    module on one worker instead of a long queue that nobody else may take."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScheduling

    class WholeModules(LoadScheduling):
        def _send_tests(self, node: Any, num: int) -> None:  # num is ignored: the next module
            if not self.pending:
                return
            assert self.collection is not None
            first, n = module_of(self.collection[self.pending[0]]), 1
            while n < len(self.pending) and module_of(self.collection[self.pending[n]]) == first:
                n += 1
            super()._send_tests(node, n)

        def check_schedule(self, node: Any, duration: float = 0) -> None:
            if node.shutting_down:
                return
            if not self.pending:
                node.shutdown()
                return
            while self.pending and len(self.node2pending[node]) < 2:
                self._send_tests(node, 1)

        def schedule(self) -> None:
            super().schedule()
            for node in self.nodes:
                self.check_schedule(node)

    return WholeModules(config, log)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand this worker's AppPool figures to the controller's summary."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["app_pool"] = {"built": _POOL.built, "restores_ms": _POOL.restores_ms}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """On the xdist controller: add a finished worker's AppPool figures to the summary line."""
    figures = getattr(node, "workeroutput", {}).get("app_pool")
    if figures:
        _POOL.built += figures["built"]
        _POOL.restores_ms.extend(figures["restores_ms"])


@pytest.fixture
def app(shared_app: Any) -> Any:
    return shared_app()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """``serve(wsgi_app) -> "http://127.0.0.1:PORT"``; every server stops at the end of the test."""
    servers: list[LiveServer] = []

    def start(wsgi_app: Any) -> str:
        server = LiveServer(wsgi_app)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for the session; installs the Debian package if it can."""
    binary = shutil.which("redis-server")
    if binary is None:
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "redis-server"],
                       capture_output=True, timeout=300, check=False)
        binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed and could not be installed")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.skip("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)
