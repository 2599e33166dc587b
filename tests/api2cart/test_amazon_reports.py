"""Amazon SP-API reads through the Reports API (FAQ, Amazon SP-API, "Important details"):

"Sometimes you may get the API2Cart response with an error "Report is not ready yet, please try
again later (report_request_id=XXXXXXXXXXXX)" ... When receiving this error, you need to wait 1-5
minutes and try to repeat the request with the same parameters. Reports are cached on our side for
15 minutes. If you pass the parameter disable_report_cache=true, the cache is not used."
"""
from __future__ import annotations

import re

import pytest

from tests.api2cart.conftest import SHOPIFY

SCENARIO = "api2cart-amazon-report-not-ready"
NOT_READY = re.compile(r"^Report is not ready yet, please try again later \(report_request_id=(ATVPDKIKX0DER\d{12})\)$")


@pytest.fixture
def amazon(a2c):
    """An Amazon SP-API store with one offer (the FAQ's minimal product.add)."""
    key = a2c.ok("account.cart.add", "POST", store_key=None, body={
        "cart_id": "AmazonSP", "amazon_sp_client_id": "id", "amazon_sp_client_secret": "s",
        "amazon_sp_refresh_token": "Atzr|reports", "amazon_sp_aws_region": "us-east-1",
        "amazon_seller_id": "REPORTS1"})["store_key"]
    store = a2c.on(key)
    store.ok("product.add", "POST", body={"sku": "T3-AZ75-LDQB", "price": 9.99, "quantity": 3, "asin": "B09PH8M15J"})
    return store


def activate(client):
    r = client.post("/__sandbox/scenarios", json={"name": SCENARIO})
    assert r.status_code == 201, r.get_json()


def advance(client, seconds):
    assert client.post("/__sandbox/clock", json={"advance_seconds": seconds}).status_code == 200


def not_ready(a2c, method, **params):
    data = a2c.call(method, **params)
    assert data["return_code"] == 107 and data["result"] == {}, data
    m = NOT_READY.match(data["return_message"])
    assert m, data["return_message"]
    return m.group(1)


def test_by_default_reports_are_ready_at_once(amazon):
    """Connectors work against the sandbox without the scenario: no "not ready" by default."""
    assert amazon.ok("product.list", count=3)["products_count"] == 1
    assert amazon.ok("product.count")["products_count"] == 1


def test_not_ready_then_the_same_request_after_the_clock_moves_gets_the_data(client, amazon):
    activate(client)
    rid = not_ready(amazon, "product.list", count=3, response_fields="{result{product{id}}}")
    advance(client, 60)  # "wait 1-5 minutes": one minute is not enough for a two-minute report
    assert not_ready(amazon, "product.list", count=3, response_fields="{result{product{id}}}") == rid
    advance(client, 61)
    result = amazon.ok("product.list", count=3, response_fields="{result{product{id}}}")
    assert result == {"product": [{"id": "1"}]}  # the vendor's capture: only what response_fields names


def test_paging_and_fields_share_the_report_filters_do_not(client, amazon):
    activate(client)
    rid = not_ready(amazon, "product.list", count=3)
    assert not_ready(amazon, "product.list", count=10, start=0, params="id,name") == rid
    other = not_ready(amazon, "product.list", count=3, find_value="T3", find_where="sku")
    assert other != rid
    assert not_ready(amazon, "product.count") not in (rid, other)  # another method, another report


def test_report_request_id_fetches_the_report(client, amazon):
    """The vendor's capture: the report_request_id from a 107 fetches the now-ready report."""
    activate(client)
    rid = not_ready(amazon, "product.list", count=3)
    advance(client, 120)
    assert amazon.ok("product.list", count=3, report_request_id=rid, disable_report_cache=False)["product"]


