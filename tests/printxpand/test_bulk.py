"""Every example of the PrintXpand document, in the document's order, against one store.

The seed holds what each example expects to exist already (see mocks/printxpand/seed.py); the
examples that create things run first where the document shows them first.
"""
from __future__ import annotations

import pytest

from tests.printxpand.conftest import items

CUSTOM_OPTIONS = [
    {"title": "Message for packaging", "type": "field", "sort_order": 1, "is_require": 0, "price": 45,
     "price_type": "fixed", "sku": "85465da", "max_characters": 100},
    {"title": "Test Option", "type": "file", "is_require": 0, "sort_order": 3, "price": 2, "price_type": "fixed",
     "sku": "testsku", "file_extension": "png,jpg", "image_size_x": "100", "image_size_y": "20"},
    {"sort_order": 2, "title": "Color", "price_type": "fixed", "type": "drop_down", "is_require": 0, "price": 23,
     "sku": "854465da", "max_characters": 208, "values": [
         {"title": "RED", "value": "red", "sort_order": 1, "price": 10, "price_type": "fixed", "sku": "fgh45",
          "is_delete": 0},
         {"title": "Yellow", "sort_order": 2, "value": "yellow", "price": 10, "price_type": "fixed", "sku": "fhfgh5",
          "is_delete": 0}]},
    {"title": "My test", "type": "date_time", "sort_order": 3, "is_require": 0, "price": 5, "price_type": "fixed",
     "sku": "85465da"},
]
TIER = [{"price": "50", "qty": "15"}, {"price": "40", "qty": "20"}]


def ok(item_id, message):
    return {"id": item_id, "code": "200", "status": "success", "message": message}


def simple(pid, name, category="1001", **extra):
    return {"id": pid, "name": name, "price": "70.12", "special_price": "", "category_id": category, "status": 1,
            "enable_product_designer": 1, "tier_price": TIER, "images": [{"src": "image_url"}], "type": "simple",
            "custom_options": CUSTOM_OPTIONS, **extra}


def variation(vid, color, **extra):
    return {"id": vid, "status": 1, "price": "55.55", "special_price": "", "images": [{"src": "image_src"}],
            "attributes": [{"name": "Size", "option": "M"}, {"name": "Color", "option": color}], **extra}


def order(oid, name, address1="830 W Washington Blvd", address2="830 W Washington Blvd", city="Los Angeles",
          state="California", zip_code="90004", designs=("1524", "1525", "1526"), sub_total="220.00", status="Success"):
    return {"order_id": oid, "shipping_address": {
        "name": name, "address1": address1, "address2": address2, "phone": "777-777-7777", "city": city,
        "state": state, "country": "USA", "country_code": "US", "zip": zip_code},
        "design_id": list(designs), "sub_total": sub_total, "status": status,
        "item_price": ["22.00", "22.00", "22.00"], "item_qty": [2, 3, 5]}


def data(client, collection, tenant):
    return {r.get("id", r.get("order_id")): r for r in
            client.get(f"/__sandbox/data/printxpand/{collection}?tenant={tenant}").json["tenants"].get(tenant, [])}


