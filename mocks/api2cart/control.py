"""Sandbox-only API2Cart operations: ``/__sandbox/api2cart`` (behind the control plane's guard).

They stand in for what happens outside the API: a store owner clicking "Connect" in a Plugin
Builder plugin, and a store's checkout asking a live shipping service for rates. Not part of the
emulated API or its OpenAPI document; errors come in the control plane's shape.

| route | body | does |
|---|---|---|
| ``POST /plugin/connect`` | ``{"callback", "public_key" (PEM), "cart_id", "store_url", "store_root"?, "bridge_url"?, "api_key"?}`` | sends the encrypted Connect webhook (``plugin.py``) |
| ``POST /live-shipping/rates`` | ``{"store_key", "service_id", "packages"?, "api_key"?}`` | the store requests rates; the service's ``callback_err_cnt`` is kept (``shipping.py``) |

``api_key`` defaults to the first demo account's.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from mocks.api2cart import errors as X
from mocks.api2cart import models as M
from mocks.api2cart import plugin, shipping
from mocks.core import errors as E
from mocks.core.chain.validate import parse_json
from mocks.core.http import json_response, sandbox


def _body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    data = parse_json(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise E.BadRequest("the body must be a JSON object")
    return data


def _account(body: dict[str, Any]) -> dict[str, Any]:
    from mocks.api2cart import seed
    from mocks.api2cart.auth import find_account

    key = body.get("api_key") or seed.ACCOUNTS[0]["api_key"]
    account = find_account(str(key))
    if account is None:
        raise E.NotFound("no API2Cart account with this api_key; see GET /__sandbox/credentials")
    return account


def _control(error: X.A2CError) -> E.SandboxError:
    """An API2Cart error as the control plane's: 404 for what does not exist, else 400."""
    return E.NotFound(error.message) if error.return_code in (4, 112) else E.BadRequest(error.message)


def build() -> Blueprint:
    bp = Blueprint("api2cart_control", __name__)

    @bp.post("/plugin/connect")
    def connect():
        body = _body()
        try:
            return json_response(plugin.connect(sandbox(), _account(body), body), 202)
        except X.A2CError as exc:
            raise _control(exc) from None

    @bp.post("/live-shipping/rates")
    def rates():
        body = _body()
        account = _account(body)
        sb = sandbox()
        store = M.Account(sb.state("api2cart", M.account_tenant_id(account["api_key"]))).by_key(
            str(body.get("store_key") or ""))
        if store is None:
            raise E.NotFound("no store with this store_key in the account")
        packages = body.get("packages")
        if packages is not None and (not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages)):
            raise E.BadRequest("packages must be an array of package objects (the FAQ's rate request shape)")
        data = M.StoreData(sb.state("api2cart", store["tenant"]), store["cart_id"])
        try:
            result = shipping.request_rates(sb, data, account["api_key"], str(body.get("service_id") or ""),
                                            {"packages": packages} if packages else None)
        except X.A2CError as exc:
            raise _control(exc) from None
        return json_response(result)

    return bp
