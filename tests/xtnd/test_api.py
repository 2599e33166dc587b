"""XTND Extend Commerce: auth, case-insensitive paths, orders, masterdata, prices, errors."""
from __future__ import annotations

import pytest

from tests.xtnd.conftest import KEY, OTHER, READONLY, V1


def new_order(number="SHOP-1001", customer="10001", rows=None, **extra):
    return {"orderNumber": number, "customerNumber": customer,
            "rows": rows or [{"itemNumber": "100002", "quantity": 3, "price": 19.9},
                             {"itemNumber": "100003", "quantity": 1, "price": 1234.5678}], **extra}


def assert_error(r, status, error_type, field=None):
    assert r.status_code == status, r.get_data(as_text=True)
    body = r.json
    assert body["errorType"] == error_type and body["status"] == status and body["message"]
    assert isinstance(body["errors"], list)
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body


# -- auth ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "xtnd-demo-key"},
                                     {"Authorization": "Basic xtnd-demo-key"}, {"Authorization": "Bearer "}])
@pytest.mark.parametrize("method,path", [("GET", "/CustomerOrders"), ("POST", "/CustomerOrders"),
                                         ("GET", "/Products/100001"), ("GET", "/nowhere")])
def test_missing_or_wrong_key_is_401(xc, headers, method, path):
    r = xc.open(V1 + path, method=method, headers=headers, json=new_order())
    assert_error(r, 401, "Authentication")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_scheme_is_case_insensitive(xc):
    assert xc.get(V1 + "/Products", headers={"Authorization": "bearer xtnd-demo-key"}).status_code == 200


def test_read_only_key_reads_but_may_not_write(xc):
    assert xc.get(V1 + "/CustomerOrders", headers=READONLY).status_code == 200
    assert_error(xc.post(V1 + "/CustomerOrders", headers=READONLY, json=new_order()), 403, "Authorization")
    assert xc.get(V1 + "/CustomerOrders/SHOP-1001", headers=KEY).status_code == 404


def test_credentials_listed_in_control_plane(xc):
    creds = xc.get("/__sandbox/credentials").json["xtnd"]
    assert creds["api_key"] == "xtnd-demo-key" and creds["header"] == "Authorization" and creds["scheme"] == "Bearer"
    assert len(creds["keys"]) == 2 and creds["keys"][0]["tenant"] != creds["keys"][1]["tenant"]


# -- paths ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/CustomerOrders/WS500002", "/api/v1/customerorders/WS500002",
                                  "/API/V1/CUSTOMERORDERS/ws500002", "/Api/v1/CustomerOrders/ws500002"])
def test_paths_are_case_insensitive(xc, path):
    r = xc.get("/xtnd" + path, headers=KEY)
    assert r.status_code == 200 and r.json["orderNumber"] == "WS500002"


def test_unknown_route_and_method(xc):
    assert_error(xc.get(V1 + "/Invoices", headers=KEY), 404, "NotFound")
    r = xc.delete(V1 + "/CustomerOrders", headers=KEY)
    assert_error(r, 405, "MethodNotAllowed")
    assert set(r.headers["Allow"].split(", ")) == {"GET", "POST"}
    assert xc.get(V1 + "/CustomerOrders/", headers=KEY).status_code == 404


def test_options_head_and_the_served_contract(xc):
    r = xc.options(V1 + "/customerorders", headers=KEY)
    assert r.status_code == 204 and set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    r = xc.options(V1 + "/Webhooks/wh-0001", headers=KEY)
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
    assert_error(xc.options(V1 + "/Invoices", headers=KEY), 404, "NotFound")
    assert xc.head(V1 + "/Products", headers=KEY).status_code == 200
    doc = xc.get("/xtnd/openapi.json").json
    assert doc["openapi"].startswith("3.1") and "/api/v1/CustomerOrders/{id}" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # the sandbox-only operations are not part of the emulated API's contract
    assert not [p for p in doc["paths"] if "advance" in p.lower() or p.count("/") > 4 and "Availability" in p]
    assert set(doc["webhooks"]) == {"AvailableBalanceChanged", "OrderCreated", "OrderReserved", "OrderPicked",
                                    "OrderCancelled", "OrderDeliveryDataChanged", "ProductChanged",
                                    "CustomerCreated", "CustomerChanged"}