# -- customers --------------------------------------------------------------------------------
def test_customer_examples(call, client, creds):
    r = call("POST", "/rest/V1/customer/create/", {"customer": {"123456": {
        "id": "123456", "first_name": "jessica", "last_name": "vincent", "email": "jessica.v@gmail.com"}}})
    assert r.status_code == 200
    assert items(r) == [ok("123456", "Customer created successfully!")]

    r = call("POST", "/rest/V1/customer/create/", {"customer": {
        "123456": {"id": "1234001", "first_name": "Missy", "last_name": "Colone", "email": "mscolne08@gmail.com"},
        "1213456": {"id": "1234516", "first_name": "George", "last_name": "Kisty", "email": "george.kisty78@gmail.com"}}})
    assert r.status_code == 201
    assert items(r) == [
        {"id": "1234001", "code": 200, "status": "success", "message": "Customer Updated successfully!"},
        {"id": "1234516", "code": 400, "status": "error",
         "message": "A customer with the same email address already exists in an associated website."}]

    r = call("POST", "/rest/V1/customer/create/", {"customer": {
        "1001": {"id": "1001", "first_name": "Jessica", "last_name": "vincent", "email": "jessica.v@gmail.com"},
        "1002": {"id": "1002", "first_name": "Streak", "last_name": "Styris", "email": "streakstyris@10@gmail.com"}}})
    # 1001 reuses jessica.v@gmail.com, which this API gave 123456 above: the document answers "created"
    # (only a storefront account's address clashes: docs/printxpand.md, Fidelity decisions)
    assert items(r)[0] == {"id": "1001", "code": "200", "status": "success", "message": "Customer created successfully!"}
    assert items(r)[1] == {"id": "1002", "code": "200", "status": "success", "message": "Customer Updated successfully!"}

    r = call("POST", "/rest/V1/customer/create/", {"customer": {
        "123456": {"id": "123456", "first_name": "Veronica", "last_name": "Saddik", "email": "veronica.seddik32@gmail.com"},
        "1213456": {"id": "", "first_name": "Niky", "last_name": "Cooper", "email": "nk.cooper@gmail.com"}}})
    assert r.status_code == 201
    assert items(r) == [
        {"id": "123456", "code": 200, "status": "success", "message": "Customer Updated successfully!"},
        {"code": 404, "status": "error", "message": "Please pass valid customer Id!"}]

    stored = data(client, "customers", creds["tenant"])
    # "The 'first name' and 'last name' will only be updated": the email stays
    assert stored["123456"]["first_name"] == "Veronica" and stored["123456"]["email"] == "jessica.v@gmail.com"
    assert "1234516" not in stored and stored["1001"]["email"] == "jessica.v@gmail.com"


def test_multiple_customers_on_a_fresh_store(call):
    r = call("POST", "/rest/V1/customer/create/", {"customer": {
        "1001": {"id": "1001", "first_name": "Jessica", "last_name": "vincent", "email": "jessica.v@gmail.com"},
        "1002": {"id": "1002", "first_name": "Streak", "last_name": "Styris", "email": "streakstyris@10@gmail.com"}}})
    assert r.status_code == 200
    assert items(r) == [ok("1001", "Customer created successfully!"), ok("1002", "Customer Updated successfully!")]


# -- categories -------------------------------------------------------------------------------
def test_category_examples(call, client, creds):
    r = call("POST", "/rest/V1/category/create/", {"category": {"101": {
        "id": "101", "name": "Stationary", "parent_id": 0, "status": 1}}})
    assert r.status_code == 200 and items(r) == [ok("101", "Category created successfully!")]

    r = call("POST", "/rest/V1/category/create/", {"category": {
        "1001": {"id": 1001, "name": "Book", "parent_id": "", "status": 1},
        "1002": {"id": 0, "name": "Electronics", "parent_id": "1215", "status": 1}}})
    assert r.status_code == 201
    assert items(r) == [
        {"id": 1001, "code": 200, "status": "success", "message": "Category Updated successfully!"},
        {"code": 404, "status": "error", "message": "Please send proper data like id, name and parent id of Category!"}]

    r = call("POST", "/rest/V1/category/create/", {"category": {
        "101": {"id": "101", "name": "Stationary", "parent_id": 0, "status": 1},
        "102": {"id": "102", "name": "Apparel", "parent_id": 0, "status": 1},
        "103": {"id": "103", "name": "Mens", "parent_id": "102", "status": 1}}})
    assert r.status_code == 200
    # the document: 101 (this API's own, created above) "created", 102 (the store's before) "updated"
    assert items(r) == [ok("101", "Category created successfully!"), ok("102", "Category Updated successfully!"),
                        ok("103", "Category created successfully!")]
    assert data(client, "categories", creds["tenant"])["103"]["parent_id"] == "102"

    r = call("POST", "/rest/V1/category/delete/", {"category": ["101"]})
    assert r.status_code == 200 and items(r) == [ok("101", "Category Deleted successfully!")]

    r = call("POST", "/rest/V1/category/delete/", {"category": [10001, 4545454]})
    assert r.status_code == 201
    assert items(r) == [
        {"id": 10001, "code": 200, "status": "success", "message": "Category Deleted successfully!"},
        {"id": 4545454, "code": 404, "status": "error", "message": "Category Id is not Found!"}]

    r = call("POST", "/rest/V1/category/delete/", {"category": ["1001", "1002"]})
    assert r.status_code == 200
    assert items(r) == [ok("1001", "Category Deleted successfully!"), ok("1002", "Category Deleted successfully!")]

    # the document deletes 1001 again and prints success: a category the store had is gone either way;
    # 1003 it never had
    r = call("POST", "/rest/V1/category/delete/", {"category": [1001, 1003]})
    assert r.status_code == 201
    assert items(r) == [{"id": 1001, "code": 200, "status": "success", "message": "Category Deleted successfully!"},
                        {"id": 1003, "code": 404, "status": "error", "message": "Category Id is not Found!"}]
    stored = data(client, "categories", creds["tenant"])
    assert not {"101", "1001", "1002", "10001"} & set(stored) and "103" in stored


