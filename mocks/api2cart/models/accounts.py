"""API2Cart accounts and their stores: the tenant ids and keys, one API key's registry of stores
(``account.cart.add``/``list``/``config``, ``cart.delete``) and ``cart.info``."""
from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any, Iterable

from mocks.api2cart import errors as X
from mocks.api2cart.models.bridges import Bridges
from mocks.api2cart.models.params import Params, parse_date, select
from mocks.api2cart.models.platforms import (API_CARTS, BRIDGE_CARTS, BRIDGE_VERSION, CONNECT_VALUES, CURRENCY,
                                             NO_URL_CARTS, VERSIONS, _cred_names, _cred_prefix, cart_name, db_prefix)
from mocks.core.state import TenantState


def store_tenant_id(store_key: str) -> str:
    return "a2c-s-" + hashlib.sha256(store_key.encode()).hexdigest()[:12]


def account_tenant_id(api_key: str) -> str:
    return "a2c-a-" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


def new_key(*parts: Any) -> str:
    """A 32-hex key like the vendor's (deterministic: derived from its parts)."""
    return hashlib.md5(":".join(str(p) for p in parts).encode()).hexdigest()


def norm_url(url: str) -> str:
    return re.sub(r"^https?://", "", (url or "").strip().lower()).rstrip("/")


CART_FIELDS = ("custom_label", "bridge_url", "store_root", "db_tables_prefix", "user_agent")