# -- orders --------------------------------------------------------------------------------------
def test_create_order_keeps_the_webshop_prices_exactly(xc):
    r = xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(yourReference="web"))
    assert r.status_code == 201, r.json
    order = r.json
    assert order["orderNumber"] == "SHOP-1001" and order["status"] == "created"
    assert [(row["itemNumber"], row["quantity"], row["price"]) for row in order["rows"]] == [
        ("100002", 3, 19.9), ("100003", 1, 1234.5678)]
    assert order["orderTotal"] == 1294.27
    assert order["shipment"]["deliveryStatus"] == "notDelivered" and order["shipment"]["trackingNumber"] is None
    again = xc.get(V1 + "/customerorders/shop-1001", headers=KEY).json
    assert again == order


def test_order_validation_names_the_fields(xc):
    bad = new_order(customer="99999", rows=[{"itemNumber": "100002", "quantity": 1, "price": 1},
                                            {"itemNumber": "NOPE", "quantity": 1, "price": 1}], warehouse="77")
    r = xc.post(V1 + "/CustomerOrders", headers=KEY, json=bad)
    assert_error(r, 400, "Validation", "customerNumber")
    fields = {e["field"] for e in r.json["errors"]}
    assert fields == {"customerNumber", "rows[1].itemNumber", "warehouse"}
    assert_error(xc.post(V1 + "/CustomerOrders", headers=KEY, json={"orderNumber": "X", "customerNumber": "10001"}),
                 400, "Validation", "rows")
    r = xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(rows=[{"itemNumber": "100002", "quantity": 0, "price": 1}]))
    assert_error(r, 400, "Validation", "rows[0].quantity")
    assert_error(xc.post(V1 + "/CustomerOrders", headers=KEY, data="{not json", content_type="application/json"),
                 400, "Validation")
    assert xc.get(V1 + "/CustomerOrders", headers=KEY).json["totalCount"] == 12


def test_order_and_customer_numbers_are_kept_as_sent_and_found_in_any_case(xc):
    r = xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(number="shop-Ab1"))
    assert r.json["orderNumber"] == "shop-Ab1"
    assert xc.get(V1 + "/CustomerOrders/SHOP-AB1", headers=KEY).json["orderNumber"] == "shop-Ab1"
    assert "shop-Ab1" in xc.get(V1 + "/CustomerOrders", headers=KEY).json["items"]
    c = xc.post(V1 + "/Customers", headers=KEY, json={"name": "Case AB", "customerNumber": "web-7"}).json
    assert c["customerNumber"] == "web-7" and xc.get(V1 + "/Customers/WEB-7", headers=KEY).json == c
    o = xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(number="o-2", customer="WEB-7")).json
    assert o["customerNumber"] == "web-7"
    assert xc.get(V1 + "/CustomerOrders?customerNumber=Web-7", headers=KEY).json["items"] == ["o-2"]
    assert xc.get(V1 + "/ProductPrices?customerNumber=WEB-7&itemNumbers=100002", headers=KEY).json["items"]


def test_duplicate_order_number_is_a_validation_error(xc):
    assert xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order()).status_code == 201
    r = xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order(number="shop-1001"))
    assert_error(r, 400, "Validation", "orderNumber")


def test_order_not_found(xc):
    r = xc.get(V1 + "/CustomerOrders/NOPE-1", headers=KEY)
    assert_error(r, 404, "NotFound")
    assert "NOPE-1" in r.json["message"]


def test_list_orders_filters_and_pages(xc):
    listing = xc.get(V1 + "/CustomerOrders", headers=KEY).json
    assert listing["totalCount"] == 12 and listing["page"] == 1 and listing["totalPages"] == 1
    shipped = xc.get(V1 + "/CustomerOrders?status=shipped", headers=KEY).json["items"]
    assert shipped and all(xc.get(f"{V1}/CustomerOrders/{n}", headers=KEY).json["status"] == "delivered" for n in shipped)
    assert shipped == xc.get(V1 + "/CustomerOrders?status=delivered", headers=KEY).json["items"]
    one = xc.get(f"{V1}/CustomerOrders/{shipped[0]}", headers=KEY).json
    assert one["shipment"]["trackingNumber"] and one["shipment"]["deliveredRows"]
    by_customer = xc.get(V1 + f"/CustomerOrders?customerNumber={one['customerNumber']}", headers=KEY).json["items"]
    assert shipped[0] in by_customer
    pages = [xc.get(V1 + f"/CustomerOrders?pageSize=5&page={p}", headers=KEY).json for p in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [5, 5, 2] and pages[0]["totalPages"] == 3
    assert sum((p["items"] for p in pages), []) == listing["items"]
    xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order())
    created = xc.get(V1 + "/CustomerOrders/SHOP-1001", headers=KEY).json["changed"]
    assert xc.get(V1 + f"/CustomerOrders?changedSince={created}", headers=KEY).json["items"] == ["SHOP-1001"]
    assert_error(xc.get(V1 + "/CustomerOrders?changedSince=yesterday-ish", headers=KEY), 400, "Validation", "changedSince")
    assert_error(xc.get(V1 + "/CustomerOrders?status=lost", headers=KEY), 400, "Validation", "status")
    assert_error(xc.get(V1 + "/CustomerOrders?page=0", headers=KEY), 400, "Validation", "page")


