"""FAQ: "if you have several shopping carts of one type ... you should use the method account.cart.add
and define the prefix of your shopping cart with a parameter db_tables_prefix" - cart.info's db_prefix."""
from __future__ import annotations

import pytest

from tests.api2cart.conftest import MAGENTO, SHOPIFY, WOO

KEY = "ab37fc230bc5df63a5be1b11220949be"  # the FAQ's own store_key example


def add_opencart(a2c, **extra):
    body = {"cart_id": "Opencart14", "store_url": "https://oc.example.com", "store_key": KEY, **extra}
    return a2c.ok("account.cart.add", "POST", store_key=None, body=body)["store_key"]


def test_opencart_added_with_oc_prefix_reports_it(a2c):
    key = add_opencart(a2c, db_tables_prefix="oc_")
    info = a2c.ok("cart.info", store_key=key)
    assert info["db_prefix"] == "oc_"
    assert a2c.ok("cart.info", store_key=key, params="db_prefix") == {"db_prefix": "oc_"}


def test_a_second_opencart_with_its_own_prefix(a2c):
    """The FAQ's case: several carts of one type, each with its prefix."""
    key = add_opencart(a2c, db_tables_prefix="shop2_")
    assert a2c.ok("cart.info", store_key=key)["db_prefix"] == "shop2_"


@pytest.mark.parametrize("store, expected", [(WOO, "wp_"), (MAGENTO, ""), (SHOPIFY, "")])
def test_platform_defaults(a2c, store, expected):
    """WooCommerce's installer proposes wp_, Magento none; an API platform has no tables of its own."""
    assert a2c.on(store).ok("cart.info")["db_prefix"] == expected


def test_opencart_without_prefix_gets_the_platform_default(a2c):
    assert a2c.ok("cart.info", store_key=add_opencart(a2c))["db_prefix"] == "oc_"


def test_config_update_changes_the_prefix(a2c):
    key = add_opencart(a2c, db_tables_prefix="oc_")
    assert a2c.ok("account.config.update", "PUT", store_key=key, db_tables_prefix="old_oc_")["updated_items"] == 1
    assert a2c.ok("cart.info", store_key=key)["db_prefix"] == "old_oc_"


def test_a_prefix_that_is_no_table_name_is_refused_and_nothing_is_added(a2c):
    before = a2c.ok("account.cart.list", store_key=None)["carts_count"]
    msg = a2c.err(109, "account.cart.add", "POST", store_key=None, body={
        "cart_id": "Opencart14", "store_url": "https://oc.example.com", "store_key": KEY, "db_tables_prefix": "oc; DROP"})
    assert "db_tables_prefix" in msg
    assert a2c.ok("account.cart.list", store_key=None)["carts_count"] == before
