"""Fixtures: the stand-in "real service", a proxy in front of it, and a sandbox target, all on loopback."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from mocks.drift import proxy as P
from tests.conftest import make_app
from tests.drift import standin


@pytest.fixture
def real() -> Iterator[tuple[Any, str]]:
    """(the stand-in app, its URL)."""
    app = standin.build()
    with standin.serving(app) as url:
        yield app, url


@pytest.fixture
def proxy(real: tuple[Any, str]) -> Any:
    """A test client of the proxy app in front of the stand-in."""
    return P.build_app("api2cart", real[1], testing=True).test_client()


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    """A sandbox (same seed as the stand-in's) served on loopback: the diff's and seed-from's target."""
    app = make_app(apis=["api2cart"])
    with standin.serving(app) as url:
        yield url