class Account:
    """One API key's registry of stores (lives in the account tenant's state)."""

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.stores = state.collection("stores")

    def all(self) -> list[dict[str, Any]]:
        return self.stores.values()

    def by_key(self, store_key: str) -> dict[str, Any] | None:
        import hmac
        for store in self.stores.values():
            if hmac.compare_digest(store["store_key"].encode(), store_key.encode()):
                return store
        return None

    def put(self, store: dict[str, Any]) -> None:
        self.stores.put(store["tenant"], store)

    def add(self, p: Params, api_key: str, cart_ids: Iterable[str]) -> dict[str, Any]:
        cart_id = p.need("cart_id")
        if cart_id not in set(cart_ids):
            raise X.A2CError(109, f"Parameter 'cart_id' is not valid. Cart '{cart_id}' is not supported.")
        url = p.str("store_url")
        if url is None and cart_id not in NO_URL_CARTS:
            raise X.required("store_url")
        if url is not None and not re.fullmatch(r"https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?(/\S*)?", url, re.ASCII):
            raise X.A2CError(100, f"Incorrect store URL '{url}'. The store is not reachable.")
        creds: dict[str, Any] = {}
        bridge = cart_id in BRIDGE_CARTS
        store_key = p.str("store_key")
        if bridge:
            self._check_bridge(p, store_key)
        else:
            sets = API_CARTS.get(cart_id, (cart_id, [()]))[1]
            if not any(all(n in p for n in s) for s in sets):
                closest = max(sets, key=lambda s: sum(n in p for n in s))  # the set the caller began
                raise X.required(next(n for n in closest if n not in p))
            for name, allowed in CONNECT_VALUES.items():
                value = p.str(name)
                if value is not None and value.strip().lower() not in allowed:
                    raise X.A2CError(109, f"Parameter '{name}' is not valid. Allowed values: {', '.join(allowed)}.")
            prefix = _cred_prefix(cart_id)
            if "hybris_websites" in p:
                p.data["hybris_websites"] = hybris_websites(p.get("hybris_websites"))
            for name, value in p.data.items():
                if prefix and name.startswith(prefix) and value not in (None, ""):
                    creds[name] = value
            if p.bool("verify", True) and any(str(v).lower().startswith("invalid") for v in creds.values()):
                raise X.A2CError(103, f"Incorrect {cart_name(cart_id)} credentials. The store rejected the access data.")
            if store_key is not None and not re.fullmatch(r"[0-9a-fA-F]{32}", store_key):
                raise X.A2CError(101, f"Incorrect store key '{store_key}'. It must be 32 hexadecimal characters.")
        check_db_prefix(p)
        self._check_duplicate(cart_id, url, creds)
        seq = self.state.next_id("store")
        store_key = store_key or new_key(api_key, "store", seq, url or "", cart_id)
        if self.by_key(store_key) is not None:
            raise X.A2CError(8, "Store with this store_key already exists")
        store = {
            "id": str(seq), "tenant": store_tenant_id(store_key), "store_key": store_key, "cart_id": cart_id,
            "url": url or "", "custom_label": p.str("custom_label", "") or "", "bridge_url": p.str("bridge_url", "") or "",
            "store_root": p.str("store_root", "") or "", "bridge_version": BRIDGE_VERSION if bridge else "",
            "db_tables_prefix": (p.str("db_tables_prefix", "") or "") if bridge else "", "user_agent": p.str("user_agent", "") or "",
            "version": VERSIONS.get(cart_id, ""), "credentials": creds, "connected": True,
            "created_at": self.state.now(), "name": p.str("custom_label") or (norm_url(url or "") or cart_name(cart_id)),
        }
        self.put(store)
        if bridge:
            Bridges(self.state).connected(store_key, store["tenant"])
        return store

    def issue_bridge(self, api_key: str) -> dict[str, Any]:
        """``cart.bridge``: a new store key for a bridge to download (models/bridges.py)."""
        seq = self.state.next_id("bridge")
        key = new_key(api_key, "cart.bridge", seq)
        while self.by_key(key) is not None:  # a store added with this very key by hand
            key = new_key(api_key, "cart.bridge", seq, key)
        return Bridges(self.state).issue(key)

    def _check_bridge(self, p: Params, store_key: str | None) -> None:
        if store_key is not None:
            if not re.fullmatch(r"[0-9a-fA-F]{32}", store_key):
                raise X.A2CError(101, f"Incorrect store key '{store_key}'. It must be 32 hexadecimal characters.")
            Bridges(self.state).check_connect(store_key)
            return
        if "bridge_url" in p:
            if not re.fullmatch(r"https?://\S+", p.str("bridge_url") or ""):
                raise X.A2CError(102, "Bridge not found at the given bridge_url")
            return
        if "ftp_host" in p:
            for name in ("ftp_user", "ftp_password"):
                if name not in p:
                    raise X.A2CError(105, f"FTP connection failed: parameter '{name}' is required")
            host = p.str("ftp_host") or ""
            if not re.fullmatch(r"[A-Za-z0-9.-]+", host):
                raise X.A2CError(105, f"FTP connection failed: cannot connect to '{host}'")
            port = p.int("ftp_port", 21)
            if port is None or not 0 < port < 65536:
                raise X.A2CError(105, "FTP connection failed: incorrect port")
            store_dir = p.str("ftp_store_dir", "/") or "/"
            if not store_dir.startswith("/"):
                raise X.A2CError(106, f"FTP store directory '{store_dir}' is incorrect. It must be an absolute path.")
            return
        raise X.A2CError(102, "Bridge not found. Upload the bridge to the store root and pass store_key, "
                              "or pass bridge_url, or FTP data (ftp_host, ftp_user, ftp_password) to upload it.")

    def _check_duplicate(self, cart_id: str, url: str | None, creds: dict[str, Any]) -> None:
        for store in self.stores.values():
            if url and norm_url(store["url"]) == norm_url(url):
                raise X.A2CError(8, f"Store '{url}' already exists")
            if not url and store["cart_id"] == cart_id and creds and store.get("credentials") == creds:
                raise X.A2CError(8, f"{cart_name(cart_id)} store with these credentials already exists")

    def listing(self, p: Params) -> dict[str, Any]:
        stores = self.all()
        if "store_url" in p:
            stores = [s for s in stores if norm_url(s["url"]) == norm_url(p.str("store_url") or "")]
        if "store_key" in p:
            stores = [s for s in stores if s["store_key"] == p.str("store_key")]
        if "custom_label" in p:
            stores = [s for s in stores if s.get("custom_label") == p.str("custom_label")]
        for name, cmp in (("request_from_date", 1), ("request_to_date", -1)):
            if name in p:
                bound = parse_date(name, p.str(name) or "")
                stores = [s for s in stores if (s["created_at"] - bound) * cmp >= 0]
        carts = [{"id": s["id"], "url": s["url"], "store_key": s["store_key"], "cart_id": s["cart_id"],
                  "custom_label": s.get("custom_label", ""), "bridge_version": s.get("bridge_version", ""),
                  "total_calls": str(s.get("total_calls", 0))} for s in stores]
        carts = [select(c, p.str("params", "force_all"), p.str("exclude"), "force_all", extras=()) for c in carts]
        return {"carts_count": len(carts), "carts": carts}

    def update_config(self, store: dict[str, Any], p: Params) -> dict[str, Any]:
        changes = 0
        new_url, new_key_ = p.str("new_store_url"), p.str("new_store_key")
        if new_url is not None:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?(/\S*)?", new_url, re.ASCII):
                raise X.invalid("new_store_url")
            for other in self.stores.values():
                if other["tenant"] != store["tenant"] and norm_url(other["url"]) == norm_url(new_url):
                    raise X.A2CError(8, f"Store '{new_url}' already exists")
        if new_key_ is not None:
            if not re.fullmatch(r"[0-9a-fA-F]{32}", new_key_):
                raise X.A2CError(101, f"Incorrect store key '{new_key_}'. It must be 32 hexadecimal characters.")
            other = self.by_key(new_key_)
            if other is not None and other["tenant"] != store["tenant"]:
                raise X.A2CError(8, "Store with this store_key already exists")
        check_db_prefix(p)
        replace = p.bool("replace_parameters", False)

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            nonlocal changes
            if old is None:
                raise X.store_access_denied()
            new = copy.deepcopy(old)
            if new_url is not None:
                new["url"], changes = new_url, changes + 1
            if new_key_ is not None:
                new["store_key"], changes = new_key_, changes + 1
            for name in CART_FIELDS:
                if name in p:
                    new[name], changes = p.str(name), changes + 1
            creds = {} if replace else dict(new.get("credentials", {}))
            for name, value in p.data.items():
                if name in _ALL_CRED_NAMES and value not in (None, ""):
                    creds[name], changes = value, changes + 1
            new["credentials"] = creds
            return new

        self.stores.update(store["tenant"], apply)
        return {"updated_items": changes}

    def delete(self, store: dict[str, Any]) -> None:
        self.stores.delete(store["tenant"])


