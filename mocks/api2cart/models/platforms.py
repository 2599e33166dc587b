"""API2Cart platforms: the bridge carts and the API platforms (with the credential sets that
connect each), their versions, which are polled for webhooks and which offer live shipping;
``cart.list`` and ``account.supported_platforms``."""
from __future__ import annotations

from typing import Any, Iterable

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
    # the official set, and the FAQ's ("To add eBay ... the following parameters are required":
    # client id, secret, refresh token, environment; no RuName)
    "EBay": ("eBay", [("ebay_client_id", "ebay_client_secret", "ebay_runame", "ebay_refresh_token"),
                      ("ebay_client_id", "ebay_client_secret", "ebay_refresh_token", "ebay_environment")]),
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
#: account.cart.add parameters with a closed set of values (any case; an empty walmart_environment is
#: allowed: FAQ "you can leave empty"): the FAQ's eBay "Sandbox or Production", Amazon's SP-API
#: regions table (us-east-1, eu-west-1, us-west-2), Walmart's environments and marketplaces
CONNECT_VALUES: dict[str, tuple[str, ...]] = {
    "ebay_environment": ("sandbox", "production"),
    "amazon_sp_api_environment": ("sandbox", "production"),
    "amazon_sp_aws_region": ("us-east-1", "eu-west-1", "us-west-2"),
    "walmart_environment": ("sandbox", "production"),
    "walmart_region": ("us", "ca", "mx"),
}

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
#: the table prefix each bridge platform's installer proposes, which cart.info's ``db_prefix`` shows
#: unless ``db_tables_prefix`` (account.cart.add, account.config.update) names another one (FAQ: "In
#: most cases the system automatically defines the prefix ... you should ... define the prefix of your
#: shopping cart with a parameter db_tables_prefix"); a platform not named here has none by default
DB_PREFIXES = {"Woocommerce": "wp_", "WPecommerce": "wp_", "Opencart14": "oc_", "Prestashop": "ps_",
               "Cscart": "cscart_", "Cubecart": "CubeCart_", "Tomatocart": "toc_", "Xcart": "xcart_",
               "Zencart137": "zen_", "Virtuemart": "jos_", "JooCart": "jos_", "MijoShop": "jos_", "AceShop": "jos_",
               "XtcommerceVeyton": "xt_"}
BRIDGE_PARAMS = ("store_url", "store_key", "bridge_url", "store_root", "ftp_host", "ftp_user", "ftp_password",
                 "ftp_port", "ftp_store_dir")


def db_prefix(store: dict[str, Any]) -> str:
    """cart.info's ``db_prefix``: the ``db_tables_prefix`` the store was added (or updated) with, else
    its platform's default; API platforms have no database of theirs to prefix ("")."""
    if store["cart_id"] not in BRIDGE_CARTS:
        return ""
    given = store.get("db_tables_prefix")
    return given if isinstance(given, str) and given else DB_PREFIXES.get(store["cart_id"], "")


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


CURRENCY = {"id": "USD", "name": "US Dollar", "iso3": "USD", "symbol_left": "$", "symbol_right": "", "rate": 1.0,
            "avail": True, "default": True}
