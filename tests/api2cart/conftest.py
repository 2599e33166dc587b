"""API2Cart helpers: the demo credentials and a caller that speaks the envelope."""
from __future__ import annotations

from typing import Any

import pytest

from mocks.api2cart import seed as S

API_KEY = S.ACCOUNTS[0]["api_key"]
SECOND_KEY = S.ACCOUNTS[1]["api_key"]
DISABLED_KEY = S.ACCOUNTS[2]["api_key"]
NO_ACCESS_KEY = S.ACCOUNTS[3]["api_key"]
SHOPIFY, WOO, MAGENTO, BOL, PRESTA = (S.store_key(API_KEY, n) for n in range(1, 6))
SECOND_SHOPIFY = S.store_key(SECOND_KEY, 1)


class A2C:
    def __init__(self, client: Any, store: str = SHOPIFY) -> None:
        self.client = client
        self.store = store

    def on(self, store: str) -> "A2C":
        """The same client, calling another store by default."""
        return A2C(self.client, store)

    def call(self, method: str, http: str = "GET", *, api_key: str | None = API_KEY, store_key: Any = "default",
             headers: bool = False, body: Any = None, **params: Any) -> dict[str, Any]:
        if store_key == "default":
            store_key = self.store
        query = {k: v for k, v in params.items() if v is not None}
        head = {}
        if headers:
            if api_key:
                head["x-api-key"] = api_key
            if store_key:
                head["x-store-key"] = store_key
        else:
            if api_key:
                query["api_key"] = api_key
            if store_key:
                query["store_key"] = store_key
        resp = self.client.open(f"/api2cart/v1.1/{method}.json", method=http, query_string=query, headers=head,
                                json=body)
        assert resp.status_code == 200, resp.get_data()
        data = resp.get_json()
        assert set(data) >= {"return_code", "return_message", "result"}, data
        return data

    def ok(self, method: str, http: str = "GET", **kw: Any) -> Any:
        data = self.call(method, http, **kw)
        assert data["return_code"] == 0, data
        return data["result"]

    def err(self, code: int, method: str, http: str = "GET", **kw: Any) -> str:
        data = self.call(method, http, **kw)
        assert data["return_code"] == code, data
        assert data["result"] == {}, data
        assert data["return_message"], data
        return data["return_message"]


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The live-shipping 2 s retry wait is recorded here instead of slept."""
    from mocks.api2cart import shipping
    slept: list[float] = []
    monkeypatch.setattr(shipping, "SLEEP", slept.append)
    return slept


def good_rates(req: dict[str, Any]) -> tuple[int, Any]:
    """A correct live-shipping callback: one packages_rates entry per package it was sent."""
    import json
    packages = json.loads(req["raw"])["packages"]
    return 200, {"packages_rates": [{"package_id": p["id"], "rates": [
        {"name": "Ground", "code": "ground", "currency": "USD", "total_cost": 10.56}]} for p in packages]}


@pytest.fixture
def a2c(client: Any) -> A2C:
    return A2C(client)


@pytest.fixture
def app(shared_app: Any) -> Any:
    """Only API2Cart mounted: faster to build, same checks (no response may break the contract)."""
    return shared_app(apis=["api2cart"])
