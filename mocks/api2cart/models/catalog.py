"""API2Cart domain logic: accounts and their stores, and each store's catalogue, customers,
orders, returns, webhooks and live shipping services.

Tenancy: every connected store is its own tenant (its data lives under its tenant id); an
account is a tenant too and holds the registry of its stores (``stores`` collection), which is
the single source of truth for "which store_key opens which store". Models never import Flask.
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import re
from typing import Any, Callable, Iterable

from mocks.api2cart import errors as X
from mocks.core.state import TenantState

MAX_COUNT = 250
DATE_FORMAT = "Y-m-d\\TH:i:sO"


# -- small helpers -----------------------------------------------------------------------------
def a2c_date(ts: float) -> dict[str, Any]:
    """The vendor's A2CDateTime: ISO 8601 with a numeric offset and its PHP format string."""
    value = dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")
    return {"value": value, "format": DATE_FORMAT}


def plain_date(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def parse_date(name: str, value: str) -> float:
    """``created_from`` and friends: 'Y-m-d H:i:s', 'Y-m-d' or ISO 8601."""
    text = value.strip().replace("T", " ")
    text = re.sub(r"(\+00:?00|Z)$", "", text).strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc).timestamp()
        except ValueError:
            continue
    raise X.invalid(name, "date (Y-m-d H:i:s)")


def store_tenant_id(store_key: str) -> str:
    return "a2c-s-" + hashlib.sha256(store_key.encode()).hexdigest()[:12]


def account_tenant_id(api_key: str) -> str:
    return "a2c-a-" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


def new_key(*parts: Any) -> str:
    """A 32-hex key like the vendor's (deterministic: derived from its parts)."""
    return hashlib.md5(":".join(str(p) for p in parts).encode()).hexdigest()


def norm_url(url: str) -> str:
    return re.sub(r"^https?://", "", (url or "").strip().lower()).rstrip("/")