def test_tenants_are_isolated(xc):
    assert xc.post(V1 + "/CustomerOrders", headers=KEY, json=new_order()).status_code == 201
    assert_error(xc.get(V1 + "/CustomerOrders/SHOP-1001", headers=OTHER), 404, "NotFound")
    assert "SHOP-1001" not in xc.get(V1 + "/CustomerOrders", headers=OTHER).json["items"]
    other = xc.get("/__sandbox/credentials").json["xtnd"]["keys"][1]["tenant"]
    xc.put(f"/__sandbox/xtnd/availability?tenant={other}", json={"itemNumber": "100002", "warehouse": "01",
                                                                  "availableBalance": 7})
    mine = xc.get(V1 + "/ProductAvailability?itemNumbers=100002&warehouses=01", headers=KEY).json["items"][0]
    theirs = xc.get(V1 + "/ProductAvailability?itemNumbers=100002&warehouses=01", headers=OTHER).json["items"][0]
    assert theirs["availableBalance"] == 7 and mine["availableBalance"] != 7 or mine["changed"] != theirs["changed"]


# -- masterdata and prices -----------------------------------------------------------------------
def test_products_list_filters_and_detail(xc):
    all_numbers = xc.get(V1 + "/Products?pageSize=1000", headers=KEY).json["items"]
    assert len(all_numbers) == 40
    product = xc.get(V1 + "/products/" + all_numbers[5], headers=KEY).json
    assert product["itemNumber"] == all_numbers[5] and product["standardPrice"] > 0
    since = xc.get(V1 + f"/Products?changedSince={product['changed']}&pageSize=1000", headers=KEY).json["items"]
    assert since == all_numbers[5:]
    group = xc.get(V1 + f"/Products?productGroup={product['productGroup'].lower()}", headers=KEY).json["items"]
    assert product["itemNumber"] in group and len(group) == 8
    inactive = xc.get(V1 + "/Products?active=false", headers=KEY).json["items"]
    assert inactive and all(not xc.get(f"{V1}/Products/{n}", headers=KEY).json["active"] for n in inactive)
    assert_error(xc.get(V1 + "/Products/NOPE", headers=KEY), 404, "NotFound")
    assert_error(xc.get(V1 + "/Products?pageSize=5000", headers=KEY), 400, "Validation", "pageSize")


def test_customers_list_detail_and_create(xc):
    listing = xc.get(V1 + "/Customers", headers=KEY).json
    assert listing["totalCount"] == 15
    customer = xc.get(V1 + "/Customers/" + listing["items"][0], headers=KEY).json
    assert customer["customerNumber"] == listing["items"][0] and customer["name"]
    r = xc.post(V1 + "/Customers", headers=KEY, json={"name": "Webshop Buyer AB", "email": "buyer@example.com"})
    assert r.status_code == 201 and r.json["customerNumber"] == "20001" and r.json["currency"] == "SEK"
    assert xc.get(V1 + "/customers/20001", headers=KEY).json == r.json
    assert_error(xc.post(V1 + "/Customers", headers=KEY, json={"name": "Again", "customerNumber": "20001"}),
                 400, "Validation", "customerNumber")
    assert_error(xc.post(V1 + "/Customers", headers=KEY, json={"email": "x@example.com"}), 400, "Validation", "name")
    assert_error(xc.get(V1 + "/Customers/00000", headers=KEY), 404, "NotFound")


def prices(xc, customer, items="100001"):
    query = f"&itemNumbers={items}" if items else "&pageSize=1000"
    r = xc.get(V1 + f"/ProductPrices?customerNumber={customer}{query}", headers=KEY)
    assert r.status_code == 200, r.json
    return r.json


