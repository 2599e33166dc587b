"""List semantics (start/count, page_cursor, sort, date ranges, params/exclude/response_fields),
the find methods, category update/delete/count, customer count, order shipments."""
from __future__ import annotations

from tests.api2cart.conftest import WOO
from tests.api2cart.test_catalog_orders import ORDER


def test_count_defaults_to_10_and_caps_at_250(a2c):
    assert len(a2c.ok("product.list")["product"]) == 10
    assert len(a2c.ok("product.list", count=250)["product"]) == 30
    msg = a2c.err(111, "customer.list", count=251)
    assert "250" in msg
    assert "unsigned integer" in a2c.err(109, "order.list", start=-1)


def test_cursor_pages_match_start_count_and_refuse_filters(a2c):
    by_offset = [c["id"] for c in a2c.ok("customer.list", count=250, sort_by="id")["customer"]]
    data = a2c.call("customer.list", count=5, sort_by="id")
    walked = [c["id"] for c in data["result"]["customer"]]
    assert data["pagination"]["previous"] is None
    while data["pagination"]["next"]:
        data = a2c.call("customer.list", page_cursor=data["pagination"]["next"])
        walked += [c["id"] for c in data["result"]["customer"]]
    assert len(walked) == 12 and sorted(walked, key=int) == sorted(by_offset, key=int)
    cursor = a2c.call("order.list", count=5)["pagination"]["next"]
    assert "order_status" in a2c.err(109, "order.list", page_cursor=cursor, order_status="pending")
    assert "created_from" in a2c.err(109, "category.list", page_cursor=cursor, created_from="2020-01-01")
    # shaping parameters are not filters: they combine with a cursor
    assert a2c.call("order.list", page_cursor=cursor, params="id")["return_code"] == 0


def test_sort_and_date_ranges(a2c):
    newest = a2c.ok("order.list", sort_by="create_at", sort_direction="desc", count=3, params="id,create_at")["order"]
    stamps = [o["create_at"]["value"] for o in newest]
    assert stamps == sorted(stamps, reverse=True)
    a2c.err(109, "order.list", sort_direction="sideways")
    first = a2c.ok("order.list", sort_by="create_at", count=1, params="create_at")["order"][0]["create_at"]["value"]
    since = first[:10] + " " + first[11:19]
    assert a2c.ok("order.count", created_from=since)["orders_count"] == 25
    assert a2c.ok("order.count", created_to=since)["orders_count"] == 1
    assert a2c.ok("product.count", modified_from="2100-01-01") == {"products_count": 0}
    a2c.err(109, "customer.count", modified_to="tomorrow")


def test_params_force_all_exclude_and_response_fields(a2c):
    plain = a2c.ok("product.info", id="1")
    assert set(plain) == {"id", "name", "description", "price", "categories_ids"}  # the vendor's default
    full = a2c.ok("product.info", id="1", params="force_all")
    assert {"u_model", "quantity", "images", "create_at"} <= set(full)
    cut = a2c.ok("product.info", id="1", params="force_all", exclude="images,description")
    assert "images" not in cut and "description" not in cut and "u_model" in cut
    assert "images" in a2c.ok("product.info", id="1", params="id,images", exclude="images")  # exclude needs force_all
    # FAQ: response_fields={return_code,return_message,pagination,result}
    data = a2c.call("order.list", count=2, response_fields="{return_code,return_message,pagination,result}")
    assert set(data) == {"return_code", "return_message", "pagination", "result"} and data["pagination"]["next"]
    data = a2c.call("order.list", count=2, response_fields="{result{order{id,status{id}}}}")
    assert set(data) == {"return_code", "return_message", "result"}
    assert data["result"]["order"][0] == {"id": "1", "status": {"id": "processing"}}
    a2c.err(109, "product.list", response_fields="{result{product{id}")


def test_find_methods(a2c):
    assert [p["id"] for p in a2c.ok("product.find", find_value="Bag")["product"]] == ["1"]
    assert a2c.ok("product.find", find_value="ba", find_params="whole_words")["product"] == []
    assert "1" in [p["id"] for p in a2c.ok("product.find", find_value="^ba", find_params="regex")["product"]]
    assert [p["id"] for p in a2c.ok("product.find", find_value="bag_01", find_where="model,sku")["product"]] == ["1"]
    a2c.err(109, "product.find", find_value="(", find_params="regex")
    a2c.err(114, "product.find")
    assert [c["name"] for c in a2c.ok("category.find", find_value="shoes")["category"]] == ["Shoes"]
    email = a2c.ok("customer.info", id="3")["email"]
    found = a2c.ok("customer.find", find_value=email)
    assert found["id"] == "3" and found["email"] == email and set(found) == {"id", "email", "first_name", "last_name"}
    a2c.err(112, "customer.find", find_value="nobody@nowhere.example")
    mine = a2c.ok("order.find", customer_email=a2c.ok("order.info", id="1")["customer"]["email"])["order"]
    assert "1" in [o["id"] for o in mine]
    assert len(a2c.ok("order.find", count=3)["order"]) == 3


