"""What the official SDK and the official document's examples send (issue #19): the vendor's example
values, order.add without order_item_model, count with page_cursor, the deprecated marks."""
from __future__ import annotations

import copy

import yaml

from mocks.api2cart.models.orders import resolve_status
from tests.api2cart.test_catalog_orders import ORDER


def test_official_example_order_status_completed_is_accepted_and_mapped(a2c):
    body = {**copy.deepcopy(ORDER), "order_status": "Completed"}  # the official OrderAdd example
    oid = a2c.call("order.add", "POST", headers=True, body=body)["result"]["order_id"]
    assert a2c.ok("order.info", id=oid, params="status")["status"]["id"] == "complete"
    # order.update's official example, as the SDK sends it (headers, query parameters)
    assert a2c.ok("order.update", "PUT", headers=True, order_id=oid, order_status="Processing") == {"updated_items": 1}
    assert a2c.ok("order.info", id=oid, params="status")["status"]["id"] == "processing"
    assert a2c.ok("order.update", "PUT", order_id=oid, order_status="Completed") == {"updated_items": 1}
    listed = a2c.ok("order.list", order_status="Completed", count=250)["order"]
    assert listed and all(o["status"]["id"] == "complete" for o in listed)
    # what no cart calls a status is still refused with the vendor's code
    a2c.err(109, "order.update", "PUT", order_id=oid, order_status="teleported")


def test_status_names_the_carts_use_map_to_the_sandbox_statuses():
    assert [resolve_status(v) for v in ("Completed", "wc-completed", "Cancelled", "On hold", "on-hold",
                                        "PROCESSING", "complete", "nonsense")] == \
        ["complete", "complete", "canceled", "on_hold", "on_hold", "processing", "complete", None]


def test_sort_by_value_id_the_official_example_sorts_by_id(a2c):
    by_example = a2c.ok("product.list", sort_by="value_id", sort_direction="desc", params="id", count=5)["product"]
    by_id = a2c.ok("product.list", sort_by="id", sort_direction="desc", params="id", count=5)["product"]
    assert by_example == by_id and len(by_example) == 5
    assert a2c.ok("customer.list", sort_by="value_id", params="id", count=3)["customer"]
    a2c.err(109, "product.list", sort_by="no_such_field")


def test_order_add_without_order_item_model(a2c):
    body = copy.deepcopy(ORDER)
    del body["order_item"][0]["order_item_model"]
    res = a2c.call("order.add", "POST", headers=True, body=body)
    assert res["return_code"] == 0, res
    line = a2c.ok("order.info", id=res["result"]["order_id"], params="order_products")["order_products"][0]
    product = a2c.ok("product.info", id="1", params="u_model")
    assert line["model"] == product["u_model"]  # the ordered product's own model


def test_count_with_page_cursor_is_a_page_size(a2c):
    """The official SDK's paging loop: page_cursor from the last answer, and count every time."""
    first = a2c.call("product.list", headers=True, count=5, params="id")
    seen = [p["id"] for p in first["result"]["product"]]
    cursor = first["pagination"]["next"]
    while cursor:
        page = a2c.call("product.list", headers=True, count=5, params="id", page_cursor=cursor)
        assert page["return_code"] == 0, page
        assert len(page["result"]["product"]) <= 5
        seen += [p["id"] for p in page["result"]["product"]]
        cursor = page["pagination"]["next"]
    everything = a2c.ok("product.list", count=250, params="id")["product"]
    assert seen == [p["id"] for p in everything] and len(seen) > 10
    # a different count with the cursor: that many from the cursor's place
    nxt = a2c.call("product.list", count=5, params="id")["pagination"]["next"]
    assert [p["id"] for p in a2c.ok("product.list", page_cursor=nxt, count=2, params="id")["product"]] == seen[5:7]
    # count is still bounded, and a filter with a cursor is still 109
    a2c.err(111, "product.list", page_cursor=nxt, count=251)
    a2c.err(109, "product.list", page_cursor=nxt, sku="x")