def test_category_rules(call, client, creds):
    bad = "Please send proper data like id, name and parent id of Category!"
    r = call("POST", "/rest/V1/category/create", {"category": {
        "a": {"id": "501", "name": "", "status": 1},
        "b": {"id": "502", "name": "Orphan", "parent_id": "9999"},
        "c": {"id": "503", "name": "Flag", "status": 7},
        "d": {"id": "504", "name": "Kid", "parent_id": "102"}}})
    assert [(i.get("id"), i["code"], i["message"]) for i in items(r)] == [
        ("501", 404, bad), ("502", 404, bad), ("503", 404, bad), ("504", 200, "Category created successfully!")]
    # deleting a parent deletes its children and unassigns products from them
    r = call("POST", "/rest/V1/product/create", {"product": {"1": simple("7001", "Mug", category="504,102")}})
    assert r.status_code == 200
    assert data(client, "products", creds["tenant"])["7001"]["category_ids"] == ["504", "102"]
    assert call("POST", "/rest/V1/category/delete", {"category": ["102"]}).status_code == 200
    assert "504" not in data(client, "categories", creds["tenant"])
    assert data(client, "products", creds["tenant"])["7001"]["category_ids"] == []


# -- products ---------------------------------------------------------------------------------
@pytest.mark.parametrize("change", [
    {"variations": {"1": {"id": "1", "attributes": [{"name": "Size", "option": "M"}]}}},           # Color missing
    {"variations": {"1": {"id": "1", "attributes": [{"name": "Weight", "option": "1"}, {"name": "Color", "option": "R"}]}}},
    {"variations": {"1": variation("1", "Red"), "2": variation("2", "Red")}},                      # same combination
    {"attribute_names": ""},
    {"variations": {}},
])
def test_configurable_variations_must_be_proper(call, change):
    product = {"id": "8001", "name": "Cfg", "type": "Configurable", "attribute_names": "Size,Color",
               "variations": {"1": variation("1", "Red")}}
    assert call("POST", "/rest/V1/product/create", {"product": {"x": product}}).status_code == 200
    r = call("POST", "/rest/V1/product/create", {"product": {"x": {**product, **change}}})
    assert items(r)[0]["message"] == "Configurable product and its sub-products must have proper attribute values."


def test_product_type_and_price_rules(call):
    r = call("POST", "/rest/V1/product/create", {"product": {
        "a": {"id": "9001", "name": "Bundle", "type": "bundle"},
        "b": {"id": "9002", "name": "Priced", "type": "SIMPLE", "price": "abc"},
        "c": {"id": "9003", "name": "No type"},
        "d": {"id": "9004", "name": "Fine", "type": "simple", "price": 12.5}}})
    assert r.status_code == 201
    assert [i["code"] for i in items(r)] == [404, 404, 404, 200]
    assert items(r)[1]["message"] == "Please pass vaild price."