def test_category_count_update_delete(a2c):
    assert a2c.ok("category.count") == {"categories_count": 5}
    cid = a2c.ok("category.add", "POST", name="Sale", parent_id="1")["category_id"]
    assert a2c.ok("category.count", parent_id="1") == {"categories_count": 1}
    assert a2c.ok("category.update", "PUT", id=cid, name="Summer sale", avail="false", parent_id="0") == {"updated_items": 1}
    got = a2c.ok("category.info", id=cid, params="force_all")
    assert (got["name"], got["avail"], got["parent_id"]) == ("Summer sale", False, "0")
    a2c.err(113, "category.update", "PUT", id=cid, name="Bags")
    a2c.err(109, "category.update", "PUT", id=cid, parent_id=cid)
    a2c.err(112, "category.update", "PUT", id="999", name="x")
    pid = a2c.ok("product.add", "POST", body={"name": "Hat", "model": "HAT-1", "description": "d", "price": 5,
                                              "categories_ids": f"2,{cid}"})["product_id"]
    assert a2c.ok("category.delete", "DELETE", id=cid) == {"delete_items": True}
    assert a2c.ok("product.info", id=pid)["categories_ids"] == ["2"]  # the product lost the category
    a2c.err(112, "category.delete", "DELETE", id=cid)
    assert a2c.ok("category.count") == {"categories_count": 5}


def test_customer_count(a2c):
    assert a2c.ok("customer.count") == {"customers_count": 12}
    assert a2c.ok("customer.count", ids="1,2,99") == {"customers_count": 2}
    assert a2c.ok("customer.count", since_id=10) == {"customers_count": 2}
    a2c.ok("customer.add", "POST", body={"email": "count.me@example.com"})
    assert a2c.ok("customer.count") == {"customers_count": 13}


def test_order_shipments(a2c):
    c = a2c.on(WOO)
    oid = c.ok("order.add", "POST", body={**ORDER, "order_status": "processing"})["order_id"]
    assert c.ok("order.shipment.list", order_id=oid) == {"shipment_count": 0, "shipment": []}
    first = c.ok("order.shipment.add", "POST", body={
        "order_id": oid, "shipment_provider": "UPS", "items": [{"order_product_id": "1", "quantity": 2}],
        "tracking_numbers": [{"carrier_id": "ups", "tracking_number": "1Z999"}]})["shipment_id"]
    assert c.ok("order.info", id=oid)["status"]["id"] == "processing"  # partly shipped
    c.err(109, "order.shipment.add", "POST", body={"order_id": oid, "items": [{"order_product_id": "1", "quantity": 2}]})
    c.err(112, "order.shipment.add", "POST", body={"order_id": oid, "items": [{"order_product_id": "9", "quantity": 1}]})
    c.err(112, "order.shipment.add", "POST", body={"order_id": "9999"})
    second = c.ok("order.shipment.add", "POST", body={"order_id": oid})["shipment_id"]  # the rest
    listed = c.ok("order.shipment.list", order_id=oid)
    assert listed["shipment_count"] == 2
    one = listed["shipment"][0]
    assert one["id"] == first and one["items"][0]["quantity"] == 2 and one["tracking_numbers"] == [
        {"carrier_id": "ups", "tracking_number": "1Z999"}]
    assert listed["shipment"][1]["id"] == second and listed["shipment"][1]["items"][0]["quantity"] == 1
    assert c.ok("order.info", id=oid)["status"]["id"] == "shipped"
    c.err(109, "order.shipment.add", "POST", body={"order_id": oid})  # nothing left to ship
    c.err(114, "order.shipment.list")


def test_array_query_parameters_take_every_value(a2c, client):
    """order_status_ids / financial_status_ids are form-exploded arrays in the official document."""
    from tests.api2cart.conftest import API_KEY, SHOPIFY
    counts = {s: a2c.ok("order.count", order_status=s)["orders_count"] for s in ("pending", "shipped", "complete")}
    query = [("api_key", API_KEY), ("store_key", SHOPIFY), ("order_status_ids", "pending"), ("order_status_ids", "shipped")]
    r = client.get("/api2cart/v1.1/order.count.json?" + "&".join(f"{k}={v}" for k, v in query))
    assert r.get_json()["result"]["orders_count"] == counts["pending"] + counts["shipped"]
    assert a2c.ok("order.count", order_status_ids="pending,complete")["orders_count"] == counts["pending"] + counts["complete"]
    paid = a2c.ok("order.count", financial_status_ids="paid")["orders_count"]
    assert paid + a2c.ok("order.count", financial_status_ids="pending")["orders_count"] == 25
