"""Products, categories, customers and orders: CRUD round trips, paging, filters."""
from __future__ import annotations

from tests.api2cart.conftest import BOL, WOO

ORDER = {
    "order_status": "pending", "customer_email": "jane.doe@example.com", "bill_first_name": "Jane",
    "bill_last_name": "Doe", "bill_address_1": "1 Main St", "bill_city": "Moody", "bill_postcode": "35004",
    "bill_state": "AL", "bill_country": "US",
    "order_item": [{"order_item_id": "1", "order_item_name": "Bag", "order_item_model": "bag_01",
                    "order_item_price": 10.0, "order_item_quantity": 3}],
}


def test_product_crud_round_trip(a2c):
    pid = a2c.ok("product.add", "POST", body={"name": "Trail Tent", "model": "TENT-9", "description": "Two person",
                                               "price": 199.5, "quantity": 4, "categories_ids": "1,2"})["product_id"]
    got = a2c.ok("product.info", id=pid, params="force_all")
    assert (got["name"], got["u_model"], got["u_sku"], got["price"], got["quantity"], got["in_stock"]) == \
        ("Trail Tent", "TENT-9", "TENT-9", 199.5, 4.0, True)
    assert got["categories_ids"] == ["1", "2"]
    assert a2c.ok("product.update", "PUT", body={"id": pid, "price": 150, "reduce_quantity": 4}) == {"updated_items": 1}
    got = a2c.ok("product.info", id=pid, params="price,quantity,in_stock")
    assert got == {"id": pid, "price": 150.0, "quantity": 0.0, "in_stock": False}
    assert a2c.ok("product.count") == {"products_count": 31}
    assert a2c.ok("product.delete", "DELETE", id=pid) == {"delete_items": 1}
    a2c.err(112, "product.info", id=pid)
    a2c.err(112, "product.delete", "DELETE", id=pid)
    a2c.err(112, "product.update", "PUT", body={"id": pid, "price": 1})
    assert a2c.ok("product.count") == {"products_count": 30}


def test_product_add_conflicts_and_bad_input(a2c):
    a2c.err(113, "product.add", "POST", body={"name": "Bag", "model": "bag_01", "description": "d", "price": 1})
    assert "price" in a2c.err(109, "product.add", "POST", body={"name": "x", "model": "y", "description": "d",
                                                                  "price": "cheap"})
    a2c.err(112, "product.add", "POST", body={"name": "x", "model": "y", "description": "d", "price": 1,
                                              "categories_ids": "99"})
    a2c.err(114, "product.update", "PUT", body={"price": 1})
    assert a2c.ok("product.count") == {"products_count": 30}


def test_product_paging_start_count_and_cursor(a2c):
    seen = []
    start = 0
    while True:
        res = a2c.ok("product.list", start=start, count=7)
        seen += [p["id"] for p in res["product"]]
        if len(res["product"]) < 7:
            break
        start += 7
    assert seen == [str(i) for i in range(1, 31)]
    data = a2c.call("product.list", count=12)
    ids = [p["id"] for p in data["result"]["product"]]
    while data["pagination"]["next"]:
        data = a2c.call("product.list", page_cursor=data["pagination"]["next"])
        ids += [p["id"] for p in data["result"]["product"]]
    assert ids == [str(i) for i in range(1, 31)]
    assert data["pagination"]["previous"]
    a2c.err(109, "product.list", page_cursor="garbage!")
    assert "sku" in a2c.err(109, "product.list", page_cursor=data["pagination"]["previous"], sku="bag_01")
    assert a2c.ok("product.list", page_cursor=data["pagination"]["previous"], params="id")["product"][0] == {"id": "13"}
    desc = a2c.ok("product.list", count=3, sort_by="id", sort_direction="desc")
    assert [p["id"] for p in desc["product"]] == ["30", "29", "28"]
    a2c.err(109, "product.list", sort_by="colour")


def test_product_filters(a2c):
    assert a2c.ok("product.list", sku="bag_01")["products_count"] == 1
    assert a2c.ok("product.list", product_ids="1,2,3")["products_count"] == 3
    assert a2c.ok("product.count", since_id=25) == {"products_count": 5}
    a2c.err(109, "product.list", created_from="yesterday")
    assert a2c.ok("product.count", created_from="2030-01-01") == {"products_count": 0}


def test_categories_and_customers(a2c):
    cats = a2c.ok("category.list")
    assert cats["categories_count"] == 5
    cid = a2c.ok("category.add", "POST", name="Climbing", parent_id="5")["category_id"]
    assert a2c.ok("category.info", id=cid)["parent_id"] == "5"
    a2c.err(113, "category.add", "POST", name="Climbing", parent_id="5")
    a2c.err(114, "category.add", "POST")
    a2c.err(112, "category.info", id="77")
    custs = a2c.ok("customer.list", count=5)
    assert custs["customers_count"] == 12 and len(custs["customer"]) == 5
    new = a2c.ok("customer.add", "POST", body={"email": "new.buyer@example.com", "first_name": "New"})["customer_id"]
    assert a2c.ok("customer.info", id=new)["email"] == "new.buyer@example.com"
    a2c.err(113, "customer.add", "POST", body={"email": "new.buyer@example.com"})
    a2c.err(114, "customer.add", "POST", body={"first_name": "no email"})


