"""Shared fixtures.

``app``/``client`` build the sandbox from the factory with in-memory state. After every test
that used them, no response the sandbox sent may have broken its own schema: the gateway
records such responses in the violations log, and the ``app`` fixture fails the test if any.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from typing import Any, Iterator

import pytest

from mocks import create_app
from mocks.core.gateway import VIOLATIONS


def response_violations(app: Any) -> list[dict[str, Any]]:
    store = app.extensions["sandbox"].store
    return [v for v in store.values(VIOLATIONS) if v["direction"] == "response"]


def make_app(**config: Any) -> Any:
    config.setdefault("state", "memory")
    config.setdefault("testing", True)
    return create_app(config)


@pytest.fixture
def app_factory() -> Iterator[Any]:
    """Build apps with any config; each is checked for response violations at the end."""
    made: list[Any] = []

    def build(**config: Any) -> Any:
        app = make_app(**config)
        made.append(app)
        return app

    yield build
    for app in made:
        bad = response_violations(app)
        assert not bad, f"the sandbox sent responses that break its own schema: {bad}"


@pytest.fixture
def app(app_factory: Any) -> Any:
    return app_factory()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


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