def test_cached_for_15_minutes_then_a_new_report(client, amazon):
    activate(client)
    rid = not_ready(amazon, "product.info", id="1")
    advance(client, 120)
    assert amazon.ok("product.info", id="1")["id"] == "1"
    advance(client, 899)  # the cache still holds it: no new report
    assert amazon.ok("product.info", id="1")["id"] == "1"
    advance(client, 2)  # 15 minutes after it was ready: gone, a new report is requested
    assert not_ready(amazon, "product.info", id="1") != rid


def test_disable_report_cache_requests_a_new_report(client, amazon):
    activate(client)
    rid = not_ready(amazon, "category.count")
    advance(client, 120)
    assert amazon.ok("category.count")["categories_count"] == 0
    fresh = not_ready(amazon, "category.count", disable_report_cache=True)  # "the cache is not used"
    assert fresh != rid
    assert amazon.ok("category.count")["categories_count"] == 0  # the cached report still serves
    advance(client, 120)
    assert amazon.ok("category.count", disable_report_cache=True, report_request_id=fresh)["categories_count"] == 0


def test_an_unknown_report_request_id_is_ignored(amazon):
    """The vendor answered its own documentation example id (105245017661) with data."""
    assert amazon.ok("category.count", report_request_id="105245017661")["categories_count"] == 0


def test_other_platforms_and_other_methods_never_use_reports(client, a2c, amazon):
    activate(client)
    assert a2c.on(SHOPIFY).ok("product.list", count=1)["product"]
    assert amazon.ok("order.list")["orders_count"] == 0  # orders are not read through reports


def test_the_scenario_replays_the_same_ids(app_factory):
    """Two sandboxes, the same requests: the same report ids (they come from the store's own
    sequence and key, never from chance or wall time)."""
    from tests.api2cart.conftest import A2C

    def run():
        client = app_factory(apis=["api2cart"]).test_client()
        a2c = A2C(client)
        key = a2c.ok("account.cart.add", "POST", store_key=None, body={
            "cart_id": "AmazonSP", "amazon_sp_client_id": "id", "amazon_sp_client_secret": "s",
            "amazon_sp_refresh_token": "Atzr|replay", "amazon_sp_aws_region": "us-east-1",
            "amazon_seller_id": "REPLAY1"})["store_key"]
        activate(client)
        store = a2c.on(key)
        return [not_ready(store, "product.list", count=1), not_ready(store, "return.count")]

    first = run()
    assert run() == first and len(set(first)) == 2


def test_eu_store_report_ids_carry_its_marketplace(client, a2c):
    key = a2c.ok("account.cart.add", "POST", store_key=None, body={
        "cart_id": "AmazonSP", "amazon_sp_client_id": "id", "amazon_sp_client_secret": "s",
        "amazon_sp_refresh_token": "Atzr|eu", "amazon_sp_aws_region": "eu-west-1", "amazon_seller_id": "EU1"})["store_key"]
    activate(client)
    msg = a2c.on(key).err(107, "product.list")
    assert re.search(r"\(report_request_id=A1F83G8C2ARO7P\d{12}\)$", msg), msg


def test_the_api_option_delays_every_report(app_factory):
    """``amazon_report_delay_seconds``: every report of the sandbox takes that long, no scenario needed;
    16 s is over the 15 s the service waits, 15 s is not."""
    from tests.api2cart.conftest import A2C
    for seconds, code in ((16, 107), (15, 0)):
        client = app_factory(apis=["api2cart"], options={"api2cart": {"amazon_report_delay_seconds": seconds}}).test_client()
        a2c = A2C(client)
        key = a2c.ok("account.cart.add", "POST", store_key=None, body={
            "cart_id": "AmazonSP", "amazon_sp_client_id": "id", "amazon_sp_client_secret": "s",
            "amazon_sp_refresh_token": "Atzr|option", "amazon_sp_aws_region": "us-east-1",
            "amazon_seller_id": "OPTION1"})["store_key"]
        assert a2c.on(key).call("product.count")["return_code"] == code