def test_order_crud_round_trip(a2c):
    res = a2c.ok("order.add", "POST", body=ORDER)
    oid = res["order_id"]
    order = a2c.ok("order.info", order_id=oid)
    assert order["status"]["id"] == "pending"
    assert order["totals"]["total"] == 30.0
    assert order["order_products"][0]["quantity"] == 3
    assert order["billing_address"]["city"] == "Moody"
    assert a2c.ok("order.count") == {"orders_count": 26}
    assert a2c.ok("order.update", "PUT", order_id=oid, order_status="shipped", comment="Sent") == {"updated_items": 1}
    order = a2c.ok("order.info", id=oid, params="force_all")
    assert order["status"]["id"] == "shipped" and [h["id"] for h in order["status"]["history"]] == ["pending", "shipped"]
    assert order["comment"] == "Sent"
    assert a2c.ok("order.update", "PUT", order_id=oid, order_status="shipped") == {"updated_items": 0}
    assert a2c.ok("order.list", order_status="shipped", ids=oid)["orders_count"] == 1
    a2c.err(109, "order.update", "PUT", order_id=oid, order_status="teleported")
    a2c.err(112, "order.update", "PUT", order_id="9999", order_status="shipped")
    a2c.err(114, "order.update", "PUT", order_status="shipped")
    statuses = a2c.ok("order.status.list")["cart_order_statuses"]
    assert {"id": "shipped", "name": "Shipped"} in statuses


def test_order_add_validation(a2c):
    bad = {k: v for k, v in ORDER.items() if k != "bill_city"}
    assert a2c.err(114, "order.add", "POST", body=bad) == "Parameter 'bill_city' is required"
    a2c.err(109, "order.add", "POST", body={**ORDER, "order_status": "lost"})
    a2c.err(112, "order.add", "POST", body={**ORDER, "order_item": [{**ORDER["order_item"][0], "order_item_id": "999"}]})
    first = a2c.ok("order.add", "POST", body={**ORDER, "order_id": "EXT-1"})
    assert first["order_id"]
    a2c.err(113, "order.add", "POST", body={**ORDER, "order_id": "EXT-1"})


def test_order_list_paging_and_default_fields(a2c):
    res = a2c.ok("order.list", count=10)
    assert res["orders_count"] == 25 and len(res["order"]) == 10
    first = res["order"][0]
    assert {"id", "order_id", "customer", "totals", "billing_address", "order_products", "status"} <= set(first)
    assert "create_at" not in first  # not among the default params
    a2c.err(111, "order.list", count=1000)
    assert a2c.ok("order.list", start=20, count=10)["order"][-1]["id"] == "25"


def test_stores_have_their_own_orders(a2c):
    a2c.ok("order.add", "POST", body=ORDER)
    assert a2c.ok("order.count") == {"orders_count": 26}
    assert a2c.ok("order.count", store_key=WOO) == {"orders_count": 25}
    assert a2c.ok("order.count", store_key=BOL) == {"orders_count": 25}


def test_product_variants_round_trip(a2c):
    vid = a2c.ok("product.variant.add", "POST", body={
        "product_id": "1", "model": "bag_01-red", "price": 11.5, "quantity": 3,
        "attributes": [{"attribute_name": "Color", "attribute_value": "Red"}]})["product_variant_id"]
    got = a2c.ok("product.variant.info", id=vid, params="force_all")
    assert (got["parent_id"], got["u_model"], got["price"], got["quantity"]) == ("1", "bag_01-red", 11.5, 3.0)
    assert got["additional_fields"]["attributes"][0]["attribute_value"] == "Red"
    assert a2c.ok("product.variant.count", product_id="1") == {"variants_count": 1}
    assert [v["id"] for v in a2c.ok("product.variant.list", product_id="1")["variant"]] == [vid]
    assert a2c.ok("product.variant.update", "PUT", body={"id": vid, "price": 12}) == {"updated_items": 1}
    assert a2c.ok("product.variant.info", id=vid, params="price") == {"id": vid, "price": 12.0}
    a2c.err(113, "product.variant.add", "POST", body={"product_id": "1", "model": "bag_01-red"})
    a2c.err(112, "product.variant.add", "POST", body={"product_id": "999", "model": "x"})
    a2c.err(114, "product.variant.add", "POST", body={"model": "x"})
    a2c.err(112, "product.variant.delete", "DELETE", id=vid, product_id="2")
    assert a2c.ok("product.variant.delete", "DELETE", id=vid, product_id="1") == {"deleted": True}
    a2c.err(112, "product.variant.info", id=vid)
    # deleting a product deletes its variants
    vid = a2c.ok("product.variant.add", "POST", body={"product_id": "2", "model": "v2"})["product_variant_id"]
    a2c.ok("product.delete", "DELETE", id="2")
    a2c.err(112, "product.variant.info", id=vid)
