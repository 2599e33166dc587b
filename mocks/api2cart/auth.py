"""API2Cart credentials -> tenant: the ``api_key`` (header ``x-api-key`` or query) names the
account, the ``store_key`` (header ``x-store-key`` first, or query) one of its stores.

Called by the request chain (``Api2Cart.authenticate``), never by a route; the routes read the
:class:`Principal` through ``mocks.core.http.principal()``.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Callable

from mocks.api2cart import errors as X
from mocks.api2cart import models as M
from mocks.api2cart import seed
from mocks.core.api import Identity

PREFIX = "/v1.1/"


#: methods the official document serves at ``{method}.file`` (a file, not the JSON envelope)
FILE_METHODS = frozenset({"bridge.download"})


def method_name(path: str) -> str:
    """``/api2cart/v1.1/product.list.json`` -> ``product.list``; ``.../bridge.download.file`` ->
    ``bridge.download`` ('' when the path names none)."""
    idx = path.find(PREFIX)
    if idx < 0:
        return ""
    name = path[idx + len(PREFIX):]
    if name.endswith(".json"):
        return name[:-5]
    return name[:-5] if name.endswith(".file") and name[:-5] in FILE_METHODS else ""


def _credential(request: Any, query: str, header: str) -> str | None:
    value = request.headers.get(header) or request.args.get(query)
    return value.strip() if value and value.strip() else None


@dataclass(frozen=True)
class Principal:
    """What authentication found: the account (and its tenant) and, for a store method, the store."""

    account: dict[str, Any]
    account_tid: str
    store: dict[str, Any] | None = None
    bridge_key: str | None = None  # scope "bridge": the store key whose bridge is asked for


def find_account(api_key: str) -> dict[str, Any] | None:
    for account in seed.ACCOUNTS:
        if hmac.compare_digest(account["api_key"].encode(), api_key.encode()):
            return account
    return None


def authenticate(request: Any, sandbox: Any, scope_of: Callable[[str], str | None]) -> Identity:
    """The tenant (a store, or the account for ``account.*`` methods) and the principal, or the
    vendor's return code: 2/5/6 for the API key, 4/104 for the store key. ``scope_of(method)`` is the
    routes' table (``routes.scope_of``)."""
    name = method_name(request.path)
    api_key = request.headers.get("x-api-key") or request.args.get("api_key")
    if not api_key:
        raise X.A2CError(2, "Incorrect API Key. Parameter 'api_key' is not specified")
    account = find_account(api_key.strip())
    if account is None:
        raise X.incorrect_api_key()
    if account.get("disabled"):
        raise X.A2CError(6)
    if account.get("api_access") is False:
        raise X.A2CError(5)
    account_tid = M.account_tenant_id(account["api_key"])
    scope = scope_of(name)
    if scope is None or scope == "account":
        return Identity(account_tid, Principal(account, account_tid))
    # a store method: x-store-key header first (account.cart.list uses store_key as a filter)
    store_key = _credential(request, "store_key", "x-store-key")
    if store_key is None:
        raise X.A2CError(4, "Store access denied. Parameter 'store_key' is not specified")
    account_state = sandbox.state("api2cart", account_tid)
    store = M.Account(account_state).by_key(store_key)
    if scope == "bridge":  # bridge.download: a key cart.bridge issued, or a bridge store's own key
        if store is None and M.Bridges(account_state).get(store_key) is None:
            raise X.store_access_denied()
        return Identity(account_tid, Principal(account, account_tid, store, bridge_key=store_key))
    if store is None:
        raise X.store_access_denied()
    if not store.get("connected", True):
        raise X.A2CError(104, f"Store '{store['url'] or store['cart_id']}' is not connected. Reconnect the bridge.")
    tenant = account_tid if scope == "account+store" else store["tenant"]
    return Identity(tenant, Principal(account, account_tid, store))
