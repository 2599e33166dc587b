"""The manual bridge flow (FAQ, "For Open-source Carts" and "store_key"):

  • Call cart.bridge method from which you could get store_key.
  • Call bridge.download method and pass store_key which was generated in cart_bridge.
  • Upload the bridge to the root ftp server folder.
  • Call account.cart.add method [cart_create] and paste previously generated store_url.

``cart.bridge`` issues a store key (kept in the account tenant's ``bridges`` collection);
``bridge.download`` answers ``bridge.zip`` (a ``bridge2cart/`` folder with ``bridge.php`` and a
``config.php`` carrying the store key, as the FAQ's manual install describes); ``account.cart.add``
/ ``cart.create`` with that key connects the store, once the bridge was downloaded (a bridge never
downloaded cannot be on the store: 102). A well-formed key the account did not issue is still
accepted there, as before (a bridge installed by a plugin or from the admin panel).
"""
from __future__ import annotations

import io
import zipfile
from typing import Any

from mocks.api2cart import errors as X
from mocks.api2cart.models.platforms import BRIDGE_VERSION
from mocks.core.state import TenantState

#: zip entries carry this time, so the same key gives the same bytes (record/replay, caches)
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
FOLDER = "bridge2cart/"

_BRIDGE_PHP = """<?php
/*
 * {title} connection bridge {version}.
 * commerce-sandbox placeholder: the shape of the real bridge (a folder to upload to the store's
 * root), not its code. Open https://[your store url]/bridge2cart/bridge.php to check the install.
 */
define('A2C_BRIDGE_VERSION', '{version}');
require_once dirname(__FILE__) . DIRECTORY_SEPARATOR . 'config.php';

if (!defined('A2C_STORE_KEY') || A2C_STORE_KEY === '') {{
    header('HTTP/1.1 500 Internal Server Error');
    echo 'Bridge is not configured: config.php has no store key.';
    exit;
}}
if (!isset($_REQUEST['store_key'])) {{
    echo 'Version: ' . A2C_BRIDGE_VERSION . '<br>BRIDGE INSTALLED.';
    exit;
}}
if (!hash_equals(A2C_STORE_KEY, (string) $_REQUEST['store_key'])) {{
    header('HTTP/1.1 403 Forbidden');
    echo 'Incorrect store key.';
    exit;
}}
header('Content-Type: application/json');
echo json_encode(array('bridge_version' => A2C_BRIDGE_VERSION, 'status' => 'ok'));
"""

_CONFIG_PHP = """<?php
/* The store key this bridge answers to (issued by cart.bridge). Keep it secret. */
define('A2C_STORE_KEY', '{store_key}');
"""


def bridge_zip(store_key: str, whitelabel: bool = False) -> bytes:
    """``bridge.zip``: ``bridge2cart/`` (755) with ``bridge.php`` and ``config.php`` (644), the FAQ's
    permissions; a whitelabel bridge does not name API2Cart."""
    title = "Shopping cart" if whitelabel else "API2Cart"
    files = {FOLDER + "bridge.php": _BRIDGE_PHP.format(title=title, version=BRIDGE_VERSION),
             FOLDER + "config.php": _CONFIG_PHP.format(store_key=store_key)}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        folder = zipfile.ZipInfo(FOLDER, ZIP_TIME)
        folder.external_attr = (0o40755 << 16) | 0x10
        archive.writestr(folder, b"")
        for name, text in files.items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode())
    return out.getvalue()


class Bridges:
    """The store keys one account's ``cart.bridge`` calls issued (lives in the account tenant)."""

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.bridges = state.collection("bridges")

    def issue(self, store_key: str) -> dict[str, Any]:
        """Record a key ``cart.bridge`` made (``Account.issue_bridge`` makes it)."""
        record = {"store_key": store_key, "issued_at": self.state.now(), "downloads": 0, "store": None}
        self.bridges.put(record["store_key"], record)
        return record

    def get(self, store_key: str) -> dict[str, Any] | None:
        return self.bridges.lookup(store_key) if store_key else None

    def downloaded(self, store_key: str) -> None:
        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            if old is None:
                return None
            return {**old, "downloads": int(old.get("downloads", 0)) + 1, "downloaded_at": self.state.now()}
        self.bridges.update(store_key, apply)

    def check_connect(self, store_key: str) -> None:
        """``account.cart.add``/``cart.create`` with a key ``cart.bridge`` issued: its bridge must have
        been downloaded (else it cannot be on the store: 102)."""
        record = self.get(store_key)
        if record is not None and not record.get("downloads"):
            raise X.A2CError(102, f"Bridge not found. Download the bridge of store key '{store_key}' with "
                                  "bridge.download, upload the bridge2cart folder to the store's root folder, then "
                                  "add the store.")

    def connected(self, store_key: str, tenant: str) -> None:
        def apply(old: dict[str, Any] | None) -> dict[str, Any] | None:
            return None if old is None else {**old, "store": tenant}
        self.bridges.update(store_key, apply)
