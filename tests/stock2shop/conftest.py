"""Stock2Shop fixtures: an app with only this API mounted (fast, and independent of the others)."""
from __future__ import annotations

from typing import Any

import pytest

P = "/stock2shop"
PASSWORD_SUFFIX = "-s2s-demo"


@pytest.fixture
def s2s_factory(shared_app):
    """``s2s_factory(**stock2shop options)``: the session's app for those options, just built (a second
    call with the same options in one test gives a second, new app)."""
    def build(**options: Any) -> Any:
        opts = {"products": 40, "orders": 20, "customers": 15, **options}
        return shared_app(apis=["stock2shop"], options={"stock2shop": opts})
    return build


@pytest.fixture
def s2s(s2s_factory):
    return s2s_factory()


@pytest.fixture
def c(s2s):
    return s2s.test_client()


def login(client: Any, username: str, password: str | None = None) -> str:
    r = client.post(f"{P}/v1/users/authenticate?format=json",
                    json={"system_user_auth": {"username": username, "password": password or username + PASSWORD_SUFFIX}})
    assert r.status_code == 200, r.json
    return r.json["system_user"]["token"]


def search(client: Any, token: str, body: Any, what: str = "products") -> Any:
    return client.post(f"{P}/v1/{what}/elastic_search?token={token}", json=body)


def advance(client: Any, seconds: float) -> None:
    r = client.post("/__sandbox/clock", json={"advance_seconds": seconds})
    assert r.status_code == 200


def assert_error(r: Any, status: int, type_: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.json)
    err = r.json["error"]
    assert err["code"] == status and isinstance(err["message"], str) and err["message"]
    if type_ is not None:
        assert err["type"] == type_, err
    return err