class Params:
    """The request's parameters (query merged with the JSON body) with vendor-style coercion."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __contains__(self, name: str) -> bool:
        return name in self.data and self.data[name] not in (None, "")

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default) if name in self else default

    def str(self, name: str, default: str | None = None) -> str | None:
        if name not in self:
            return default
        value = self.data[name]
        if isinstance(value, (dict, list)):
            raise X.invalid(name, "string")
        return str(value)

    def need(self, name: str) -> str:
        value = self.str(name)
        if value is None:
            raise X.required(name)
        return value

    def int(self, name: str, default: int | None = None, unsigned: bool = True) -> int | None:
        if name not in self:
            return default
        value = self.data[name]
        if isinstance(value, bool):
            raise X.invalid(name, "unsigned integer" if unsigned else "integer")
        if isinstance(value, int):
            out = value
        elif isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            out = int(value)
        else:
            raise X.invalid(name, "unsigned integer" if unsigned else "integer")
        if unsigned and out < 0:
            raise X.invalid(name, "unsigned integer")
        return out

    def num(self, name: str, default: float | None = None) -> float | None:
        if name not in self:
            return default
        value = self.data[name]
        if isinstance(value, bool):
            raise X.invalid(name, "decimal")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise X.invalid(name, "decimal") from None

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        if name not in self:
            return default
        value = self.data[name]
        if isinstance(value, bool):
            return value
        low = str(value).strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise X.invalid(name, "boolean")

    def ids(self, name: str) -> list[str] | None:
        value = self.str(name)
        if value is None:
            return None
        return [v.strip() for v in value.split(",") if v.strip()]


# -- field selection (params / exclude / response_fields) -------------------------------------
def select(entity: dict[str, Any], params: str | None, exclude: str | None, default: str) -> dict[str, Any]:
    """``params``: a comma list of fields or ``force_all``; ``exclude`` works with force_all."""
    wanted = [p.strip() for p in (params or default).split(",") if p.strip()]
    if "force_all" in wanted:
        out = dict(entity)
        for name in (exclude or "").split(","):
            out.pop(name.strip(), None)
        return out
    out = {k: entity[k] for k in wanted if k in entity}
    if "id" in entity and "id" not in out:
        out = {"id": entity["id"], **out}
    return out


def parse_response_fields(spec: str) -> dict[str, Any] | None:
    """``{return_code,pagination,result{product{id,name}}}`` -> nested dict of wanted keys."""
    text = spec.strip()
    if not text:
        return None
    if not text.startswith("{"):
        text = "{" + text + "}"
    pos = 0

    def parse() -> dict[str, Any]:
        nonlocal pos
        if text[pos] != "{":
            raise ValueError
        pos += 1
        out: dict[str, Any] = {}
        name = ""
        while pos < len(text):
            ch = text[pos]
            if ch == "{":
                if not name.strip():
                    raise ValueError
                out[name.strip()] = parse()
                name = ""
                continue
            pos += 1
            if ch == ",":
                if name.strip():
                    out[name.strip()] = True
                name = ""
            elif ch == "}":
                if name.strip():
                    out[name.strip()] = True
                return out
            else:
                name += ch
        raise ValueError

    try:
        tree = parse()
    except (ValueError, IndexError):
        raise X.invalid("response_fields") from None
    if pos != len(text):
        raise X.invalid("response_fields")
    return tree


def apply_response_fields(data: Any, tree: dict[str, Any] | bool) -> Any:
    if tree is True:
        return data
    if isinstance(data, list):
        return [apply_response_fields(item, tree) for item in data]
    if isinstance(data, dict):
        return {k: apply_response_fields(v, tree[k]) for k, v in data.items() if k in tree}  # type: ignore[index]
    return data


# -- paging -----------------------------------------------------------------------------------
def encode_cursor(start: int, count: int) -> str:
    raw = json.dumps({"s": start, "c": count}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(tag: str) -> tuple[int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(tag + "=" * (-len(tag) % 4)))
        start, count = int(data["s"]), int(data["c"])
        if start < 0 or not 1 <= count <= MAX_COUNT:
            raise ValueError
        return start, count
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise X.invalid("page_cursor") from None


CURSOR_COMPANIONS = {"page_cursor", "params", "exclude", "response_fields", "store_id", "lang_id", "currency_id"}


def window(p: Params, default_count: int = 10) -> tuple[int, int]:
    """(start, count) from start/count or page_cursor; count above 250 -> 111."""
    cursor = p.str("page_cursor")
    if cursor is not None:
        others = sorted(k for k in p.data if k not in CURSOR_COMPANIONS and k in p)
        if others:  # the vendor: page_cursor "can't be used with any other filtering parameter"
            raise X.A2CError(109, f"Parameter 'page_cursor' can't be used with other filtering parameters ({others[0]}).")
        return decode_cursor(cursor)
    start = p.int("start", 0) or 0
    count = p.int("count", default_count)
    assert count is not None
    if count > MAX_COUNT:
        raise X.too_many(MAX_COUNT)
    return start, count


def page(items: list[dict[str, Any]], start: int, count: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    chunk = items[start:start + count] if count else []
    nxt = encode_cursor(start + count, count) if count and start + count < len(items) else None
    prev = encode_cursor(max(0, start - count), count) if count and start > 0 else None
    return chunk, {"previous": prev, "next": nxt}


def id_key(item: dict[str, Any], field: str = "id") -> tuple[int, str]:
    value = str(item.get(field, ""))
    return (int(value), value) if value.isdigit() else (1 << 62, value)


def sort_items(items: list[dict[str, Any]], p: Params, default: str, allowed: dict[str, Callable[[dict], Any]]) -> list[dict[str, Any]]:
    by = p.str("sort_by", default) or default
    if by not in allowed:
        raise X.A2CError(109, f"Parameter 'sort_by' is not valid. Allowed values: {', '.join(allowed)}.")
    direction = (p.str("sort_direction", "asc") or "asc").lower()
    if direction not in ("asc", "desc"):
        raise X.A2CError(109, "Parameter 'sort_direction' is not valid. Allowed values: asc, desc.")
    return sorted(items, key=allowed[by], reverse=direction == "desc")


def date_filters(items: Iterable[dict[str, Any]], p: Params, created: str, modified: str) -> list[dict[str, Any]]:
    out = list(items)
    for name, field, cmp in (("created_from", created, 1), ("created_to", created, -1),
                             ("modified_from", modified, 1), ("modified_to", modified, -1)):
        value = p.str(name)
        if value is None:
            continue
        bound = parse_date(name, value)
        out = [i for i in out if (i.get("_ts", {}).get(field, 0) - bound) * cmp >= 0]
    return out


def public(entity: dict[str, Any]) -> dict[str, Any]:
    """The stored entity without sandbox bookkeeping (keys starting with '_')."""
    return {k: v for k, v in entity.items() if not k.startswith("_")}


# -- platforms --------------------------------------------------------------------------------
BRIDGE_CARTS = {
    "AceShop": "AceShop", "Creloaded": "CRE Loaded", "Cscart": "CS-Cart", "Cubecart": "CubeCart",
    "Gambio": "Gambio", "JooCart": "JooCart", "Magento1212": "Magento", "MijoShop": "MijoShop",
    "Opencart14": "OpenCart", "Oscmax2": "osCMax", "Oscommerce22ms2": "osCommerce", "Oxid": "OXID eShop",
    "Pinnacle": "Pinnacle Cart", "Prestashop": "PrestaShop", "Shopware": "Shopware", "Tomatocart": "TomatoCart",
    "Ubercart": "Ubercart", "Virtuemart": "VirtueMart", "WPecommerce": "WP e-Commerce",
    "Woocommerce": "WooCommerce", "Xcart": "X-Cart", "Xtcommerce": "xt:Commerce",
    "XtcommerceVeyton": "xt:Commerce Veyton", "Zencart137": "Zen Cart",
}
#: API (hosted) platforms and marketplaces: cart_id -> (name, the credential sets that connect it; any one
#: complete set is enough). Every cart_id of the official document's ``AccountCartAdd.cart_id`` enum is
#: here or in BRIDGE_CARTS; the credential names are the document's ``AccountCartAdd`` properties of
#: that platform (the FAQ's per-platform pages pick the sets, e.g. Shopify's two ways, Squarespace's two,
#: Etsy API v3's etsy_client_id + etsy_refresh_token).
API_CARTS: dict[str, tuple[str, list[tuple[str, ...]]]] = {
    "3DCart": ("3dcart", [("3dcart_private_key", "3dcart_access_token")]),
    "3DCartApi": ("Shift4Shop (3dcart API)", [("3dcartapi_api_key",)]),
    "AmazonSP": ("Amazon SP-API", [("amazon_sp_client_id", "amazon_sp_client_secret", "amazon_sp_refresh_token",
                                     "amazon_sp_aws_region", "amazon_seller_id")]),
    "Americommerce": ("AmeriCommerce", [("americommerce_app_id", "americommerce_app_secret",
                                          "americommerce_access_token", "americommerce_refresh_token")]),
    "AspDotNetStorefront": ("AspDotNetStorefront", [("aspdotnetstorefront_api_user", "aspdotnetstorefront_api_pass")]),
    "BigCartel": ("Big Cartel", [("bigcartel_user_name", "bigcartel_password")]),
    "Bricklink": ("BrickLink", [("bricklink_consumer_key", "bricklink_consumer_secret", "bricklink_token",
                                  "bricklink_token_secret")]),
    "BigcommerceApi": ("BigCommerce", [("bigcommerceapi_client_id", "bigcommerceapi_access_token", "bigcommerceapi_context"),
                                        ("bigcommerceapi_admin_account", "bigcommerceapi_api_path", "bigcommerceapi_api_key")]),
    "Bol": ("Bol.com", [("bol_api_key", "bol_api_secret", "bol_retailer_id")]),
    "CommerceHQ": ("CommerceHQ", [("commercehq_api_key", "commercehq_api_password")]),
    "Demandware": ("Salesforce Commerce Cloud", [("demandware_client_id", "demandware_api_password")]),
    "EBay": ("eBay", [("ebay_client_id", "ebay_client_secret", "ebay_runame", "ebay_refresh_token")]),
    "Ecwid": ("Ecwid", [("ecwid_acess_token", "ecwid_store_id")]),
    "EtsyAPIv3": ("Etsy (API v3)", [("etsy_client_id", "etsy_refresh_token")]),
    "Facebook": ("Facebook Shops", [("facebook_app_id", "facebook_app_secret", "facebook_access_token",
                                      "facebook_business_id")]),
    "Flipkart": ("Flipkart", [("flipkart_client_id", "flipkart_client_secret")]),
    "Hybris": ("SAP Commerce Cloud", [("hybris_client_id", "hybris_client_secret", "hybris_username", "hybris_password",
                                        "hybris_websites")]),
    "Jumpseller": ("Jumpseller", [("jumpseller_login", "jumpseller_authtoken"),
                                  ("jumpseller_client_id", "jumpseller_client_secret", "jumpseller_refresh_token")]),
    "Lazada": ("Lazada", [("lazada_app_id", "lazada_app_secret", "lazada_refresh_token", "lazada_region")]),
    "LightSpeed": ("Lightspeed eCom", [("lightspeed_api_key", "lightspeed_api_secret")]),
    "Magento2Api": ("Magento 2 (REST API)", [("magento_access_token",),
                                              ("magento_consumer_key", "magento_consumer_secret",
                                               "magento_access_token", "magento_token_secret")]),
    "MercadoLibre": ("Mercado Libre", [("mercado_libre_app_id", "mercado_libre_app_secret_key",
                                         "mercado_libre_refresh_token")]),
    "Miva": ("Miva", [("miva_access_token", "miva_signature")]),
    "Neto": ("Maropost (Neto)", [("neto_api_key", "neto_api_username")]),
    "Nopcommerce": ("nopCommerce", [("nopcommerce_token", "nopcommerce_secret")]),
    "Otto": ("OTTO Market", [("otto_client_id", "otto_client_secret", "otto_app_id", "otto_refresh_token")]),
    "PrestashopApi": ("PrestaShop (Webservice)", [("prestashop_webservice_key",)]),
    "Salla": ("Salla", [("salla_client_id", "salla_client_secret", "salla_refresh_token", "salla_access_token")]),
    "SCAPI": ("Salesforce B2C (SCAPI)", [("scapi_client_id", "scapi_client_secret", "scapi_organization_id",
                                          "scapi_short_code")]),
    "Shopify": ("Shopify", [("shopify_access_token",), ("shopify_api_key", "shopify_api_password")]),
    "Shopee": ("Shopee", [("shopee_partner_id", "shopee_partner_key", "shopee_shop_id", "shopee_refresh_token",
                           "shopee_region")]),
    "Shoplazza": ("Shoplazza", [("shoplazza_access_token", "shoplazza_shared_secret")]),
    "Shopline": ("SHOPLINE", [("shopline_access_token", "shopline_app_key", "shopline_app_secret")]),
    "ShopwareApi": ("Shopware 6 (API)", [("shopware_api_key", "shopware_api_secret"), ("shopware_access_key",)]),
    "Square": ("Square", [("square_client_id", "square_client_secret", "square_refresh_token")]),
    "Squarespace": ("Squarespace", [("squarespace_api_key",),
                                    ("squarespace_client_id", "squarespace_client_secret", "squarespace_access_token",
                                     "squarespace_refresh_token")]),
    "Temu": ("Temu", [("temu_app_key", "temu_app_secret", "temu_access_token", "temu_region")]),
    "Tiendanube": ("Tiendanube", [("tiendanube_user_id", "tiendanube_access_token")]),
    "TikTokShop": ("TikTok Shop", [("tiktokshop_app_key", "tiktokshop_app_secret", "tiktokshop_refresh_token")]),
    "Unas": ("UNAS", [("unas_api_key",)]),
    "Volusion": ("Volusion", [("volusion_login", "volusion_password")]),
    "Walmart": ("Walmart", [("walmart_client_id", "walmart_client_secret")]),
    "Wix": ("Wix", [("wix_app_id", "wix_app_secret_key", "wix_instance_id", "wix_refresh_token")]),
    "WoocommerceApi": ("WooCommerce (REST API)", [("wc_consumer_key", "wc_consumer_secret")]),
    "Zid": ("Zid", [("zid_client_id", "zid_client_secret", "zid_access_token", "zid_authorization", "zid_refresh_token")]),
    # Zoey: the document lists no Zoey-specific credential; the store URL alone connects it (sandbox choice)
    "Zoey": ("Zoey", [()]),
    "Zoho": ("Zoho Commerce", [("zoho_client_id", "zoho_client_secret", "zoho_refresh_token", "zoho_region")]),
}
#: marketplaces and POS: no storefront URL is needed to connect them
NO_URL_CARTS = {"Bol", "AmazonSP", "EBay", "Walmart", "EtsyAPIv3", "Flipkart", "Lazada", "Otto", "Shopee", "TikTokShop",
                "Temu", "MercadoLibre", "Facebook", "Bricklink", "Zoho", "Square"}
#: FAQ (Webhooks): "If a particular e-commerce platform does not support native webhooks (e.g Magento,
#: Opencart), webhooks functionality is emulated by querying store data periodically ... 300 seconds".
#: The sandbox treats every bridge platform except WooCommerce (which has native webhooks), and the
#: Magento 2 / PrestaShop REST connections, as polled.
POLLED_CARTS = (set(BRIDGE_CARTS) - {"Woocommerce"}) | {"Magento2Api", "PrestashopApi"}
POLL_INTERVAL_S = 300
#: platforms where basket.live_shipping_service.* works (FAQ: Shopify, Magento, Magento 2, WooCommerce)
LIVE_SHIPPING_CARTS = {"Shopify": 1, "Magento1212": None, "Magento2Api": None, "Woocommerce": None, "WoocommerceApi": None}
VERSIONS = {"Shopify": "2024-01", "Woocommerce": "8.5.2", "WoocommerceApi": "8.5.2", "Magento1212": "2.4.6",
            "Magento2Api": "2.4.6", "Bol": "10", "Prestashop": "8.1.2", "Opencart14": "4.0.2.3"}
BRIDGE_VERSION = "162"
BRIDGE_PARAMS = ("store_url", "store_key", "bridge_url", "store_root", "ftp_host", "ftp_user", "ftp_password",
                 "ftp_port", "ftp_store_dir")


def cart_name(cart_id: str) -> str:
    if cart_id in BRIDGE_CARTS:
        return BRIDGE_CARTS[cart_id]
    if cart_id in API_CARTS:
        return API_CARTS[cart_id][0]
    return cart_id


def all_cart_ids() -> list[str]:
    return sorted(set(BRIDGE_CARTS) | set(API_CARTS), key=str.lower)


def supported_carts(all_ids: Iterable[str]) -> list[dict[str, Any]]:
    """``cart.list``: every platform with the flat list of parameters it takes."""
    out = []
    for cart_id in all_ids:
        if cart_id in BRIDGE_CARTS:
            params = list(BRIDGE_PARAMS)
        else:
            params = ([] if cart_id in NO_URL_CARTS else ["store_url"]) + _cred_names(cart_id)
        out.append({"cart_id": cart_id, "cart_name": cart_name(cart_id), "cart_versions": VERSIONS.get(cart_id, ""),
                    "params": params})
    return out


_PARAM_HELP = {
    "store_url": "A web address of a store that you would like to connect to API2Cart",
    "store_key": "Set this parameter if bridge is already uploaded to store",
    "bridge_url": "Custom bridge url (with store_root if the bridge folder is not in the store root)",
    "store_root": "Absolute server path to the store root folder",
    "ftp_host": "FTP connection host", "ftp_user": "FTP User", "ftp_password": "FTP Password",
    "ftp_port": "FTP Port", "ftp_store_dir": "FTP Store dir",
    "verify": "Enables or disables cart's verification", "custom_label": "Defines a custom label for the store in the app",
}


def _param(name: str, descriptions: dict[str, str]) -> dict[str, str]:
    return {"name": name, "description": descriptions.get(name) or _PARAM_HELP.get(name, name.replace("_", " "))}


def supported_platforms(descriptions: dict[str, str]) -> dict[str, Any]:
    """``account.supported_platforms``: per platform, the alternative sets of required parameters
    (``params.required``: a list of sets, any one of which connects) and the optional ones."""
    out = []
    for cart_id in all_cart_ids():
        if cart_id in BRIDGE_CARTS:
            required = [["store_url", "store_key"], ["store_url", "bridge_url"],
                        ["store_url", "ftp_host", "ftp_user", "ftp_password"]]
            additional = ["store_root", "ftp_port", "ftp_store_dir", "db_tables_prefix", "user_agent"]
            method = "bridge"
        else:
            url = [] if cart_id in NO_URL_CARTS else ["store_url"]
            sets = API_CARTS[cart_id][1]
            required = [url + list(s) for s in sets]
            taken = {n for s in required for n in s}
            prefix = _cred_prefix(cart_id)
            additional = [n for n in descriptions if prefix and n.startswith(prefix) and n not in taken]
            method = "api"
        out.append({"cart_id": cart_id, "cart_name": cart_name(cart_id), "cart_versions": VERSIONS.get(cart_id, ""),
                    "cart_method": method,
                    "params": {"required": [[_param(n, descriptions) for n in s] for s in required],
                               "additional": [_param(n, descriptions) for n in [*additional, "verify", "custom_label"]]}})
    return {"supported_platforms_count": len(out), "supported_platforms": out}


def _cred_prefix(cart_id: str) -> str:
    names = _cred_names(cart_id)
    if not names:
        return ""
    first = names[0]
    return first[: first.index("_") + 1] if first != "mercado_libre_app_id" else "mercado_libre_"


def _cred_names(cart_id: str) -> list[str]:
    out: list[str] = []
    for s in API_CARTS.get(cart_id, (cart_id, []))[1]:
        out.extend(n for n in s if n not in out)
    return out


# -- accounts and their stores ----------------------------------------------------------------
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
        if url is not None and not re.fullmatch(r"https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?(/\S*)?", url):
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
            prefix = _cred_prefix(cart_id)
            for name, value in p.data.items():
                if prefix and name.startswith(prefix) and value not in (None, ""):
                    creds[name] = value
            if p.bool("verify", True) and any(str(v).lower().startswith("invalid") for v in creds.values()):
                raise X.A2CError(103, f"Incorrect {cart_name(cart_id)} credentials. The store rejected the access data.")
            if store_key is not None and not re.fullmatch(r"[0-9a-fA-F]{32}", store_key):
                raise X.A2CError(101, f"Incorrect store key '{store_key}'. It must be 32 hexadecimal characters.")
        self._check_duplicate(cart_id, url, creds)
        seq = self.state.next_id("store")
        store_key = store_key or new_key(api_key, "store", seq, url or "", cart_id)
        if self.by_key(store_key) is not None:
            raise X.A2CError(8, "Store with this store_key already exists")
        store = {
            "id": str(seq), "tenant": store_tenant_id(store_key), "store_key": store_key, "cart_id": cart_id,
            "url": url or "", "custom_label": p.str("custom_label", "") or "", "bridge_url": p.str("bridge_url", "") or "",
            "store_root": p.str("store_root", "") or "", "bridge_version": BRIDGE_VERSION if bridge else "",
            "version": VERSIONS.get(cart_id, ""), "credentials": creds, "connected": True,
            "created_at": self.state.now(), "name": p.str("custom_label") or (norm_url(url or "") or cart_name(cart_id)),
        }
        self.put(store)
        return store

    @staticmethod
    def _check_bridge(p: Params, store_key: str | None) -> None:
        if store_key is not None:
            if not re.fullmatch(r"[0-9a-fA-F]{32}", store_key):
                raise X.A2CError(101, f"Incorrect store key '{store_key}'. It must be 32 hexadecimal characters.")
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
        carts = [select(c, p.str("params", "force_all"), p.str("exclude"), "force_all") for c in carts]
        return {"carts_count": len(carts), "carts": carts}

    def update_config(self, store: dict[str, Any], p: Params) -> dict[str, Any]:
        changes = 0
        new_url, new_key_ = p.str("new_store_url"), p.str("new_store_key")
        if new_url is not None:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?(/\S*)?", new_url):
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


def cart_info(store: dict[str, Any], p: Params) -> dict[str, Any]:
    info = {
        "name": store.get("name") or store["url"], "url": store["url"], "version": store.get("version", ""),
        "bridge_version": store.get("bridge_version", ""), "db_prefix": "" if store["cart_id"] not in BRIDGE_CARTS else "wp_",
        "default_rounding_precision": 2,
        "stores_info": [{
            "store_id": "1", "name": store.get("name") or store["url"], "language": "en",
            "store_languages": [{"id": "1", "iso_code": "en", "name": "English"}],
            "currency": CURRENCY, "store_currencies": [CURRENCY], "timezone": "UTC", "country": "US",
            "root_category_id": "0", "multi_store_url": store["url"], "active": True,
        }],
        "warehouses": [], "shipping_zones": [],
    }
    return select(info, p.str("params"), p.str("exclude"), "store_name,store_url,db_prefix,name,url,version,"
                  "bridge_version,default_rounding_precision,db_prefix,stores_info,warehouses,shipping_zones")


CURRENCY = {"id": "USD", "name": "US Dollar", "iso3": "USD", "symbol_left": "$", "symbol_right": "", "rate": 1.0,
            "avail": True, "default": True}


# -- store data -------------------------------------------------------------------------------
PRODUCT_DEFAULT = "id,name,description,price,categories_ids"
CATEGORY_DEFAULT = "id,parent_id,name,description"
CUSTOMER_DEFAULT = "id,email,first_name,last_name"
ORDER_DEFAULT = "order_id,customer,totals,address,items,bundles,status"
RETURN_DEFAULT = "id,order_products"
WEBHOOK_DEFAULT = "id,entity,action,callback"
SHIPMENT_DEFAULT = "id,order_id,items,tracking_numbers"
#: the order ``params`` groups of the vendor's default (address -> both addresses, items -> order_products)
ORDER_GROUPS = {"address": ("shipping_address", "billing_address"), "items": ("order_products",)}

ORDER_STATUSES = {"pending": "Pending", "processing": "Processing", "shipped": "Shipped", "complete": "Complete",
                  "canceled": "Canceled", "refunded": "Refunded", "on_hold": "On Hold"}
RETURN_STATUSES = {"pending": "Pending", "approved": "Approved", "rejected": "Rejected", "completed": "Completed"}
#: Shopify's return workflow (FAQ: "You can't specify any return status on Shopify. Shopify has a clear
#: return workflow"): Shopify's Return.status values and the moves its admin API allows
#: (returnApproveRequest / returnDeclineRequest on a request, returnClose / returnCancel on an open
#: return, returnReopen on a closed one). A new return is "requested" or "open" (returnCreate).
SHOPIFY_RETURN_STATUSES = {"requested": "Requested", "open": "Open", "closed": "Closed", "declined": "Declined",
                           "canceled": "Canceled"}
SHOPIFY_RETURN_FLOW = {"requested": {"open", "declined"}, "open": {"closed", "canceled"}, "closed": {"open"},
                       "declined": set(), "canceled": set()}
SHOPIFY_RETURN_START = ("requested", "open")
#: Bol.com handling results (FAQ: order_product_handling_status is required on Bol.com; the possible
#: values are listed in the error text) - the Bol Retailer API's handlingResult values.
BOL_HANDLING_STATUSES = ("RETURN_RECEIVED", "EXCHANGE_PRODUCT", "RETURN_DOES_NOT_MEET_CONDITIONS", "REPAIR_PRODUCT",
                         "CUSTOMER_KEEPS_PRODUCT_PAID", "STILL_APPROVED")


def return_statuses(cart_id: str) -> dict[str, str]:
    return SHOPIFY_RETURN_STATUSES if cart_id == "Shopify" else RETURN_STATUSES
RETURN_ACTIONS = {"refund": "Refund", "replace": "Replace", "store_credit": "Store credit"}
RETURN_REASONS = {"defective": "Defective", "wrong_item": "Wrong item", "not_as_described": "Not as described",
                  "no_longer_needed": "No longer needed", "other": "Other"}
WEBHOOK_EVENTS = [
    ("product", "add"), ("product", "update"), ("product", "delete"),
    ("category", "add"), ("category", "update"), ("category", "delete"),
    ("customer", "add"), ("customer", "update"), ("customer", "delete"),
    ("order", "add"), ("order", "update"), ("order", "delete"), ("order", "status.update"),
    ("order.return", "add"), ("order.return", "update"), ("order.return", "delete"),
]


def order_select(order: dict[str, Any], params: str | None, exclude: str | None) -> dict[str, Any]:
    wanted = [x.strip() for x in (params or ORDER_DEFAULT).split(",") if x.strip()]
    if "force_all" in wanted:
        return select(order, "force_all", exclude, ORDER_DEFAULT)
    fields: list[str] = ["id", "additional_fields"]  # additional_fields (return_status) always answers
    for w in wanted:
        fields.extend(ORDER_GROUPS.get(w, (w,)))
    if "totals" in wanted:
        fields.append("total")
    return select(order, ",".join(fields), None, ORDER_DEFAULT)


class StoreData:
    """Everything one store (tenant) holds. ``events`` collects (entity, action, entity dict) for webhooks."""

    def __init__(self, state: TenantState, cart_id: str = "") -> None:
        self.state = state
        self.cart_id = cart_id
        self.shipments = state.collection("shipments")
        self.products = state.collection("products")
        self.categories = state.collection("categories")
        self.customers = state.collection("customers")
        self.orders = state.collection("orders")
        self.returns = state.collection("returns")
        self.webhooks = state.collection("webhooks")
        self.shipping = state.collection("shipping_services")
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def emit(self, entity: str, action: str, data: dict[str, Any]) -> None:
        self.events.append((entity, action, data))

    # -- products ------------------------------------------------------------------------------
    def _product(self, pid: str) -> dict[str, Any]:
        product = self.products.lookup(pid)
        if product is None:
            raise X.not_found("Product", pid)
        return product

    def _product_filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.products.values()
        ids = p.ids("product_ids")
        if ids is not None:
            items = [i for i in items if i["id"] in ids]
        if "since_id" in p:
            since = p.int("since_id", 0) or 0
            items = [i for i in items if id_key(i)[0] > since]
        cats = p.ids("categories_ids") or ([p.str("category_id")] if "category_id" in p else None)
        if cats is not None:
            items = [i for i in items if set(i["categories_ids"]) & set(cats)]
        if "sku" in p:
            items = [i for i in items if i.get("u_sku") == p.str("sku")]
        if "brand_name" in p:
            items = [i for i in items if i.get("u_brand") == p.str("brand_name")]
        for name in ("avail_view", "avail_sale"):
            if name in p:
                items = [i for i in items if i.get(name) == p.bool(name)]
        if "find_value" in p:
            where = p.str("find_where", "name") or "name"
            needle = (p.str("find_value") or "").lower()
            items = [i for i in items if needle in str(i.get(where, "")).lower()]
        return date_filters(items, p, "created", "modified")

    def product_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        start, count = window(p)
        items = sort_items(self._product_filter(p), p, "id", {
            "id": id_key, "name": lambda i: str(i.get("name") or ""), "price": lambda i: i.get("price") or 0,
            "create_at": lambda i: i["_ts"]["created"], "modified_at": lambda i: i["_ts"]["modified"]})
        chunk, pagination = page(items, start, count)
        rows = [select(public(i), p.str("params"), p.str("exclude"), PRODUCT_DEFAULT) for i in chunk]
        return {"products_count": len(items), "product": rows}, pagination

    def product_info(self, p: Params) -> dict[str, Any]:
        return select(public(self._product(p.need("id"))), p.str("params"), p.str("exclude"), PRODUCT_DEFAULT)

    def product_count(self, p: Params) -> dict[str, Any]:
        return {"products_count": len(self._product_filter(p))}

    def product_add(self, p: Params) -> dict[str, Any]:
        for name in ("name", "model", "description", "price"):
            p.need(name)
        sku = p.str("sku") or p.str("model") or ""
        for other in self.products.values():
            if other.get("u_sku") == sku or other.get("u_model") == p.str("model"):
                raise X.exists(f"Product with SKU '{sku}' or model '{p.str('model')}' already exists")
        cats = p.ids("categories_ids") or ([p.str("category_id")] if "category_id" in p else [])
        for cid in cats:
            if self.categories.lookup(cid) is None:
                raise X.not_found("Category", cid)
        pid = str(self.state.next_id("product", start=1))
        now = self.state.now()
        product = new_product(pid, now, name=p.str("name"), model=p.str("model"), sku=sku,
                              description=p.str("description"), price=p.num("price"), categories=cats)
        _apply_product_fields(product, p)
        if not self.products.add(pid, product):
            raise X.exists(f"Product with ID '{pid}' already exists")
        self.emit("product", "add", public(product))
        return {"product_id": pid}

    def product_update(self, p: Params) -> dict[str, Any]:
        pid = p.need("id")
        sku = p.str("sku")
        if sku is not None:
            for other in self.products.values():
                if other.get("u_sku") == sku and other["id"] != pid:
                    raise X.exists(f"Product with SKU '{sku}' already exists")
        for cid in p.ids("categories_ids") or []:
            if self.categories.lookup(cid) is None:
                raise X.not_found("Category", cid)
        now = self.state.now()

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None:
                raise X.not_found("Product", pid)
            new = copy.deepcopy(old)
            _apply_product_fields(new, p)
            new["modified_at"] = a2c_date(now)
            new["_ts"]["modified"] = now
            return new

        product = self.products.update(pid, apply)
        assert product is not None
        self.emit("product", "update", public(product))
        return {"updated_items": 1}

    def product_delete(self, p: Params) -> dict[str, Any]:
        pid = p.need("id")
        product = self._product(pid)
        self.products.delete(pid)
        Variants(self).drop_children(pid)
        self.emit("product", "delete", {"id": product["id"]})
        return {"delete_items": 1}

    # -- categories ----------------------------------------------------------------------------
    def category_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        start, count = window(p)
        items = self._category_filter(p)
        chunk, pagination = page(items, start, count)
        rows = [select(public(i), p.str("params"), p.str("exclude"), CATEGORY_DEFAULT) for i in chunk]
        return {"categories_count": len(items), "category": rows}, pagination

    def category_info(self, p: Params) -> dict[str, Any]:
        cid = p.need("id")
        category = self.categories.lookup(cid)
        if category is None:
            raise X.not_found("Category", cid)
        return select(public(category), p.str("params"), p.str("exclude"), CATEGORY_DEFAULT)

    def category_add(self, p: Params) -> dict[str, Any]:
        name = p.need("name")
        parent = p.str("parent_id", "0") or "0"
        if parent != "0" and self.categories.lookup(parent) is None:
            raise X.not_found("Category", parent)
        for other in self.categories.values():
            if other["name"].lower() == name.lower() and other.get("parent_id") == parent:
                raise X.exists(f"Category '{name}' already exists")
        cid = str(self.state.next_id("category", start=1))
        category = new_category(cid, self.state.now(), name, parent, p.str("description", "") or "",
                                p.bool("avail", True), p.int("sort_order", 0, unsigned=False) or 0)
        for name_ in ("short_description", "meta_title", "meta_description", "seo_url"):
            if name_ in p:
                category[name_] = p.str(name_)
        if "meta_keywords" in p:
            category["keywords"] = p.str("meta_keywords")
        self.categories.put(cid, category)
        self.emit("category", "add", public(category))
        return {"category_id": cid}

    # -- customers -----------------------------------------------------------------------------
    def customer_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        start, count = window(p)
        items = self._customer_filter(p)
        items = sort_items(items, p, "created_time", {
            "created_time": lambda i: (i["_ts"]["created"], id_key(i)), "modified_time": lambda i: i["_ts"]["modified"],
            "id": id_key, "email": lambda i: i["email"]})
        chunk, pagination = page(items, start, count)
        rows = [select(public(i), p.str("params"), p.str("exclude"), CUSTOMER_DEFAULT) for i in chunk]
        return {"customers_count": len(items), "customer": rows}, pagination

    def customer_info(self, p: Params) -> dict[str, Any]:
        cid = p.need("id")
        customer = self.customers.lookup(cid)
        if customer is None:
            raise X.not_found("Customer", cid)
        return select(public(customer), p.str("params"), p.str("exclude"), CUSTOMER_DEFAULT)

    def customer_by_email(self, email: str) -> dict[str, Any] | None:
        return next((c for c in self.customers.values() if c["email"].lower() == email.lower()), None)

    def customer_add(self, p: Params) -> dict[str, Any]:
        email = p.need("email")
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise X.invalid("email", "email")
        if self.customer_by_email(email) is not None:
            raise X.exists(f"Customer with email '{email}' already exists")
        cid = str(self.state.next_id("customer", start=1))
        customer = new_customer(cid, self.state.now(), email, p.str("first_name", "") or "", p.str("last_name", "") or "",
                                p.str("phone"))
        for name in ("company", "gender", "website", "fax"):
            if name in p:
                customer[name] = p.str(name)
        if "news_letter_subscription" in p:
            customer["news_letter_subscription"] = p.bool("news_letter_subscription")
        self.customers.put(cid, customer)
        self.emit("customer", "add", public(customer))
        return {"customer_id": cid}

    # -- orders --------------------------------------------------------------------------------
    def _order(self, oid: str) -> dict[str, Any]:
        order = self.orders.lookup(oid)
        if order is None:
            raise X.not_found("Order", oid)
        return order

    def _order_filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.orders.values()
        ids = p.ids("order_ids") or p.ids("ids")
        if ids is not None:
            items = [i for i in items if i["id"] in ids or i["order_id"] in ids]
        if "since_id" in p:
            since = p.int("since_id", 0) or 0
            items = [i for i in items if id_key(i)[0] > since]
        if "customer_id" in p:
            items = [i for i in items if i["customer"]["id"] == p.str("customer_id")]
        if "customer_email" in p:
            items = [i for i in items if i["customer"]["email"].lower() == (p.str("customer_email") or "").lower()]
        if "order_status" in p:
            items = [i for i in items if i["status"]["id"] == p.str("order_status")]
        statuses = p.get("order_status_ids")
        if statuses:
            wanted = statuses if isinstance(statuses, list) else str(statuses).split(",")
            items = [i for i in items if i["status"]["id"] in wanted]
        if "financial_status" in p:
            items = [i for i in items if i.get("_financial_status") == p.str("financial_status")]
        financial = p.get("financial_status_ids")
        if financial:
            wanted_fin = financial if isinstance(financial, list) else str(financial).split(",")
            items = [i for i in items if i.get("_financial_status") in wanted_fin]
        if "fulfillment_status" in p:
            items = [i for i in items if i.get("_fulfillment_status") == p.str("fulfillment_status")]
        if "return_status" in p:  # FAQ: order.list filters by additional_fields.return_status
            wanted = set((p.str("return_status") or "").split(","))
            items = [i for i in items if (i.get("additional_fields") or {}).get("return_status", "no_return") in wanted]
        return date_filters(items, p, "created", "modified")

    def order_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        start, count = window(p)
        items = sort_items(self._order_filter(p), p, "order_id", {
            "order_id": lambda i: id_key(i, "order_id"), "id": id_key,
            "create_at": lambda i: i["_ts"]["created"], "modified_at": lambda i: i["_ts"]["modified"]})
        chunk, pagination = page(items, start, count)
        rows = [order_select(public(i), p.str("params"), p.str("exclude")) for i in chunk]
        return {"orders_count": len(items), "order": rows}, pagination

    def order_info(self, p: Params) -> dict[str, Any]:
        oid = p.str("id") or p.str("order_id")
        if oid is None:
            raise X.required("order_id")
        order = self.orders.lookup(oid)
        if order is None:
            order = next((o for o in self.orders.values() if o["order_id"] == oid), None)
        if order is None:
            raise X.not_found("Order", oid)
        return order_select(public(order), p.str("params"), p.str("exclude"))

    def order_count(self, p: Params) -> dict[str, Any]:
        return {"orders_count": len(self._order_filter(p))}

    def order_add(self, p: Params) -> dict[str, Any]:
        status = p.need("order_status")
        if status not in ORDER_STATUSES:
            raise X.A2CError(109, f"Parameter 'order_status' is not valid. Allowed values: {', '.join(ORDER_STATUSES)}.")
        email = p.need("customer_email")
        for name in ("bill_first_name", "bill_last_name", "bill_address_1", "bill_city", "bill_postcode",
                     "bill_state", "bill_country"):
            p.need(name)
        raw_items = p.get("order_item")
        if not isinstance(raw_items, list) or not raw_items:
            raise X.required("order_item")
        items = []
        for n, raw in enumerate(raw_items, start=1):
            if not isinstance(raw, dict):
                raise X.invalid("order_item", "array of objects")
            ip = Params(raw)
            name = ip.need("order_item_name")
            model = ip.need("order_item_model")
            price = ip.num("order_item_price")
            qty = ip.int("order_item_quantity")
            if price is None:
                raise X.required("order_item_price")
            if not qty:
                raise X.required("order_item_quantity")
            product_id = ip.str("order_item_id")
            if product_id is not None and self.products.lookup(product_id) is None:
                raise X.not_found("Product", product_id)
            tax = ip.num("order_item_tax", 0.0) or 0.0
            items.append(order_item(str(n), product_id, name, model, price, qty, tax,
                                    ip.num("order_item_weight"), ip.str("order_item_variant_id")))
        order_id = p.str("order_id")
        if order_id is not None and any(o["order_id"] == order_id for o in self.orders.values()):
            raise X.exists(f"Order with order_id '{order_id}' already exists")
        customer = self.customer_by_email(email)
        now = self.state.now()
        if "date" in p:
            now = parse_date("date", p.str("date") or "")
        oid = str(self.state.next_id("order", start=1))
        order = new_order(oid, order_id or oid, now, status, items,
                          customer={"id": customer["id"] if customer else "", "email": email,
                                    "first_name": p.str("customer_first_name") or (customer or {}).get("first_name") or p.str("bill_first_name"),
                                    "last_name": p.str("customer_last_name") or (customer or {}).get("last_name") or p.str("bill_last_name"),
                                    "phone": p.str("customer_phone")},
                          billing=_address(p, "bill", "billing"), shipping=_address(p, "shipp", "shipping") if "shipp_address_1" in p else None,
                          shipping_price=p.num("shipping_price", 0.0) or 0.0, discount=p.num("discount", 0.0) or 0.0,
                          currency=p.str("currency", "USD") or "USD", payment=p.str("order_payment_method"),
                          shipping_method=p.str("order_shipping_method"), comment=p.str("comment"))
        if p.num("total_price") is not None:
            order["totals"]["total"] = order["total"]["total"] = p.num("total_price")
        order["_financial_status"] = p.str("financial_status", "pending")
        order["_fulfillment_status"] = p.str("fulfillment_status", "unfulfilled")
        self.orders.put(oid, order)
        self.emit("order", "add", public(order))
        return {"order_id": oid, "id": oid, "customer_id": customer["id"] if customer else None}

    def order_update(self, p: Params) -> dict[str, Any]:
        oid = p.need("order_id")
        status = p.str("order_status")
        if status is not None and status not in ORDER_STATUSES:
            raise X.A2CError(109, f"Parameter 'order_status' is not valid. Allowed values: {', '.join(ORDER_STATUSES)}.")
        now = self.state.now()
        if "date_modified" in p:
            parse_date("date_modified", p.str("date_modified") or "")
        changed: list[str] = []

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None:
                raise X.not_found("Order", oid)
            new = copy.deepcopy(old)
            changed.clear()
            if status is not None and status != new["status"]["id"]:
                new["status"]["id"], new["status"]["name"] = status, ORDER_STATUSES[status]
                new["status"]["history"].append({"id": status, "name": ORDER_STATUSES[status], "modified_time": a2c_date(now),
                                                 "notify": bool(p.bool("send_notifications", False)),
                                                 "comment": p.str("comment") or ""})
                if status in ("complete", "canceled", "refunded") and new.get("finished_time") is None:
                    new["finished_time"] = a2c_date(now)
                changed.append("status")
            if "comment" in p:
                new["comment"] = p.str("comment")
                changed.append("comment")
            if "order_payment_method" in p:
                new["payment_method"] = {"name": p.str("order_payment_method")}
                changed.append("payment_method")
            for name in ("financial_status", "fulfillment_status"):
                if name in p:
                    new["_" + name] = p.str(name)
                    changed.append(name)
            for name in ("admin_comment", "admin_private_comment", "tags", "cancellation_reason"):
                if name in p:
                    new.setdefault("additional_fields", {})[name] = p.str(name)
                    changed.append(name)
            if not changed:
                return old
            new["modified_at"] = a2c_date(now)
            new["_ts"]["modified"] = now
            return new

        order = self.orders.update(oid, apply)
        assert order is not None
        if changed:
            self.emit("order", "update", public(order))
            if "status" in changed:
                self.emit("order", "status.update", public(order))
        return {"updated_items": 1 if changed else 0}

    # -- find, counts, category update/delete --------------------------------------------------
    def _find(self, items: list[dict[str, Any]], p: Params, default_where: str) -> list[dict[str, Any]]:
        """``find_value`` in the ``find_where`` fields (comma list); ``find_params``: ``whole_words``
        (default: the value as whole words, case-insensitive), ``regex``, or anything else for a
        case-insensitive substring match."""
        value = p.need("find_value")
        where = [w.strip() for w in (p.str("find_where", default_where) or default_where).split(",") if w.strip()]
        how = (p.str("find_params", "whole_words") or "whole_words").strip().lower()
        if how == "regex":
            try:
                rx = re.compile(value, re.I)
            except re.error:
                raise X.invalid("find_value", "regular expression") from None
        elif how == "whole_words":
            rx = re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", re.I)
        else:
            rx = re.compile(re.escape(value), re.I)
        fields = {"sku": "u_sku", "model": "u_model"}
        return sorted((i for i in items if any(rx.search(str(i.get(fields.get(w, w)) or "")) for w in where)), key=id_key)

    def product_find(self, p: Params) -> dict[str, Any]:
        found = self._find(self.products.values(), p, "name")
        return {"product": [{"id": i["id"], "name": i.get("name") or "", "description": i.get("description") or "",
                             "price": i.get("price") or 0.0} for i in found]}

    def category_find(self, p: Params) -> dict[str, Any]:
        found = self._find(self.categories.values(), p, "name")
        return {"category": [{"id": i["id"], "name": i["name"], "description": i.get("description") or ""} for i in found]}

    def customer_find(self, p: Params) -> dict[str, Any]:
        """The official document answers one customer (id, email, first_name, last_name): the first
        match by id; none -> 112."""
        found = self._find(self.customers.values(), p, "email")
        if not found:
            raise X.A2CError(112, f"Customer '{p.str('find_value')}' not found")
        c = found[0]
        return {"id": c["id"], "email": c["email"], "first_name": c["first_name"] or "", "last_name": c["last_name"] or ""}

    def order_find(self, p: Params) -> dict[str, Any]:
        start, count = window(p)
        items = sorted(self._order_filter(p), key=lambda i: id_key(i, "order_id"))
        return {"order": [order_select(public(i), p.str("params"), p.str("exclude")) for i in items[start:start + count]]}

    def _category_filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.categories.values()
        if "parent_id" in p:
            items = [i for i in items if i.get("parent_id") == p.str("parent_id")]
        if "avail" in p:
            items = [i for i in items if i.get("avail") == p.bool("avail")]
        if "find_value" in p:
            where = p.str("find_where", "name") or "name"
            items = [i for i in items if (p.str("find_value") or "").lower() in str(i.get(where, "")).lower()]
        return sorted(date_filters(items, p, "created", "modified"), key=id_key)

    def category_count(self, p: Params) -> dict[str, Any]:
        return {"categories_count": len(self._category_filter(p))}

    def category_update(self, p: Params) -> dict[str, Any]:
        cid = p.need("id")
        if "parent_id" in p:
            parent = p.str("parent_id") or "0"
            if parent == cid:
                raise X.A2CError(109, "Parameter 'parent_id' is not valid. A category can't be its own parent.")
            if parent != "0" and self.categories.lookup(parent) is None:
                raise X.not_found("Category", parent)
        if "name" in p:
            name = p.str("name") or ""
            current = self.categories.lookup(cid)
            parent_id = p.str("parent_id") or (current or {}).get("parent_id", "0")
            for other in self.categories.values():
                if other["id"] != cid and other["name"].lower() == name.lower() and other.get("parent_id") == parent_id:
                    raise X.exists(f"Category '{name}' already exists")
        now = self.state.now()

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None:
                raise X.not_found("Category", cid)
            new = copy.deepcopy(old)
            for name in ("name", "description", "short_description", "parent_id", "meta_title", "meta_description", "seo_url"):
                if name in p:
                    new[name] = p.str(name)
            if "meta_keywords" in p:
                new["keywords"] = p.str("meta_keywords")
            if "avail" in p:
                new["avail"] = p.bool("avail")
            if "sort_order" in p:
                new["sort_order"] = p.int("sort_order", unsigned=False)
            new["modified_at"] = a2c_date(now)
            new["_ts"]["modified"] = now
            return new

        category = self.categories.update(cid, apply)
        assert category is not None
        self.emit("category", "update", public(category))
        return {"updated_items": 1}

    def category_delete(self, p: Params) -> dict[str, Any]:
        cid = p.need("id")
        if self.categories.lookup(cid) is None:
            raise X.not_found("Category", cid)
        # children move up to the root and products lose the category (what the platforms do)
        for child_id, child in self.categories.items():
            if child.get("parent_id") == cid:
                self.categories.update(child_id, lambda old: old and {**old, "parent_id": "0"})
        for pid, product in self.products.items():
            if cid in product.get("categories_ids", []):
                self.products.update(pid, lambda old: old and {**old, "categories_ids": [c for c in old["categories_ids"] if c != cid]})
        self.categories.delete(cid)
        self.emit("category", "delete", {"id": cid})
        return {"delete_items": True}

    def _customer_filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.customers.values()
        ids = p.ids("ids")
        if ids is not None:
            items = [i for i in items if i["id"] in ids]
        if "since_id" in p:
            since = p.int("since_id", 0) or 0
            items = [i for i in items if id_key(i)[0] > since]
        if "find_value" in p:
            where = p.str("find_where", "email") or "email"
            items = [i for i in items if (p.str("find_value") or "").lower() in str(i.get(where, "")).lower()]
        return date_filters(items, p, "created", "modified")

    def customer_count(self, p: Params) -> dict[str, Any]:
        return {"customers_count": len(self._customer_filter(p))}

    # -- returns -------------------------------------------------------------------------------
    def _return_products(self, order: dict[str, Any], raw: Any, default_reason: str | None,
                         default_action: str | None, existing: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not raw:
            raise X.required("order_products")
        by_id = {i["order_product_id"]: i for i in order["order_products"]}
        bol = self.cart_id == "Bol"
        out = []
        for entry in raw:
            if not isinstance(entry, dict):
                raise X.invalid("order_products", "array of objects")
            ep = Params(entry)
            opid = ep.need("order_product_id")
            item = by_id.get(opid)
            if item is None:
                raise X.not_found("Order product", opid)
            qty = ep.int("order_product_quantity", 1)
            if not qty or qty > int(item.get("quantity") or 0):
                raise X.A2CError(109, f"Parameter 'order_product_quantity' is not valid. At most {item.get('quantity')} "
                                      f"unit(s) of order product '{opid}' can be returned.")
            before = (existing or {}).get(opid) or {}
            extra: dict[str, Any] = {}
            if bol:  # FAQ: reason ids are not supported on Bol.com; the handling status is required
                # The official schema still requires order_product_reason_id, so a client built on it
                # always sends one: on Bol.com it is not looked up (return.reason.list answers 115) and
                # is kept as the reason's text; the reason never has an id.
                handling = ep.str("order_product_handling_status") or before.get("additional_fields", {}).get("handling_status")
                if handling is None:
                    raise X.required("order_product_handling_status")
                if handling not in BOL_HANDLING_STATUSES:
                    raise X.A2CError(109, f"Parameter 'order_product_handling_status' is not valid. Allowed values: "
                                          f"{', '.join(BOL_HANDLING_STATUSES)}.")
                extra["additional_fields"] = {"handling_status": handling}
                text = (ep.str("order_product_reason") or ep.str("order_product_reason_id")
                        or (before.get("reason") or {}).get("name") or "")
                reason = {"id": "", "name": text}
                action_id = ep.str("order_product_action_id") or default_action or (before.get("action") or {}).get("id")
                action = _lookup("order_product_action_id", action_id, RETURN_ACTIONS) if action_id else None
            else:
                if "order_product_handling_status" in ep:
                    raise X.A2CError(109, "Parameter 'order_product_handling_status' is supported only on Bol.com.")
                reason = _lookup("order_product_reason_id", ep.str("order_product_reason_id") or default_reason
                                 or (before.get("reason") or {}).get("id"), RETURN_REASONS)
                action = _lookup("order_product_action_id", ep.str("order_product_action_id") or default_action
                                 or (before.get("action") or {}).get("id"), RETURN_ACTIONS)
            out.append({"product_id": item.get("product_id"), "order_product_id": opid, "sku": item.get("model"),
                        "name": item.get("name"), "quantity": qty, "reason": reason, "action": action,
                        "condition": ep.str("order_product_condition"),
                        "customer_comment": ep.str("order_product_customer_comment"), **extra})
        return out

    def _check_left(self, order: dict[str, Any], products: list[dict[str, Any]], skip: str | None = None) -> None:
        returned = self._returned_quantities(order["id"], skip=skip)
        for prod in products:
            limit = next(int(i.get("quantity") or 0) for i in order["order_products"]
                         if i["order_product_id"] == prod["order_product_id"])
            if returned.get(prod["order_product_id"], 0) + prod["quantity"] > limit:
                raise X.exists(f"A return for order product '{prod['order_product_id']}' of order '{order['id']}' "
                               "already exists")

    def return_add(self, p: Params) -> dict[str, Any]:
        oid = p.need("order_id")  # FAQ: "For all platforms, order_id and order_products must be specified"
        order = self._order(oid)
        statuses = return_statuses(self.cart_id)
        status = _lookup("return_status_id", p.need("return_status_id"), statuses)
        if self.cart_id == "Shopify" and status["id"] not in SHOPIFY_RETURN_START:
            raise X.A2CError(109, f"Parameter 'return_status_id' is not valid. A new Shopify return can only be "
                                  f"{' or '.join(SHOPIFY_RETURN_START)}.")
        action = p.need("return_action_id")
        _lookup("return_action_id", action, RETURN_ACTIONS)
        reason = p.need("return_reason_id")
        if self.cart_id != "Bol":
            _lookup("return_reason_id", reason, RETURN_REASONS)
        else:  # Bol.com has no reason ids: the document requires the field; it is not looked up
            reason = None
        products = self._return_products(order, p.get("order_products"), reason, action)
        self._check_left(order, products)
        rid = str(self.state.next_id("return", start=1))
        now = self.state.now()
        ret = {"id": rid, "name": f"#{rid}", "order_id": oid, "customer_id": order["customer"]["id"] or None,
               "store_id": "1", "created_at": plain_date(now), "modified_at": plain_date(now), "status": status,
               "order_products": products, "comment": p.str("comment"), "staff_note": p.str("staff_note"),
               "_ts": {"created": now, "modified": now}}
        self.returns.put(rid, ret)
        self._sync_return_status(oid)
        self.emit("order.return", "add", public(ret))
        return {"return_id": rid}

    def _returned_quantities(self, oid: str, skip: str | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        for ret in self.returns.values():
            if ret["order_id"] != oid or ret["id"] == skip:
                continue
            for prod in ret["order_products"]:
                out[prod["order_product_id"]] = out.get(prod["order_product_id"], 0) + prod["quantity"]
        return out

    def _sync_return_status(self, oid: str) -> None:
        """``additional_fields.return_status`` of the order: ``no_return`` until a return exists, then
        the status of its latest return (FAQ, "return_status")."""
        mine = sorted((r for r in self.returns.values() if r["order_id"] == oid), key=id_key)
        value = mine[-1]["status"]["id"] if mine else "no_return"

        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            if old is None or (old.get("additional_fields") or {}).get("return_status") == value:
                return old
            new = copy.deepcopy(old)
            new["additional_fields"] = {**(new.get("additional_fields") or {}), "return_status": value}
            return new

        self.orders.update(oid, apply)

    def return_update(self, p: Params) -> dict[str, Any]:
        rid = p.need("return_id")
        current = self.returns.lookup(rid)
        if current is None or ("order_id" in p and current["order_id"] != p.str("order_id")):
            raise X.not_found("Return", rid)
        order = self._order(current["order_id"])
        status = None
        if "return_status_id" in p:
            status = _lookup("return_status_id", p.str("return_status_id"), return_statuses(self.cart_id))
            old_id = current["status"]["id"]
            if self.cart_id == "Shopify" and status["id"] != old_id and status["id"] not in SHOPIFY_RETURN_FLOW.get(old_id, set()):
                allowed = sorted(SHOPIFY_RETURN_FLOW.get(old_id, set()))
                raise X.A2CError(109, f"Parameter 'return_status_id' is not valid. On Shopify a '{old_id}' return can "
                                      f"move to: {', '.join(allowed) if allowed else 'nothing (final status)'}.")
        products = self._return_products(order, p.get("order_products"), p.str("return_reason_id"),
                                         p.str("return_action_id"),
                                         {x["order_product_id"]: x for x in current["order_products"]})
        self._check_left(order, products, skip=rid)
        now = self.state.now()

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None:
                raise X.not_found("Return", rid)
            new = copy.deepcopy(old)
            by_id = {x["order_product_id"]: x for x in new["order_products"]}
            for prod in products:
                by_id[prod["order_product_id"]] = prod
            new["order_products"] = list(by_id.values())
            if status is not None:
                new["status"] = status
            for name in ("comment", "staff_note"):
                if name in p:
                    new[name] = p.str(name)
            new["modified_at"] = plain_date(now)
            new["_ts"]["modified"] = now
            return new

        ret = self.returns.update(rid, apply)
        assert ret is not None
        self._sync_return_status(ret["order_id"])
        self.emit("order.return", "update", public(ret))
        return {"updated_items": 1}

    def return_delete(self, p: Params) -> dict[str, Any]:
        rid, oid = p.need("return_id"), p.need("order_id")
        ret = self.returns.lookup(rid)
        if ret is None or ret["order_id"] != oid:
            raise X.not_found("Return", rid)
        self.returns.delete(rid)
        self._sync_return_status(oid)
        self.emit("order.return", "delete", {"id": rid, "order_id": oid})
        return {"deleted": True}

    def _return_filter(self, p: Params) -> list[dict[str, Any]]:
        ids = p.ids("order_ids") or ([p.str("order_id")] if "order_id" in p else None)
        if self.cart_id == "Shopify" and ids is None:
            # FAQ: "For Shopify, you must specify the order_id or order_ids parameter"
            raise X.A2CError(114, "Parameter 'order_id' or 'order_ids' is required for Shopify")
        items = self.returns.values()
        if ids is not None:
            items = [i for i in items if i["order_id"] in ids]
        if "customer_id" in p:
            items = [i for i in items if i.get("customer_id") == p.str("customer_id")]
        if "status" in p:
            items = [i for i in items if i["status"]["id"] == p.str("status")]
        return sorted(date_filters(items, p, "created", "modified"), key=id_key)

    def return_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        start, count = window(p)
        items = self._return_filter(p)
        chunk, pagination = page(items, start, count)
        rows = [select(public(i), p.str("params"), p.str("exclude"), RETURN_DEFAULT) for i in chunk]
        return {"total_count": len(items), "returns": rows}, pagination

    def return_info(self, p: Params) -> dict[str, Any]:
        rid = p.need("id")
        ret = self.returns.lookup(rid)
        if ret is None or ("order_id" in p and ret["order_id"] != p.str("order_id")):
            raise X.not_found("Return", rid)
        return select(public(ret), p.str("params"), p.str("exclude"), RETURN_DEFAULT)

    def return_count(self, p: Params) -> dict[str, Any]:
        return {"returns_count": len(self._return_filter(p))}

    def return_reasons(self) -> dict[str, Any]:
        if self.cart_id == "Bol":  # FAQ: return reasons (ids) are not supported on Bol.com
            raise X.not_supported("return.reason.list", self.cart_id)
        return {"return_reasons": [{"id": k, "name": v} for k, v in RETURN_REASONS.items()]}

    def return_status_list(self) -> dict[str, Any]:
        return {"return_statuses": [{"id": k, "name": v} for k, v in return_statuses(self.cart_id).items()]}

    def return_action_list(self) -> dict[str, Any]:
        return {"return_actions": [{"id": k, "name": v} for k, v in RETURN_ACTIONS.items()]}

    # -- shipments -----------------------------------------------------------------------------
    def _shipped(self, oid: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in self.shipments.values():
            if s["order_id"] == oid:
                for item in s["items"]:
                    out[item["order_product_id"]] = out.get(item["order_product_id"], 0) + float(item["quantity"] or 0)
        return out

    def shipment_add(self, p: Params) -> dict[str, Any]:
        oid = p.need("order_id")
        order = self._order(oid)
        by_id = {i["order_product_id"]: i for i in order["order_products"]}
        shipped = self._shipped(oid)
        raw = p.get("items")
        if raw is not None and not isinstance(raw, list):
            raise X.invalid("items", "array")
        if not raw:  # no items: ship everything not shipped yet
            raw = [{"order_product_id": k, "quantity": float(v.get("quantity") or 0) - shipped.get(k, 0)}
                   for k, v in by_id.items() if float(v.get("quantity") or 0) - shipped.get(k, 0) > 0]
            if not raw:
                raise X.A2CError(109, f"Order '{oid}' has no items left to ship.")
        items = []
        for entry in raw:
            if not isinstance(entry, dict):
                raise X.invalid("items", "array of objects")
            ep = Params(entry)
            opid = ep.need("order_product_id")
            line = by_id.get(opid)
            if line is None:
                raise X.not_found("Order product", opid)
            qty = ep.num("quantity", float(line.get("quantity") or 0) - shipped.get(opid, 0))
            left = float(line.get("quantity") or 0) - shipped.get(opid, 0)
            if qty is None or qty <= 0 or qty > left:
                raise X.A2CError(109, f"Parameter 'quantity' is not valid. {left:g} unit(s) of order product '{opid}' "
                                      "are left to ship.")
            items.append({"order_product_id": opid, "product_id": line.get("product_id"), "variant_id": line.get("variant_id"),
                          "model": line.get("model"), "name": line.get("name"), "price": line.get("price"), "quantity": qty})
        tracking = []
        raw_tracking = p.get("tracking_numbers")
        if raw_tracking is not None and not isinstance(raw_tracking, list):
            raise X.invalid("tracking_numbers", "array")
        for entry in raw_tracking or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("tracking_number"), str) or not entry["tracking_number"]:
                raise X.invalid("tracking_numbers", "array of {carrier_id, tracking_number}")
            tracking.append({"carrier_id": str(entry.get("carrier_id") or p.str("shipment_provider") or ""),
                             "tracking_number": entry["tracking_number"]})
        sid = str(self.state.next_id("shipment", start=1))
        now = self.state.now()
        shipment = {"id": sid, "order_id": oid, "name": p.str("shipping_method"), "warehouse_id": p.str("warehouse_id"),
                    "shipment_provider": p.str("shipment_provider"), "tracking_numbers": tracking,
                    "created_at": a2c_date(now), "modified_time": a2c_date(now), "items": items,
                    "is_shipped": bool(p.bool("is_shipped", True)), "delivered_at": None,
                    "additional_fields": {"tracking_link": p.str("tracking_link")}, "_ts": {"created": now, "modified": now}}
        self.shipments.put(sid, shipment)
        for item in items:
            shipped[item["order_product_id"]] = shipped.get(item["order_product_id"], 0) + item["quantity"]
        complete = all(shipped.get(k, 0) >= float(v.get("quantity") or 0) for k, v in by_id.items())

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            assert old is not None
            new = copy.deepcopy(old)
            new["_fulfillment_status"] = "fulfilled" if complete else "partially_fulfilled"
            if complete and new["status"]["id"] in ("pending", "processing", "on_hold"):
                new["status"]["id"], new["status"]["name"] = "shipped", ORDER_STATUSES["shipped"]
                new["status"]["history"].append({"id": "shipped", "name": ORDER_STATUSES["shipped"],
                                                 "modified_time": a2c_date(now),
                                                 "notify": bool(p.bool("send_notifications", False)), "comment": ""})
            new["modified_at"] = a2c_date(now)
            new["_ts"]["modified"] = now
            return new

        updated = self.orders.update(oid, apply)
        if updated is not None:
            self.emit("order", "update", public(updated))
        return {"shipment_id": sid}

    def shipment_list(self, p: Params) -> tuple[dict[str, Any], dict[str, Any]]:
        start, count = window(p)
        oid = p.need("order_id")
        self._order(oid)
        items = sorted(date_filters([s for s in self.shipments.values() if s["order_id"] == oid], p, "created", "modified"),
                       key=id_key)
        chunk, pagination = page(items, start, count)
        rows = [select(public(s), p.str("params"), p.str("exclude"), SHIPMENT_DEFAULT) for s in chunk]
        return {"shipment_count": len(items), "shipment": rows}, pagination


    # -- webhooks ------------------------------------------------------------------------------
    def webhook_create(self, p: Params) -> dict[str, Any]:
        entity, action = p.need("entity"), p.need("action")
        if (entity, action) not in WEBHOOK_EVENTS:
            raise X.A2CError(109, f"Webhook for entity '{entity}' and action '{action}' is not supported. "
                                  "See webhook.events.")
        callback = p.need("callback")
        if not re.fullmatch(r"https?://\S+", callback):
            raise X.invalid("callback", "URL")
        for other in self.webhooks.values():
            if other["entity"] == entity and other["action"] == action and other["callback"] == callback:
                raise X.exists(f"Webhook for '{entity}.{action}' with this callback already exists (id {other['id']})")
        wid = self.state.next_id("webhook", start=1)
        now = plain_date(self.state.now())
        hook = {"id": wid, "label": p.str("label", "") or "", "store_id": p.str("store_id", "1") or "1",
                "lang_id": p.str("lang_id"), "active": bool(p.bool("active", True)), "callback": callback,
                "fields": p.str("fields", "force_all") or "force_all", "response_fields": p.str("response_fields"),
                "created_at": now, "updated_at": now, "entity": entity, "action": action,
                "filtering_conditions": p.get("filtering_conditions") if isinstance(p.get("filtering_conditions"), dict) else None}
        self.webhooks.put(str(wid), hook)
        return {"id": wid}

    def _webhook_filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.webhooks.values()
        for name in ("entity", "action"):
            if name in p:
                items = [i for i in items if i[name] == p.str(name)]
        if "active" in p:
            items = [i for i in items if i["active"] == p.bool("active")]
        ids = p.ids("ids")
        if ids is not None:
            items = [i for i in items if str(i["id"]) in ids]
        return sorted(items, key=lambda i: i["id"])

    def webhook_list(self, p: Params) -> dict[str, Any]:
        start, count = window(p)
        chunk, _ = page(self._webhook_filter(p), start, count)
        return {"webhook": [select(i, p.str("params"), None, WEBHOOK_DEFAULT) for i in chunk]}

    def webhook_count(self, p: Params) -> dict[str, Any]:
        return {"webhook_count": len(self._webhook_filter(p))}

    def webhook_update(self, p: Params) -> dict[str, Any]:
        wid = p.need("id")
        if "callback" in p and not re.fullmatch(r"https?://\S+", p.str("callback") or ""):
            raise X.invalid("callback", "URL")
        now = plain_date(self.state.now())

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None:
                raise X.not_found("Webhook", wid)
            new = dict(old)
            for name in ("callback", "label", "fields", "response_fields", "lang_id"):
                if name in p:
                    new[name] = p.str(name)
            if "active" in p:
                new["active"] = p.bool("active")
            if "filtering_conditions" in p.data:
                fc = p.data["filtering_conditions"]
                new["filtering_conditions"] = fc if isinstance(fc, dict) else None
            new["updated_at"] = now
            return new

        self.webhooks.update(wid, apply)
        return {"updated": "true"}

    def webhook_delete(self, p: Params) -> dict[str, Any]:
        wid = p.need("id")
        if not self.webhooks.delete(wid):
            raise X.not_found("Webhook", wid)
        return {"deleted": "true"}

    def subscribers(self, entity: str, action: str) -> list[dict[str, Any]]:
        return [h for h in self.webhooks.values() if h["active"] and h["entity"] == entity and h["action"] == action]


def webhook_events() -> dict[str, Any]:
    return {"events": [{"webhook_name": f"{e}.{a}", "entity": e, "action": a, "filterable_fields": {}}
                       for e, a in WEBHOOK_EVENTS]}


def _lookup(name: str, value: str | None, table: dict[str, str]) -> dict[str, str]:
    if value is None:
        raise X.required(name)
    key = value.strip().lower()
    if key not in table:
        raise X.A2CError(109, f"Parameter '{name}' is not valid. Allowed values: {', '.join(table)}.")
    return {"id": key, "name": table[key]}


def _address(p: Params, prefix: str, kind: str) -> dict[str, Any]:
    country = p.str(f"{prefix}_country", "US") or "US"
    return {"id": "", "type": kind, "first_name": p.str(f"{prefix}_first_name"), "last_name": p.str(f"{prefix}_last_name"),
            "postcode": p.str(f"{prefix}_postcode", "") or "", "address1": p.str(f"{prefix}_address_1", "") or "",
            "address2": p.str(f"{prefix}_address_2"), "phone": p.str(f"{prefix}_phone"), "phone_mobile": None,
            "city": p.str(f"{prefix}_city", "") or "", "country": country_obj(country),
            "state": {"code": p.str(f"{prefix}_state", "") or "", "name": p.str(f"{prefix}_state", "") or ""},
            "company": p.str(f"{prefix}_company"), "fax": p.str(f"{prefix}_fax"), "website": None, "gender": None,
            "region": None, "default": False, "tax_id": None, "identification_number": None, "alias": None}


COUNTRIES = {"US": ("USA", "United States"), "NL": ("NLD", "Netherlands"), "GB": ("GBR", "United Kingdom"),
             "DE": ("DEU", "Germany"), "CA": ("CAN", "Canada"), "ZA": ("ZAF", "South Africa")}


def country_obj(code: str) -> dict[str, str]:
    code2 = code.upper()[:2]
    code3, name = COUNTRIES.get(code2, (code.upper(), code))
    return {"code2": code2, "code3": code3, "name": name}


# -- entity builders (seed and API share them) ------------------------------------------------
def new_product(pid: str, now: float, *, name: str | None, model: str | None, sku: str, description: str | None,
                price: float | None, categories: list[str]) -> dict[str, Any]:
    return {
        "id": pid, "type": "simple", "u_model": model, "u_sku": sku, "name": name, "description": description or "",
        "short_description": "", "price": float(price or 0), "advanced_price": [], "cost_price": None,
        "quantity": 0.0, "inventory": [], "group_items": [], "u_brand_id": None, "u_brand": None,
        "categories_ids": list(categories), "stores_ids": ["1"], "url": None, "seo_url": None, "meta_title": None,
        "meta_keywords": None, "meta_description": None, "avail_sale": True, "avail_view": True, "is_virtual": False,
        "is_downloadable": False, "weight": 0.0, "weight_unit": "lb", "sort_order": 0, "in_stock": False,
        "backorders": "no", "manage_stock": "yes", "is_stock_managed": True, "on_sale": False,
        "create_at": a2c_date(now), "modified_at": a2c_date(now), "tax_class_id": None, "special_price": None,
        "tier_price": [], "group_price": [], "images": [], "product_options": [], "u_upc": None, "u_mpn": None,
        "u_gtin": None, "u_isbn": None, "u_ean": None, "related_products_ids": [], "up_sell_products_ids": [],
        "cross_sell_products_ids": [], "dimensions_unit": "in", "width": None, "height": None, "length": None,
        "discounts": [], "_ts": {"created": now, "modified": now},
    }


_PRODUCT_FIELDS = {"name": "name", "description": "description", "short_description": "short_description",
                   "model": "u_model", "sku": "u_sku", "brand_name": "u_brand", "upc": "u_upc", "ean": "u_ean",
                   "mpn": "u_mpn", "gtin": "u_gtin", "isbn": "u_isbn", "meta_title": "meta_title",
                   "meta_keywords": "meta_keywords", "meta_description": "meta_description", "seo_url": "seo_url",
                   "url": "url", "tax_class_id": "tax_class_id", "weight_unit": "weight_unit",
                   "dimensions_unit": "dimensions_unit", "type": "type"}
_PRODUCT_NUMBERS = {"price": "price", "cost_price": "cost_price", "weight": "weight", "width": "width",
                    "height": "height", "length": "length", "quantity": "quantity"}
_PRODUCT_BOOLS = {"available_for_view": "avail_view", "avail": "avail_view", "available_for_sale": "avail_sale",
                  "is_virtual": "is_virtual", "downloadable": "is_downloadable", "on_sale": "on_sale"}


def _apply_product_fields(product: dict[str, Any], p: Params) -> None:
    for src, dst in _PRODUCT_FIELDS.items():
        if src in p:
            product[dst] = p.str(src)
    for src, dst in _PRODUCT_NUMBERS.items():
        if src in p:
            value = p.num(src)
            if value is not None and value < 0:
                raise X.invalid(src, "unsigned decimal")
            product[dst] = value
    for src, dst in _PRODUCT_BOOLS.items():
        if src in p:
            product[dst] = p.bool(src)
    if "increase_quantity" in p:
        product["quantity"] = float(product.get("quantity") or 0) + (p.num("increase_quantity") or 0)
    if "reduce_quantity" in p:
        left = float(product.get("quantity") or 0) - (p.num("reduce_quantity") or 0)
        if left < 0 and product.get("backorders") == "no":
            raise X.A2CError(109, "Parameter 'reduce_quantity' is not valid. Quantity can't be less than 0.")
        product["quantity"] = left
    if "categories_ids" in p:
        product["categories_ids"] = p.ids("categories_ids") or []
    if "manage_stock" in p:
        product["manage_stock"] = "yes" if p.bool("manage_stock") else "no"
        product["is_stock_managed"] = bool(p.bool("manage_stock"))
    if "in_stock" in p:
        product["in_stock"] = p.bool("in_stock")
    elif any(k in p for k in ("quantity", "increase_quantity", "reduce_quantity")):
        product["in_stock"] = float(product.get("quantity") or 0) > 0
    if "image_url" in p:
        product["images"] = [{"id": "1", "http_path": p.str("image_url"), "file_name": (p.str("image_url") or "").rsplit("/", 1)[-1],
                              "mime-type": None, "size": None, "create_at": None, "modified_at": None, "alt": None,
                              "avail": True, "sort_order": 0, "type": "base"}]


def new_category(cid: str, now: float, name: str, parent: str, description: str, avail: bool | None,
                 sort_order: int) -> dict[str, Any]:
    return {"id": cid, "parent_id": parent, "created_at": a2c_date(now), "modified_at": a2c_date(now), "name": name,
            "short_description": None, "description": description, "stores_ids": ["1"], "keywords": None,
            "meta_description": None, "meta_title": None, "avail": True if avail is None else avail, "path": None,
            "seo_url": None, "sort_order": sort_order, "images": [], "_ts": {"created": now, "modified": now}}


def new_customer(cid: str, now: float, email: str, first: str, last: str, phone: str | None) -> dict[str, Any]:
    return {"id": cid, "email": email, "first_name": first, "last_name": last, "phone": phone,
            "created_time": a2c_date(now), "modified_time": a2c_date(now), "group": [], "login": email,
            "last_login": None, "birth_day": None, "status": "enabled", "is_guest": False,
            "news_letter_subscription": False, "consents": [], "gender": None, "stores_ids": ["1"], "website": None,
            "fax": None, "company": None, "ip_address": None, "address_book": [], "lang_id": "1", "orders_count": 0,
            "last_order_id": None, "_ts": {"created": now, "modified": now}}


def order_item(opid: str, product_id: str | None, name: str, model: str, price: float, qty: int, tax_pct: float,
               weight: float | None = None, variant_id: str | None = None) -> dict[str, Any]:
    total = round(price * qty, 2)
    tax = round(total * tax_pct / 100, 2)
    return {"product_id": product_id, "order_product_id": opid, "model": model, "name": name, "price": price,
            "price_inc_tax": round(price * (1 + tax_pct / 100), 2), "quantity": float(qty), "discount_amount": 0.0,
            "total_price": total, "tax_percent": tax_pct, "tax_value": tax, "tax_value_after_discount": tax,
            "options": [], "variant_id": variant_id, "weight_unit": "lb", "weight": weight,
            "barcode": None, "parent_order_product_id": None}


def new_order(oid: str, order_id: str, now: float, status: str, items: list[dict[str, Any]], *, customer: dict[str, Any],
              billing: dict[str, Any], shipping: dict[str, Any] | None, shipping_price: float = 0.0,
              discount: float = 0.0, currency: str = "USD", payment: str | None = None,
              shipping_method: str | None = None, comment: str | None = None) -> dict[str, Any]:
    subtotal = round(sum(i["total_price"] for i in items), 2)
    tax = round(sum(i["tax_value"] for i in items), 2)
    total = round(subtotal + tax + shipping_price - discount, 2)
    ship = dict(shipping or billing, type="shipping")
    return {
        "id": oid, "order_id": order_id, "basket_id": None, "channel_id": None, "customer": customer,
        "create_at": a2c_date(now),
        "currency": {**CURRENCY, "id": currency, "iso3": currency, "name": currency,
                     "symbol_left": "$" if currency == "USD" else ""},
        "shipping_address": ship, "billing_address": billing,
        "payment_method": {"name": payment or "Credit Card"},
        "shipping_method": {"name": shipping_method or "Flat Rate"}, "shipping_methods": [],
        "status": {"id": status, "name": ORDER_STATUSES[status],
                   "history": [{"id": status, "name": ORDER_STATUSES[status], "modified_time": a2c_date(now),
                                "notify": False, "comment": ""}]},
        "totals": {"total": total, "subtotal": subtotal, "shipping": shipping_price, "tax": tax, "discount": discount},
        "total": {"subtotal_ex_tax": subtotal, "wrapping_ex_tax": None, "shipping_ex_tax": shipping_price,
                  "total_discount": discount, "total_tax": tax, "total": total, "total_paid": total},
        "discounts": [], "order_products": items, "bundles": [], "modified_at": a2c_date(now),
        "finished_time": a2c_date(now) if status in ("complete", "canceled", "refunded") else None,
        "comment": comment, "store_id": "1", "warehouses_ids": [], "refunds": [], "gift_message": None,
        "order_details_url": None, "additional_fields": {"return_status": "no_return"},
        "_ts": {"created": now, "modified": now},
    }


# -- product variants -------------------------------------------------------------------------
class Variants:
    """``product.variant.*``: children of a product, shaped like products (the vendor's list uses Product)."""

    def __init__(self, data: StoreData) -> None:
        self.data = data
        self.variants = data.state.collection("variants")

    def _parent(self, pid: str) -> dict[str, Any]:
        return self.data._product(pid)

    def add(self, p: Params) -> dict[str, Any]:
        pid = p.need("product_id")
        model = p.need("model")
        parent = self._parent(pid)
        sku = p.str("sku") or model
        taken = [v for v in self.variants.values() if v.get("u_sku") == sku or v.get("u_model") == model]
        taken += [x for x in self.data.products.values() if x.get("u_sku") == sku]
        if taken:
            raise X.exists(f"Product variant with SKU '{sku}' or model '{model}' already exists")
        vid = str(self.data.state.next_id("variant", start=1001))
        now = self.data.state.now()
        variant = new_product(vid, now, name=p.str("name") or parent.get("name"), model=model, sku=sku,
                              description=p.str("description") or parent.get("description"),
                              price=p.num("price", parent.get("price")), categories=parent.get("categories_ids", []))
        fields = Params({k: v for k, v in p.data.items() if k not in ("model", "sku", "name", "description")})
        _apply_product_fields(variant, fields)
        attrs = p.get("attributes")
        if attrs is not None and not isinstance(attrs, list):
            raise X.invalid("attributes", "array")
        variant["type"] = "variant"
        variant["parent_id"] = pid
        variant["additional_fields"] = {"attributes": attrs or [], "is_default": bool(p.bool("is_default", False))}
        self.variants.put(vid, variant)
        self.data.emit("product", "update", public(parent))
        return {"product_variant_id": vid}

    def _filter(self, p: Params) -> list[dict[str, Any]]:
        items = self.variants.values()
        if "product_id" in p:
            items = [v for v in items if v["parent_id"] == p.str("product_id")]
        if "category_id" in p:
            items = [v for v in items if p.str("category_id") in v.get("categories_ids", [])]
        return sorted(date_filters(items, p, "created", "modified"), key=id_key)

    def listing(self, p: Params) -> dict[str, Any]:
        start, count = window(p)
        chunk = self._filter(p)[start:start + count]
        return {"variant": [select(public(v), p.str("params"), p.str("exclude"), PRODUCT_DEFAULT) for v in chunk]}

    def count(self, p: Params) -> dict[str, Any]:
        self._parent(p.need("product_id"))
        return {"variants_count": len(self._filter(p))}

    def info(self, p: Params) -> dict[str, Any]:
        vid = p.need("id")
        variant = self.variants.lookup(vid)
        if variant is None:
            raise X.not_found("Product variant", vid)
        return select(public(variant), p.str("params"), p.str("exclude"), PRODUCT_DEFAULT)

    def update(self, p: Params) -> dict[str, Any]:
        vid = p.need("id")
        now = self.data.state.now()

        def apply(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is None or ("product_id" in p and old["parent_id"] != p.str("product_id")):
                raise X.not_found("Product variant", vid)
            new = copy.deepcopy(old)
            _apply_product_fields(new, p)
            new["modified_at"] = a2c_date(now)
            new["_ts"]["modified"] = now
            return new

        self.variants.update(vid, apply)
        return {"updated_items": 1}

    def delete(self, p: Params) -> dict[str, Any]:
        vid, pid = p.need("id"), p.need("product_id")
        variant = self.variants.lookup(vid)
        if variant is None or variant["parent_id"] != pid:
            raise X.not_found("Product variant", vid)
        self.variants.delete(vid)
        return {"deleted": True}

    def drop_children(self, pid: str) -> None:
        for vid, variant in self.variants.items():
            if variant["parent_id"] == pid:
                self.variants.delete(vid)
