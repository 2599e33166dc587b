"""The write methods the FAQ's walkthroughs call (FAQ "Category/Customer/Product API methods"):
customer.update and customer.delete, category.assign, product.manufacturer.add and product.tax.add,
with the official parameters and result shapes, read back through the list/info methods."""
from __future__ import annotations

import json

from tests.api2cart.conftest import WOO


def test_customer_update_faq_example_and_delete(a2c):
    c = a2c.on(WOO)
    cid = c.ok("customer.add", "POST", body={"email": "john.smith@example.com", "first_name": "John",
                                             "last_name": "Smith"})["customer_id"]
    # the FAQ's example: {'id': 11, 'first_name': 'Jack', 'last_name': 'Smith'}
    assert c.ok("customer.update", "PUT", body={"id": cid, "first_name": "Jack", "last_name": "Smith"}) == \
        {"updated_items": 1}
    got = c.ok("customer.info", id=cid, params="force_all")
    assert (got["first_name"], got["last_name"], got["email"]) == ("Jack", "Smith", "john.smith@example.com")
    c.ok("customer.update", "PUT", body={"id": cid, "email": "jack@example.com", "status": "disabled",
                                         "news_letter_subscription": True, "birth_day": "2013-02-26 15:00:00"})
    got = c.ok("customer.info", id=cid, params="force_all")
    assert got["email"] == "jack@example.com" and got["status"] == "disabled" and got["news_letter_subscription"]
    assert got["birth_day"]["value"].startswith("2013-02-26")
    taken = c.ok("customer.list", count=1)["customer"][0]["email"]
    c.err(113, "customer.update", "PUT", body={"id": cid, "email": taken})
    c.err(109, "customer.update", "PUT", body={"id": cid, "email": "not-an-email"})
    c.err(109, "customer.update", "PUT", body={"id": cid, "status": "sleeping"})
    c.err(112, "customer.update", "PUT", body={"id": "999999", "first_name": "Nobody"})
    c.err(114, "customer.update", "PUT", body={"first_name": "Nobody"})
    assert c.ok("customer.info", id=cid, params="email")["email"] == "jack@example.com"  # refusals changed nothing
    before = c.ok("customer.count")["customers_count"]
    assert c.ok("customer.delete", "DELETE", id=cid) == {"delete_items": 1}
    c.err(112, "customer.info", id=cid)
    c.err(112, "customer.delete", "DELETE", id=cid)
    assert c.ok("customer.count")["customers_count"] == before - 1


def test_category_assign_faq_example(a2c):
    c = a2c.on(WOO)
    pid = c.ok("product.add", "POST", body={"name": "Tent", "model": "TENT-A", "description": "d",
                                            "price": 99.9})["product_id"]
    cat = c.ok("category.add", "POST", name="Winter camping")["category_id"]
    # the FAQ's example: {'product_id': 69, 'category_id': 20}
    assert c.ok("category.assign", "POST", product_id=pid, category_id=cat) == {}
    assert cat in c.ok("product.info", id=pid, params="categories_ids")["categories_ids"]
    assert pid in [p["id"] for p in c.ok("product.list", category_id=cat)["product"]]
    c.ok("category.assign", "POST", product_id=pid, category_id=cat)  # again: no duplicate
    assert c.ok("product.info", id=pid, params="categories_ids")["categories_ids"].count(cat) == 1
    c.err(112, "category.assign", "POST", product_id=pid, category_id="999")
    c.err(112, "category.assign", "POST", product_id="999999", category_id=cat)
    c.err(114, "category.assign", "POST", product_id=pid)


def test_product_manufacturer_add(a2c):
    c = a2c.on(WOO)
    one = c.ok("product.add", "POST", body={"name": "TV", "model": "TV-1", "description": "d", "price": 300})["product_id"]
    two = c.ok("product.add", "POST", body={"name": "TV2", "model": "TV-2", "description": "d", "price": 400})["product_id"]
    mid = c.ok("product.manufacturer.add", "POST", product_id=one, manufacturer="Samsung")["manufacturer_id"]
    got = c.ok("product.info", id=one, params="u_brand,u_brand_id")
    assert got["u_brand"] == "Samsung" and got["u_brand_id"] == mid
    assert one in [p["id"] for p in c.ok("product.list", brand_name="Samsung")["product"]]
    # the same manufacturer (any case) is reused, not created twice
    assert c.ok("product.manufacturer.add", "POST", product_id=two, manufacturer="samsung")["manufacturer_id"] == mid
    c.err(112, "product.manufacturer.add", "POST", product_id="999999", manufacturer="LG")
    c.err(114, "product.manufacturer.add", "POST", product_id=one)