# -- orders -----------------------------------------------------------------------------------
def test_order_examples(call, client, creds):
    r = call("POST", "/rest/V1/order/create/", {"order": {"11001": order(
        "11001", "PrintXpand", address1="44, Elispa", city="California", state="Ontario", sub_total="66.00")}})
    assert r.status_code == 200 and items(r) == [ok("11001", "Order Created successfully!!")]
    stored = data(client, "orders", creds["tenant"])["11001"]
    assert [line["qty"] for line in stored["items"]] == [2, 3, 5] and stored["shipping_address"]["zip"] == "90004"

    r = call("POST", "/rest/V1/order/create/", {"order": {"1406539694128": order(
        "1406539694128", "Vincy", designs=("1524", "1525"), status="Open")}})
    assert r.status_code == 404
    assert items(r) == [{"id": "1406539694128", "code": 404, "status": "error",
                         "message": "Order design id, item price, and item qty is not equaled"}]

    ids = ["1406539694128", "1406539923504", "1409158479920", "1409170898992", "1409172930608"]
    body = {"order": {oid: order(oid, "Veronica") for oid in ids}}
    for method in ("POST", "GET"):  # the document lists GET/POST
        r = call(method, "/rest/V1/order/create/", body)
        assert r.status_code == 200
        assert items(r) == [ok(oid, "Order updated successfully!") for oid in ids]


def test_order_requires_its_fields(call):
    base = order("555", "Ann")
    r = call("POST", "/rest/V1/order/create", {"order": {
        "a": {k: v for k, v in base.items() if k != "shipping_address"},
        "b": {**base, "order_id": ""},
        "c": {**base, "item_qty": []}}})
    assert r.status_code == 404
    assert items(r)[0]["id"] == "555" and "id" not in items(r)[1]
    assert all(i["message"].startswith("Please pass proper order data") for i in items(r))


# -- whole-request errors: 400 in the bulk envelope, one result without an id, nothing stored ----
@pytest.mark.parametrize("path,body,message", [
    ("/rest/V1/customer/create/", {"customers": {}}, '"customer" is required: send {"customer": {"<id>": {...}, ...}}.'),
    ("/rest/V1/product/delete/", {}, '"product" is required: send {"product": ["<id>", ...]}.'),
    ("/rest/V1/category/delete/", {"category": {"1": "1"}},
     '"category" must be an array of ids: send {"category": ["<id>", ...]}.'),
    ("/rest/V1/category/create/", {"category": ["1"]},
     '"category" must be an object keyed by id: send {"category": {"<id>": {...}, ...}}.'),
    ("/rest/V1/product/create/", [1, 2], '"product" must be an object keyed by id: send {"product": {"<id>": {...}, ...}}.'),
    ("/V1/order/create", "order", '"order" must be an object keyed by id: send {"order": {"<id>": {...}, ...}}.'),
])
def test_body_not_the_documented_structure(call, client, creds, path, body, message):
    before = client.get("/__sandbox/data/printxpand").json
    r = call("POST", path, body)
    assert r.status_code == 400
    assert r.get_json() == [{"response": [{"code": 400, "status": "error", "message": message}]}]
    assert client.get("/__sandbox/data/printxpand").json == before


def test_get_order_with_wrong_structure(call):
    r = call("GET", "/rest/V1/order/create/", {"order": ["x"]})
    assert r.status_code == 400
    assert items(r) == [{"code": 400, "status": "error",
                         "message": '"order" must be an object keyed by id: send {"order": {"<id>": {...}, ...}}.'}]


def test_malformed_json_and_form_bodies(client, creds):
    auth = {"Authorization": f"Bearer {creds['bearer_token']}"}
    before = client.get("/__sandbox/data/printxpand").json
    r = client.post("/printxpand/rest/V1/customer/create/", data=b'{"customer": {"1": {"id": "1"}', headers=auth,
                    content_type="application/json")
    assert r.status_code == 400 and items(r)[0]["message"].startswith("Decoding error:") and "id" not in items(r)[0]
    r = client.post("/printxpand/rest/V1/customer/create/", data={"customer": "x"}, headers=auth)
    assert r.status_code == 400
    assert items(r)[0]["message"].startswith("Server cannot understand Content-Type HTTP header media type")
    assert client.get("/__sandbox/data/printxpand").json == before