def test_methods_the_official_document_deprecates_are_deprecated_in_the_served_openapi(client):
    served = client.get("/api2cart/openapi.json")
    assert served.status_code == 200
    doc = served.get_json() if served.is_json else yaml.safe_load(served.get_data(as_text=True))
    deprecated = {p for p, ops in doc["paths"].items() for op in ops.values()
                  if isinstance(op, dict) and op.get("deprecated")}
    assert deprecated == {"/v1.1/cart.list.json", "/v1.1/cart.bridge.json", "/v1.1/cart.create.json",
                          "/v1.1/order.find.json", "/v1.1/product.variant.info.json",
                          "/v1.1/product.variant.count.json", "/v1.1/product.variant.list.json"}


# what the official SDK sends: query parameters as strings (start/count included when the caller
# passes them), the keys in the x-api-key / x-store-key headers
def test_count_zero_answers_the_total_and_an_empty_page(a2c):
    total = a2c.ok("product.count", headers=True)["products_count"]
    data = a2c.call("product.list", headers=True, start="0", count="0")
    assert data["return_code"] == 0
    assert data["result"]["products_count"] == total > 0 and data["result"]["product"] == []
    assert data["pagination"] == {"previous": None, "next": None}  # no cursor loops on a zero page
    assert a2c.ok("customer.list", headers=True, start="0", count="0")["customer"] == []
    # a negative count is still the vendor's type error
    assert "unsigned integer" in a2c.err(109, "product.list", headers=True, start="0", count="-1")


def test_find_where_takes_the_entitys_fields_on_lists_counts_and_finds(a2c):
    p = a2c.ok("product.info", headers=True, id="1", params="id,name,u_sku,u_model")
    sku = p["u_sku"]
    listed = a2c.ok("product.list", headers=True, find_value=sku.upper(), find_where="sku", params="id")["product"]
    assert [x["id"] for x in listed] == ["1"]
    assert a2c.ok("product.count", headers=True, find_value=sku, find_where="sku")["products_count"] == 1
    assert a2c.ok("product.count", headers=True, find_value=sku, find_where="name,sku")["products_count"] == 1
    # the official examples: product.list find_where=name, customer.list find_where=email
    word = p["name"].split()[0]
    assert a2c.ok("product.count", headers=True, find_value=word, find_where="name")["products_count"] >= 1
    c = a2c.ok("customer.list", headers=True, count="1", params="id,email")["customer"][0]
    assert [x["id"] for x in a2c.ok("customer.list", headers=True, find_value=c["email"], find_where="email",
                                    params="id")["customer"]] == [c["id"]]
    # the official category.count example sends find_where=email: categories have none, so nothing matches
    assert a2c.ok("category.count", headers=True, find_value="Demo category 1", find_where="email")["categories_count"] == 0
    assert a2c.ok("category.count", headers=True, find_value="", find_where="")["categories_count"] == \
        a2c.ok("category.count", headers=True)["categories_count"]


def test_enum_errors_name_the_allowed_values_in_the_vendors_words(a2c):
    msg = a2c.err(109, "customer.add", "POST", headers=True,
                  body={"email": "enum.check@example.com", "consents": [{"type": "fax", "status": "subscribed", "opt_in_level": "single_opt_in"}]})
    assert msg == "Parameter 'type' is not valid. Allowed values: email, sms."
    assert a2c.err(109, "product.list", headers=True, sort_direction="up") == \
        "Parameter 'sort_direction' is not valid. Allowed values: asc, desc."
    oid = a2c.ok("order.list", headers=True, count="1", params="order_id")["order"][0]["order_id"]
    msg = a2c.err(109, "order.update", "PUT", headers=True, order_id=oid, order_status="teleported")
    assert msg.startswith("Parameter 'order_status' is not valid. Allowed values: ") and "complete" in msg