_ALL_CRED_NAMES = {n for cid in API_CARTS for n in _cred_names(cid)} | {
    "shopify_shared_secret", "shopify_client_id", "wc_consumer_key", "wc_consumer_secret", "magento_consumer_key",
    "magento_consumer_secret", "magento_token_secret", "bol_api_key", "bol_api_secret", "bol_retailer_id"}


def check_db_prefix(p: Params) -> None:
    """``db_tables_prefix`` names the start of MySQL table names: letters, digits and ``_`` (109 otherwise)."""
    value = p.str("db_tables_prefix")
    if value and not re.fullmatch(r"[A-Za-z0-9_]{1,64}", value, re.ASCII):
        raise X.A2CError(109, "Parameter 'db_tables_prefix' is not valid. A table prefix is letters, digits and '_'.")


def cart_info(store: dict[str, Any], p: Params) -> dict[str, Any]:
    info = {
        "name": store.get("name") or store["url"], "url": store["url"], "version": store.get("version", ""),
        "bridge_version": store.get("bridge_version", ""), "db_prefix": db_prefix(store),
        "default_rounding_precision": 2,
        "stores_info": [{
            "store_id": "1", "name": store.get("name") or store["url"], "language": "en",
            "store_languages": [{"id": "1", "iso_code": "en", "name": "English"}],
            "currency": CURRENCY, "store_currencies": [CURRENCY], "timezone": "UTC", "country": "US",
            "root_category_id": "0", "multi_store_url": store["url"], "active": True,
        }],
        "warehouses": [], "shipping_zones": [],
    }
    return select(info, p.str("params"), p.str("exclude"), extras=(), default="store_name,store_url,db_prefix,name,url,version,"
                  "bridge_version,default_rounding_precision,db_prefix,stores_info,warehouses,shipping_zones")


def hybris_websites(raw: Any) -> list[dict[str, Any]]:
    """``hybris_websites``: the official array, or (FAQ) "an array of objects in a JSON string";
    each object needs ``uid``, ``url`` and a non-empty ``storeIds`` list (109 otherwise)."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            raise X.invalid("hybris_websites", "JSON array of {uid, url, storeIds}") from None
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):  # ?hybris_websites=[...]
        return hybris_websites(value[0])
    ok = isinstance(value, list) and value and all(
        isinstance(w, dict) and isinstance(w.get("uid"), str) and isinstance(w.get("url"), str)
        and isinstance(w.get("storeIds"), list) and w["storeIds"] and all(isinstance(i, str) for i in w["storeIds"])
        for w in value)
    if not ok:
        raise X.invalid("hybris_websites", "JSON array of {uid, url, storeIds}")
    return value  # type: ignore[return-value]


#: (cart_id, feature) -> credentials the store must have been connected with (FAQ: Shopify's
#: "shopify_shared_secret - is needed to work with Live Shipping Rates or Webhooks"; Squarespace:
#: "If you plan to use webhooks on Squarespace, please connect using the second method")
CONNECTION_NEEDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Shopify", "webhooks"): ("shopify_shared_secret",),
    ("Shopify", "live shipping"): ("shopify_shared_secret",),
    ("Squarespace", "webhooks"): ("squarespace_client_id", "squarespace_secret", "squarespace_access_token",
                                  "squarespace_refresh_token"),
}


def require_connection(store: dict[str, Any], feature: str, method: str) -> None:
    """115 when the store was connected without what ``feature`` needs on its platform."""
    needs = CONNECTION_NEEDS.get((store["cart_id"], feature), ())
    creds = store.get("credentials") or {}
    missing = [n for n in needs if not creds.get(n)]
    if missing:
        raise X.A2CError(115, f"Method '{method}' is not supported by the cart '{store['cart_id']}' as this store is "
                              f"connected: {feature} need {', '.join(missing)} (account.config.update can add it)")