def test_product_tax_add(a2c):
    c = a2c.on(WOO)
    pid = c.ok("product.add", "POST", body={"name": "Soap", "model": "SOAP-1", "description": "d", "price": 3})["product_id"]
    tid = c.ok("product.tax.add", "POST", body={"product_id": pid, "name": "ECO-Tax",
                                                "tax_rates": [{"name": "Eco", "type": "percent", "value": 5}]})["tax_class_id"]
    assert c.ok("product.info", id=pid, params="tax_class_id")["tax_class_id"] == tid
    c.err(113, "product.tax.add", "POST", body={"name": "eco-tax", "tax_rates": [{"value": 1}]})
    c.err(109, "product.tax.add", "POST", body={"name": "Bad", "tax_rates": [{"type": "percent", "value": -1}]})
    c.err(109, "product.tax.add", "POST", body={"name": "Bad", "tax_rates": [{"type": "compound", "value": 1}]})
    c.err(112, "product.tax.add", "POST", body={"product_id": "999999", "name": "Other", "tax_rates": [{"value": 1}]})
    # without a product the class is created on its own
    assert c.ok("product.tax.add", "POST", body={"name": "VAT", "tax_rates": [{"value": 21}]})["tax_class_id"] != tid


def _product(c, model):
    return c.ok("product.add", "POST", body={"name": model, "model": model, "description": "d", "price": 10})["product_id"]


def test_product_image_add_and_update(a2c):
    c = a2c.on(WOO)
    pid = _product(c, "IMG-1")
    got = c.ok("product.image.add", "POST", body={"product_id": pid, "type": "base", "image_name": "bag-gray.png",
                                                  "url": "http://docs.api2cart.com/img/logo.png", "label": "This cool image"})
    iid = got["id"]
    assert got["image_path"].endswith("bag-gray.png")
    image = c.ok("product.info", id=pid, params="images")["images"][0]
    assert (image["id"], image["http_path"], image["alt"], image["type"]) == \
        (iid, "http://docs.api2cart.com/img/logo.png", "This cool image", "base")
    assert c.ok("product.image.add", "POST", body={"product_id": pid, "type": "additional", "image_name": "b.jpg",
                                                   "content": "aGVsbG8="})["id"] != iid
    assert c.ok("product.info", id=pid, params="images")["images"][1]["size"] == 5
    assert c.ok("product.image.update", "PUT", product_id=pid, id=iid, label="New", position=3, hidden="true") == \
        {"updated": "true"}
    image = c.ok("product.info", id=pid, params="images")["images"][0]
    assert (image["alt"], image["sort_order"], image["avail"]) == ("New", 3, False)
    c.err(114, "product.image.add", "POST", body={"product_id": pid, "type": "base", "image_name": "x.png"})
    c.err(109, "product.image.add", "POST", body={"product_id": pid, "type": "huge", "image_name": "x.png", "url": "http://x/y.png"})
    c.err(109, "product.image.add", "POST", body={"product_id": pid, "type": "base", "image_name": "x.png", "content": "!!"})
    c.err(112, "product.image.update", "PUT", product_id=pid, id="99999", label="x")
    assert len(c.ok("product.info", id=pid, params="images")["images"]) == 2


