"""pytest plugin (entry point ``pytest11``): test a connector against the sandbox.

Fixtures:

``sandbox``
    the sandbox in-process: ``sandbox.app`` (Flask), ``sandbox.client`` (its test client),
    ``sandbox.credentials``, plus helpers (``reset``, ``advance_clock``, ``requests``,
    ``violations``, ``assert_no_violations``). Memory state, fresh for each test.
``sandbox_server``
    a live sandbox on a free loopback port, served from a thread: ``sandbox_server.url``,
    ``sandbox_server.api_url("stock2shop")``, the same helpers over HTTP. For a connector that
    opens its own connections.
``sandbox_server_factory``
    ``sandbox_server_factory(apis=["xtnd"], state="sqlite", seed=3, scenarios=[...], options={...})``
    starts more (or differently configured) live sandboxes; all stop at the end of the test.
``sandbox_scenario``
    ``with sandbox_scenario("flaky-5xx"):`` activates a library scenario (or an inline definition
    with ``rules``) for the block and deactivates it after, on ``sandbox_server`` if the test
    uses it, else ``sandbox`` (``target=`` picks one).

No background thread sends webhooks: ``deliver_webhooks()`` sends what is due (pass
``background=True`` to the factory for the real sender). Configure ``sandbox`` and
``sandbox_server`` with a marker:
``@pytest.mark.sandbox(apis=["click2sync"], seed=7, state="sqlite", strict=True)``;
``strict=True`` fails the test if any request the connector sent broke the contract (the
sandbox's ``/__sandbox/violations``).
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import pytest

MARKER = "sandbox"
CONTROL = "/__sandbox"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sandbox(apis=None, seed=1, state='memory', scenarios=(), options=None, strict=False): "
        "configure the commerce-sandbox fixtures `sandbox` and `sandbox_server`")


def _marker_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    return dict(marker.kwargs) if marker else {}


def _config(apis: list[str] | None = None, seed: int = 1, state: str = "memory", scenarios: Any = (),
            options: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    config = {"state": state, "seed": seed, "testing": True, "background": False,
              "scenarios": list(scenarios), "options": options or {}, **extra}
    if apis:
        config["apis"] = list(apis)
    if config.get("background"):
        config["testing"] = False  # the sandbox starts its webhook sender only outside testing mode
    return config


class _Helpers:
    """What both kinds of sandbox offer, over ``self._call(method, path, json=..., params=...)``."""

    def _call(self, method: str, path: str, **kw: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def credentials(self) -> dict[str, Any]:
        return self._call("GET", "/credentials")

    def reset(self, api: str | None = None, tenant: str | None = None) -> Any:
        body = {k: v for k, v in (("api", api), ("tenant", tenant)) if v}
        return self._call("POST", "/reset", json=body)

    def advance_clock(self, seconds: float) -> Any:
        """Move the sandbox clock (token expiry, queues, webhook retries) without sleeping."""
        return self._call("POST", "/clock", json={"advance_seconds": seconds})

    def deliver_webhooks(self) -> int:
        """Send the outbound webhooks that are due now (the fixtures run no background sender)."""
        return self._call("POST", "/webhooks/deliver")["attempted"]

    def webhooks(self, **filters: Any) -> list[dict[str, Any]]:
        """Outbound deliveries: target, payload, signature, attempts, result."""
        return self._call("GET", "/webhooks", params=filters)["webhooks"]

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """The request journal, newest first (filters: api, tenant, method, path, status)."""
        return self._call("GET", "/requests", params=filters)["requests"]

    def violations(self, direction: str | None = None, api: str | None = None) -> list[dict[str, Any]]:
        """Requests (``direction="request"``: the connector's fault) and responses that broke the contract."""
        params = {k: v for k, v in (("direction", direction), ("api", api)) if v}
        return self._call("GET", "/violations", params=params)["violations"]

    def clear_violations(self) -> None:
        self._call("DELETE", "/violations")

    def assert_no_violations(self, direction: str | None = None) -> None:
        found = self.violations(direction)
        if found:
            lines = [f"{v['direction']} {v['method']} {v['path']} ({v.get('operation')}): "
                     + "; ".join(f"{e.get('pointer') or '/'}: {e.get('reason')}" for e in v.get("errors", []))
                     for v in found[::-1]]
            raise AssertionError(f"{len(found)} contract violation(s):\n  " + "\n  ".join(lines))

    def activate_scenario(self, scenario: str | dict[str, Any], tenant: str | None = None,
                          seed: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": scenario} if isinstance(scenario, str) else dict(scenario)
        for key, value in (("tenant", tenant), ("seed", seed)):
            if value is not None:
                body[key] = value
        return self._call("POST", "/scenarios", json=body)["scenario"]

    def deactivate_scenario(self, name: str, tenant: str | None = None) -> None:
        self._call("DELETE", f"/scenarios/{name}", json={"tenant": tenant} if tenant else None)


class InProcessSandbox(_Helpers):
    """The sandbox app and its Flask test client, in this process."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()
        self.state = app.extensions["sandbox"]

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        response = self.client.open(CONTROL + path, method=method, json=kw.get("json"),
                                    query_string=kw.get("params"))
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {CONTROL}{path} answered {response.status_code}: {response.get_data(True)}")
        return response.get_json()

    def api_path(self, api: str) -> str:
        """The prefix an API is mounted at, e.g. ``/stock2shop`` (for ``sandbox.client``)."""
        return self.state.apis[api].prefix


class LiveServer:
    """Any WSGI app (a sandbox, a fake receiver, a connector's own stub) answering real HTTP on a
    free loopback port, served from a thread: ``url``, ``port``, ``stop()``."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"live-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()


class LiveSandbox(LiveServer, _Helpers):
    """A sandbox answering real HTTP on a loopback port, served from a thread."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.state = app.extensions["sandbox"]
        import requests

        self.http = requests.Session()

    def api_url(self, api: str) -> str:
        """The base URL of one API, e.g. ``http://127.0.0.1:PORT/stock2shop``."""
        return self.url + self.state.apis[api].prefix

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        response = self.http.request(method, self.url + CONTROL + path, json=kw.get("json"),
                                     params=kw.get("params"), timeout=30)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {CONTROL}{path} answered {response.status_code}: {response.text}")
        return response.json()

    def stop(self) -> None:
        super().stop()
        self.http.close()
        with contextlib.suppress(Exception):
            self.state.store.close()


def _build(config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    from mocks.app import create_app

    config = dict(config)
    if config.get("state") == "sqlite":  # a private file per sandbox, not ./.sandbox/state.db
        config["state"] = f"sqlite:///{tmp_path_factory.mktemp('sandbox') / 'state.db'}"
    return create_app(config)


def _strict_check(handle: _Helpers, strict: bool) -> None:
    if strict:
        handle.assert_no_violations("request")


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessSandbox]:
    """The sandbox in-process (app + test client), memory state unless the marker says otherwise."""
    options = _marker_config(request)
    strict = bool(options.pop("strict", False))
    handle = InProcessSandbox(_build(_config(**options), tmp_path_factory))
    yield handle
    try:
        _strict_check(handle, strict)
    finally:
        handle.state.store.close()


@pytest.fixture
def sandbox_server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``factory(apis=None, state="memory", seed=1, scenarios=(), options=None, **config) -> LiveSandbox``."""
    started: list[LiveSandbox] = []

    def start(**options: Any) -> LiveSandbox:
        handle = LiveSandbox(_build(_config(**options), tmp_path_factory))
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()


@pytest.fixture
def sandbox_server(request: pytest.FixtureRequest, sandbox_server_factory: Any) -> Iterator[LiveSandbox]:
    """A live sandbox on a free port (configured by the ``sandbox`` marker)."""
    options = _marker_config(request)
    strict = bool(options.pop("strict", False))
    handle = sandbox_server_factory(**options)
    yield handle
    _strict_check(handle, strict)


@pytest.fixture
def sandbox_scenario(request: pytest.FixtureRequest) -> Iterator[Any]:
    """``with sandbox_scenario(name_or_definition, tenant=None, seed=None, target=None) as record:``"""
    active: list[tuple[_Helpers, str, str | None]] = []

    def default_target() -> _Helpers:
        for name in ("sandbox_server", "sandbox"):
            if name in request.fixturenames:
                return request.getfixturevalue(name)
        raise pytest.UsageError("sandbox_scenario needs the sandbox or sandbox_server fixture (or target=)")

    @contextlib.contextmanager
    def activate(scenario: str | dict[str, Any], tenant: str | None = None, seed: int | None = None,
                 target: _Helpers | None = None) -> Iterator[dict[str, Any]]:
        handle = target or default_target()
        record = handle.activate_scenario(scenario, tenant=tenant, seed=seed)
        entry = (handle, record["name"], tenant)
        active.append(entry)
        try:
            yield record
        finally:
            active.remove(entry)
            handle.deactivate_scenario(record["name"], tenant)

    yield activate
    for handle, name, tenant in active:  # a block left without its finally (should not happen)
        with contextlib.suppress(Exception):
            handle.deactivate_scenario(name, tenant)