@pytest.mark.parametrize("path,root,create", [
    ("/rest/V1/product/create/", "product", True), ("/rest/V1/customer/create", "customer", True),
    ("/rest/V1/category/delete/", "category", False), ("/V1/order/create/", "order", True)])
def test_more_than_1000_items_is_a_400_and_nothing_is_stored(call, client, path, root, create):
    before = client.get("/__sandbox/data/printxpand").json
    ids = [str(900_000 + i) for i in range(1001)]
    body = {root: {i: {"id": i, "order_id": i, "name": "x", "type": "simple"} for i in ids} if create else ids}
    r = call("POST", path, body)
    assert r.status_code == 400
    assert items(r) == [{"code": 400, "status": "error",
                         "message": f'Too many items: 1001 in "{root}"; send at most 1000 per request.'}]
    assert client.get("/__sandbox/data/printxpand").json == before


def test_exactly_1000_items_are_accepted(call, client, creds):
    body = {"category": {str(i): {"id": str(800_000 + i), "name": f"C{i}"} for i in range(1000)}}
    r = call("POST", "/rest/V1/category/create/", body)
    assert r.status_code == 200 and len(items(r)) == 1000
    assert [i["id"] for i in items(r)] == [str(800_000 + i) for i in range(1000)]  # input order


def test_unknown_route_is_magento_404(client, creds):
    r = client.post("/printxpand/rest/V1/nothing/here", json={}, headers={"Authorization": f"Bearer {creds['bearer_token']}"})
    assert r.status_code == 404 and r.get_json() == {"message": "Request does not match any route.", "parameters": []}


def test_empty_batch(call):
    r = call("POST", "/rest/V1/customer/create/", {"customer": {}})
    assert r.status_code == 200 and r.get_json() == [{"response": []}]


# -- tenancy ----------------------------------------------------------------------------------
def test_consumers_are_isolated_tenants(call, client, consumers):
    first, second = consumers
    assert first["tenant"] != second["tenant"]
    r = call("POST", "/rest/V1/category/create/", {"category": {"x": {"id": "4242", "name": "Only B"}}}, who=second)
    assert items(r) == [ok("4242", "Category created successfully!")]
    assert "4242" in data(client, "categories", second["tenant"])
    assert "4242" not in data(client, "categories", first["tenant"])
    r = call("POST", "/rest/V1/category/delete/", {"category": ["4242"]}, who=first)
    assert items(r)[0]["message"] == "Category Id is not Found!"
    r = client.post("/printxpand/rest/V1/category/delete/", json={"category": ["4242"]},
                    headers={"Authorization": f"Bearer {second['bearer_token']}"})
    assert r.status_code == 200


def test_seed_is_deterministic_and_holds_the_examples(app_factory):
    a = app_factory(apis=["printxpand"]).test_client().get("/__sandbox/data/printxpand").json
    b = app_factory(apis=["printxpand"]).test_client().get("/__sandbox/data/printxpand").json
    assert a == b
    tenant = next(iter(a["tenants"].values()))
    assert {"1002", "1234001"} <= {c["id"] for c in tenant["customers"]}
    assert {"10002", "10034", "10004", "10008", "10012"} <= {p["id"] for p in tenant["products"]}
    assert "1406539694128" in {o["order_id"] for o in tenant["orders"]}


def test_structure_answers_come_from_the_structured_error_not_its_english(call, monkeypatch):
    """A jsonschema upgrade that rewords its messages changes none of PrintXpand's answers."""
    from mocks.core import contracts
    monkeypatch.setattr(contracts, "_reason", lambda error: "reworded by a newer jsonschema")
    r = call("POST", "/rest/V1/product/delete/", {})
    assert items(r)[0]["message"] == '"product" is required: send {"product": ["<id>", ...]}.'
    r = call("POST", "/rest/V1/category/create/", {"category": ["1"]})
    assert items(r)[0]["message"] == '"category" must be an object keyed by id: send {"category": {"<id>": {...}, ...}}.'
    ids = [str(900_000 + i) for i in range(1001)]
    r = call("POST", "/rest/V1/category/delete/", {"category": ids})
    assert items(r)[0]["message"] == 'Too many items: 1001 in "category"; send at most 1000 per request.'