def test_product_options_add_assign_and_values(a2c):
    c = a2c.on(WOO)
    pid, other = _product(c, "OPT-1"), _product(c, "OPT-2")
    got = c.ok("product.option.add", "POST", body={"product_id": pid, "name": "Color", "type": "option_type_select",
                                                   "option_values": "green,black,yellow", "default_option_value": "green"})
    oid, poid = got["option_id"], got["product_option_id"]
    assert len(got["product_value_ids"].split(",")) == 3
    opts = c.ok("product.info", id=pid, params="product_options")["product_options"]
    assert [(o["id"], o["product_option_id"], o["name"]) for o in opts] == [(oid, poid, "Color")]
    assert [(i["name"], i["is_default"]) for i in opts[0]["option_items"]] == [("green", True), ("black", False), ("yellow", False)]
    # a new value reaches the product the option is assigned to
    vid = c.ok("product.option.value.add", "POST", product_id=pid, option_id=oid, option_value="red")["option_value_id"]
    assert "red" in [i["name"] for i in c.ok("product.info", id=pid, params="product_options")["product_options"][0]["option_items"]]
    c.err(113, "product.option.value.add", "POST", product_id=pid, option_id=oid, option_value="Red")
    # the option on another product, with two of its values; then one more value assigned
    poid2 = c.ok("product.option.assign", "POST", product_id=other, option_id=oid, option_values="black,red")["product_option_id"]
    c.err(113, "product.option.assign", "POST", product_id=other, option_id=oid)
    c.err(112, "product.option.assign", "POST", product_id=pid, option_id="9999")
    items = c.ok("product.info", id=other, params="product_options")["product_options"][0]["option_items"]
    assert [i["name"] for i in items] == ["black", "red"]
    green = next(i["id"] for i in opts[0]["option_items"] if i["name"] == "green")
    assert c.ok("product.option.value.assign", "POST", product_option_id=poid2, option_value_id=green)["product_option_value_id"]
    c.err(113, "product.option.value.assign", "POST", product_option_id=poid2, option_value_id=green)
    c.err(112, "product.option.value.assign", "POST", product_option_id="9999", option_value_id=green)
    # the product's own price and quantity of a value
    assert c.ok("product.option.value.update", "PUT", product_id=other, option_id=oid, option_value_id=green,
                price=99.9, quantity=6) == {"updated_items": 1}
    item = next(i for i in c.ok("product.info", id=other, params="product_options")["product_options"][0]["option_items"]
                if i["id"] == green)
    assert (item["price"], item["quantity"]) == (99.9, 6)
    c.err(109, "product.option.value.update", "PUT", product_id=other, option_id=oid, option_value_id=green, price=-1)
    c.err(112, "product.option.value.update", "PUT", product_id=other, option_id=oid, option_value_id="9999", price=1)
    c.err(109, "product.option.add", "POST", body={"name": "Size", "type": "option_type_wheel"})
    # an option without a product: created, nothing assigned
    got = c.ok("product.option.add", "POST", body={"name": "Size", "type": "option_type_radio",
                                                   "values": [{"value": "S"}, {"value": "M", "is_default": True}]})
    assert got["option_id"] and "product_option_id" not in got


# -- the forms the FAQ's examples send ----------------------------------------------------------
FAQ_ORDER = {  # the FAQ's order.add example, as it is written
    "customer_email": "adam.smith@example.com", "order_status": "Complete", "bill_first_name": "Adam",
    "bill_last_name": "Smith", "bill_address_1": "Green str. 35", "bill_city": "Chicago", "bill_postcode": "12345",
    "bill_state": "IL", "bill_country": "US", "total_price": "23.56", "order_item_id_1": 8,
    "order_item_name_1": "Bag", "order_item_model_1": "bag_01", "order_item_price_1": 89, "order_item_quantity_1": 3,
}


def test_faq_order_add_flat_form_and_capitalised_statuses(a2c):
    c = a2c.on(WOO)
    oid = c.ok("order.add", "POST", body=FAQ_ORDER)["order_id"]
    got = c.ok("order.info", id=oid, params="force_all")
    assert got["status"]["id"] == "complete" and got["total"]["total"] == 23.56
    item = got["order_products"][0]
    assert (item["product_id"], item["name"], item["model"], item["price"], item["quantity"]) == ("8", "Bag", "bag_01", 89, 3)
    two = c.ok("order.add", "POST", body={**FAQ_ORDER, "order_item_name_2": "Tent", "order_item_model_2": "tent",
                                          "order_item_price_2": 5, "order_item_quantity_2": 1})["order_id"]
    assert [i["name"] for i in c.ok("order.info", id=two, params="items")["order_products"]] == ["Bag", "Tent"]
    # the FAQ's order.update example: 'order_status' => 'Pending'
    assert c.ok("order.update", "PUT", order_id=oid, order_status="Pending", comment="Order comment") == {"updated_items": 1}
    assert c.ok("order.info", id=oid, params="status")["status"]["id"] == "pending"
    c.ok("order.update", "PUT", order_id=oid, order_status="On Hold")
    assert oid in [o["id"] for o in c.ok("order.list", order_status="On Hold", count=250)["order"]]
    c.err(109, "order.update", "PUT", order_id=oid, order_status="Lost")
    no_items = {k: v for k, v in FAQ_ORDER.items() if not k.startswith("order_item_")}
    c.err(114, "order.add", "POST", body=no_items)
    c.err(114, "order.add", "POST", body={**no_items, "order_item_name_1": "Bag"})  # model, price... missing


