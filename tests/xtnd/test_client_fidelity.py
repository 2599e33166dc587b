"""What a webshop written from the integration guide sends (issue #19): query parameter names in any
case (ASP.NET binds them without case, like the paths), changedSince without a zone, an order for
an inactive product."""
from __future__ import annotations

from tests.xtnd.conftest import KEY, V1
from tests.xtnd.test_api import new_order


def test_query_parameter_names_are_case_insensitive(xc):
    every = xc.get(V1 + "/ProductAvailability?pageSize=1000", headers=KEY).json["items"]
    assert len({r["itemNumber"] for r in every}) > 1
    for spelling in ("itemNumbers", "itemnumbers", "ITEMNUMBERS", "ItemNumbers"):
        rows = xc.get(V1 + f"/productavailability?{spelling}=100002&WAREHOUSES=01", headers=KEY).json["items"]
        assert rows and {(r["itemNumber"], r["warehouse"]) for r in rows} == {("100002", "01")}, spelling
    prices = xc.get(V1 + "/ProductPrices?customernumber=10001&itemnumbers=100002", headers=KEY)
    assert prices.status_code == 200 and [p["itemNumber"] for p in prices.json["items"]] == ["100002"]
    # a bad value under another spelling is still validated against the declared parameter
    r = xc.get(V1 + "/Products?PAGESIZE=0", headers=KEY)
    assert r.status_code == 400 and r.json["errorType"] == "Validation"
    # paging names too
    assert len(xc.get(V1 + "/Products?pagesize=2&PAGE=1", headers=KEY).json["items"]) == 2


def test_changed_since_without_a_zone_means_utc(xc):
    zoned = xc.get(V1 + "/Products?changedSince=2023-06-01T00:00:00Z&pageSize=1000", headers=KEY)
    zoneless = xc.get(V1 + "/Products?changedSince=2023-06-01T00:00:00&pageSize=1000", headers=KEY)
    assert zoned.status_code == zoneless.status_code == 200, zoneless.get_data(as_text=True)
    assert zoneless.json == zoned.json
    offset = xc.get(V1 + "/Products?changedSince=2023-06-01T02:00:00%2B02:00&pageSize=1000", headers=KEY)
    assert offset.json == zoned.json


def test_order_for_an_inactive_product_is_accepted_at_the_webshops_price(xc):
    products = xc.get(V1 + "/Products?active=false&pageSize=1000", headers=KEY).json["items"]
    inactive = products[0]["itemNumber"] if isinstance(products[0], dict) else products[0]
    assert xc.get(V1 + f"/Products/{inactive}", headers=KEY).json["active"] is False
    r = xc.post(V1 + "/CustomerOrders", headers=KEY,
                json=new_order(number="SHOP-INACTIVE", rows=[{"itemNumber": inactive, "quantity": 1, "price": 12.5}]))
    assert r.status_code == 201, r.get_data(as_text=True)
    got = xc.get(V1 + "/CustomerOrders/SHOP-INACTIVE", headers=KEY).json
    assert got["rows"][0]["itemNumber"] == inactive and got["rows"][0]["price"] == 12.5