def test_best_prices_need_a_customer_number(xc):
    assert_error(xc.get(V1 + "/ProductPrices", headers=KEY), 400, "Validation", "customerNumber")
    assert_error(xc.get(V1 + "/ProductPrices?customerNumber=", headers=KEY), 400, "Validation", "customerNumber")
    assert_error(xc.get(V1 + "/ProductPrices?customerNumber=424242", headers=KEY), 404, "NotFound")


def test_each_price_source_wins_for_a_seeded_customer(xc):
    standard = xc.get(V1 + "/Products/100001", headers=KEY).json["standardPrice"]
    own = prices(xc, "10001")["items"][0]  # own price list: 70 % of standard, beats the 85 % campaign
    assert own["priceSource"] == "priceList" and own["priceList"] == "PL-10001"
    assert own["price"] == round(standard * 0.7, 2) and own["campaign"] is None
    disc = prices(xc, "10002")["items"][0]  # discount list: 25 % off the standard price list
    assert disc["priceSource"] == "discountList" and disc["discountList"] == "DL-B" and disc["discountPercent"] == 25
    assert disc["priceList"] == "STANDARD" and disc["price"] == round(standard * 0.75, 2)
    camp = prices(xc, "10003")["items"][0]  # nothing of its own: the running campaign
    assert camp["priceSource"] == "campaign" and camp["campaign"] == "CAMP-1"
    assert camp["price"] == round(standard * 0.85, 2) and camp["validTo"] == "2100-01-01T00:00:00.000Z"
    for body in (prices(xc, c, "") for c in ("10001", "10002", "10003")):
        assert body["totalCount"] == 37 and all(r["price"] <= r["standardPrice"] for r in body["items"])


def test_a_campaign_past_its_end_no_longer_wins(xc):
    assert prices(xc, "10003")["items"][0]["priceSource"] == "campaign"
    assert prices(xc, "10003", "100014")["items"][0]["priceSource"] == "priceList"  # CAMP-3 starts 2100-01-01
    clock = xc.get("/__sandbox/clock").json
    end = 4_102_444_800  # 2100-01-01T00:00:00Z, CAMP-1's validTo (exclusive) and CAMP-3's validFrom
    xc.post("/__sandbox/clock", json={"advance_seconds": end - clock["now"] + 1})
    after = prices(xc, "10003", "100001,100014")
    assert after["at"].startswith("2100-01-01")
    first, later = after["items"]
    assert first["priceSource"] == "priceList" and first["priceList"] == "STANDARD" and first["campaign"] is None
    assert later["priceSource"] == "campaign" and later["campaign"] == "CAMP-3"
    assert prices(xc, "10002")["items"][0]["priceSource"] == "discountList"  # open-ended: still valid


def test_key_account_campaign_only_for_its_customers(xc):
    item = "100015"  # CAMP-4: customers 10004 and 10007 only
    assert prices(xc, "10004", item)["items"][0]["campaign"] == "CAMP-4"
    assert prices(xc, "10005", item)["items"][0]["campaign"] is None


def test_prices_follow_masterdata_and_list_changes(xc):
    xc.patch("/__sandbox/xtnd/customers/10003", json={"discountList": "dl-b"})
    row = prices(xc, "10003")["items"][0]
    assert row["priceSource"] == "discountList"  # 25 % off beats the 15 % campaign
    xc.patch("/__sandbox/xtnd/customers/10003", json={"discountList": "DL-OLD"})  # expired in 2024
    assert prices(xc, "10003")["items"][0]["priceSource"] == "campaign"
    r = xc.patch("/__sandbox/xtnd/customers/10003", json={"discountList": "NOPE"})
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "discountList"


def test_seed_is_deterministic(app_factory):
    a = app_factory(apis=["xtnd"]).test_client()
    b = app_factory(apis=["xtnd"]).test_client()
    for path in ("/Products/100007", "/Customers/10003", "/CustomerOrders/WS500004", "/ProductAvailability"):
        assert a.get(V1 + path, headers=KEY).json == b.get(V1 + path, headers=KEY).json


def test_every_operation_of_the_contract_has_a_handler_and_no_handler_is_extra():
    """The routes use the gateway's matcher: urls come from schemas/xtnd/openapi.yaml, by operationId."""
    from mocks.core.contracts import load_contract
    from mocks.xtnd.routes import ROUTES
    contract = load_contract("xtnd", case_insensitive=True)
    assert {op.operation_id for op in contract.operations} == set(ROUTES)