def test_faq_verify_false_as_a_string_and_hybris_websites_as_json(a2c):
    c = a2c.on(WOO)
    # the FAQ's account.cart.add example sends 'verify' => 'false' (a string)
    body = {"cart_id": "Shopify", "store_url": "https://verify-string.myshopify.com", "verify": "false",
            "shopify_access_token": "invalid-token"}
    assert c.ok("account.cart.add", "POST", store_key=None, body=body)["store_key"]
    c.err(103, "account.cart.add", "POST", store_key=None, body={**body, "verify": "true",
                                                               "store_url": "https://verify-true.myshopify.com"})
    c.err(109, "account.cart.add", "POST", store_key=None, body={**body, "verify": "maybe"})
    # FAQ: "hybris_websites is an array of objects in a JSON string"; the official array works too
    websites = [{"uid": "electronics", "url": "https://hybris.example.com", "storeIds": ["1"]}]
    hybris = {"cart_id": "Hybris", "store_url": "https://hybris.example.com", "hybris_client_id": "client",
              "hybris_client_secret": "secret", "hybris_username": "admin", "hybris_password": "pass"}
    assert c.ok("account.cart.add", "POST", store_key=None, body={**hybris, "hybris_websites": json.dumps(websites)})["store_key"]
    assert c.ok("account.cart.add", "POST", store_key=None, body={
        **hybris, "store_url": "https://hybris2.example.com", "hybris_websites": websites})["store_key"]
    c.err(109, "account.cart.add", "POST", store_key=None, body={
        **hybris, "store_url": "https://hybris3.example.com", "hybris_websites": '[{"uid": "x"}]'})
    c.err(109, "account.cart.add", "POST", store_key=None, body={
        **hybris, "store_url": "https://hybris4.example.com", "hybris_websites": "not json"})


def test_force_all_includes_additional_and_custom_fields(a2c):
    """params=force_all answers the entity's additional_fields and custom_fields ({} when it has
    none); a plain field list does not."""
    c = a2c.on(WOO)
    for method, key in (("product.info", None), ("category.info", None), ("customer.info", None)):
        got = c.ok(method, id="1", params="force_all")
        assert isinstance(got["additional_fields"], dict) and isinstance(got["custom_fields"], dict), method
        assert "custom_fields" not in c.ok(method, id="1", params="id,name")
    order = c.ok("order.list", params="force_all", count=1)["order"][0]
    assert order["additional_fields"]["return_status"] and order["custom_fields"] == {}
    assert "custom_fields" not in c.ok("product.list", params="force_all", exclude="custom_fields", count=1)["product"][0]


# -- connecting stores as the FAQ says ----------------------------------------------------------
def test_ebay_faq_credentials_and_environment_region_values(a2c):
    c = a2c.on(WOO)
    faq_ebay = {"cart_id": "EBay", "ebay_client_id": "a9psel85v1wy5faeyjw03y0r", "ebay_client_secret": "gmz3iz45x2",
                "ebay_refresh_token": "v^1.1#i-refresh", "ebay_environment": "Sandbox", "ebay_site_id": 0}
    assert c.ok("account.cart.add", "POST", store_key=None, body=faq_ebay)["store_key"]  # no ebay_runame
    msg = c.err(109, "account.cart.add", "POST", store_key=None, body={**faq_ebay, "ebay_environment": "staging",
                                                                      "ebay_refresh_token": "other"})
    assert "ebay_environment" in msg and "production" in msg
    c.err(114, "account.cart.add", "POST", store_key=None, body={k: v for k, v in faq_ebay.items()
                                                                 if k != "ebay_environment"})
    amazon = {"cart_id": "AmazonSP", "amazon_sp_client_id": "id", "amazon_sp_client_secret": "s",
              "amazon_sp_refresh_token": "Atzr|x", "amazon_sp_aws_region": "eu-west-1", "amazon_seller_id": "13P636B2M1N4WR"}
    assert c.ok("account.cart.add", "POST", store_key=None, body=amazon)["store_key"]
    assert "us-west-2" in c.err(109, "account.cart.add", "POST", store_key=None, body={
        **amazon, "amazon_sp_aws_region": "eu-central-1", "amazon_seller_id": "OTHER"})
    c.err(109, "account.cart.add", "POST", store_key=None, body={**amazon, "amazon_seller_id": "X2",
                                                                 "amazon_sp_api_environment": "test"})
    walmart = {"cart_id": "Walmart", "walmart_client_id": "cid", "walmart_client_secret": "sec"}
    assert c.ok("account.cart.add", "POST", store_key=None, body={**walmart, "walmart_environment": ""})["store_key"]
    c.err(109, "account.cart.add", "POST", store_key=None, body={**walmart, "walmart_client_id": "c2",
                                                                 "walmart_region": "uk"})


def test_a_store_url_another_account_holds_is_refused(a2c):
    from tests.api2cart.conftest import SECOND_KEY
    c = a2c.on(WOO)
    body = {"cart_id": "Shopify", "store_url": "https://second-account.myshopify.com", "shopify_access_token": "shpat_x"}
    msg = c.err(8, "account.cart.add", "POST", store_key=None, body=body)  # the second account's demo store
    assert "same URL" in msg
    new = {**body, "store_url": "https://shared-later.myshopify.com"}
    key = c.ok("account.cart.add", "POST", store_key=None, body=new)["store_key"]
    other = a2c.on(None)
    assert other.call("account.cart.add", "POST", api_key=SECOND_KEY, store_key=None, body=new)["return_code"] == 8
    c.on(key).ok("cart.delete", "DELETE")  # once it is gone, the other account may connect it
    assert other.call("account.cart.add", "POST", api_key=SECOND_KEY, store_key=None, body=new)["return_code"] == 0


def test_amazon_sp_minimal_offer_and_its_refusals(a2c):
    """FAQ, "Parameters supported in the product.add method for Amazon SP-API": sku, price,
    quantity and one identifier; "Only integer values are supported"; category_id/product_type
    are not needed for a product the catalog has."""
    c = a2c.on(WOO)
    key = c.ok("account.cart.add", "POST", store_key=None, body={
        "cart_id": "AmazonSP", "amazon_sp_client_id": "id", "amazon_sp_client_secret": "s",
        "amazon_sp_refresh_token": "Atzr|offer", "amazon_sp_aws_region": "us-east-1",
        "amazon_seller_id": "OFFERS1"})["store_key"]
    amz = c.on(key)
    offer = {"sku": "bag_01", "price": 99.9, "quantity": 0, "asin": "B07PXGQC1Q"}
    pid = amz.ok("product.add", "POST", body=offer)["product_id"]
    got = amz.ok("product.info", id=pid, params="force_all")
    assert (got["u_sku"], got["price"], got["quantity"]) == ("bag_01", 99.9, 0)
    assert got["additional_fields"]["asin"] == "B07PXGQC1Q"
    assert amz.ok("product.add", "POST", body={"sku": "bag_02", "price": 5, "quantity": 3, "ean": "4006381333931"})
    assert "sku" in amz.err(114, "product.add", "POST", body={k: v for k, v in offer.items() if k != "sku"})
    assert "asin" in amz.err(114, "product.add", "POST", body={"sku": "bag_03", "price": 5, "quantity": 1})
    assert "integer" in amz.err(109, "product.add", "POST", body={**offer, "sku": "bag_04", "quantity": 1.5})
    amz.err(114, "product.add", "POST", body={"sku": "bag_05", "price": 5, "asin": "B0"})  # quantity
    assert amz.ok("product.count")["products_count"] == 2
    # elsewhere the usual parameters stay required
    c.err(114, "product.add", "POST", body=offer)


def test_refusals_depend_on_how_the_store_is_connected(a2c):
    """FAQ: "shopify_shared_secret - is needed to work with Live Shipping Rates or Webhooks";
    Squarespace webhooks need the second (OAuth) way of connecting."""
    c = a2c.on(WOO)
    key = c.ok("account.cart.add", "POST", store_key=None, body={
        "cart_id": "Shopify", "store_url": "https://no-secret.myshopify.com", "shopify_access_token": "shpat_n"})["store_key"]
    s = c.on(key)
    hook = {"entity": "order", "action": "add", "callback": "https://example.com/hook"}
    assert "shopify_shared_secret" in s.err(115, "webhook.create", "POST", body=hook)
    s.err(115, "basket.live_shipping_service.create", "POST", name="Rates", callback="https://example.com/rates")
    assert s.ok("webhook.list")["webhook"] == []  # nothing was created
    s.ok("account.config.update", "PUT", shopify_shared_secret="ss_1")
    assert s.ok("webhook.create", "POST", body=hook)["id"]
    sq = {"cart_id": "Squarespace", "store_url": "https://sq.example.com", "squarespace_api_key": "k"}
    sqs = c.on(c.ok("account.cart.add", "POST", store_key=None, body=sq)["store_key"])
    sqs.err(115, "webhook.create", "POST", body=hook)
