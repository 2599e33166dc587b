"""A connector written from the documents alone, unchanged: authenticate, check the token, page the
product feed by modified date (the tutorial's request), push products then images, post an order,
search it."""
from __future__ import annotations

from tests.stock2shop.conftest import P

DOC_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAFCAYAAACNbyblAAAAHElEQVQI12P4"


def test_documented_connector_flow(c):
    # Step 1 (authentication tutorial)
    r = c.post(f"{P}/v1/users/authenticate?format=json",
               json={"system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}})
    assert r.status_code == 200
    user = r.json["system_user"]
    token = user["token"]
    assert c.get(f"{P}/v1/users/valid_token/{token}?format=json").json["system_user"]["token"] == token
    channel_id = user["channels"][0]["id"]
    client_id = user["client_id"]

    # the product feed tutorial: everything modified since a date, paged with from/size
    def page(since: str, start: int) -> dict:
        body = {"query": {"bool": {"filter": [{"range": {"modified": {"gt": since}}}]}},
                "size": 50, "from": start, "sort": {"modified": {"unmapped_type": "date", "order": "desc"}}}
        r = c.post(f"{P}/v1/products/elastic_search?token={token}", json=body)
        assert r.status_code == 200
        return r.json
    first = page("2018-07-16 08:23:04", 0)
    total = first["hits"]["total"]
    seen = [p["id"] for p in first["system_products"]]
    start = 50
    while start < total:
        seen += [p["id"] for p in page("2018-07-16 08:23:04", start)["system_products"]]
        start += 50
    assert len(seen) == len(set(seen)) == total and 62777 in seen
    last_modified = first["system_products"][0]["modified"]

    # pushing product data: the product first, then its image (FIFO)
    product = {"system_products": [{
        "source": {"source_id": "57", "product_active": "true", "source_product_code": "keyboard",
                   "sync_token": "0", "fetch_token": "0"},
        "product": {"title": "Keyboard", "options": [{"name": "Colour", "position": "1"}],
                    "variants": {"source_variant_code": "4191161", "sku": "KB-1", "qty": 3, "price": 299.0,
                                 "option1": "Black"}}}]}
    assert c.post(f"{P}/v1/products/queue?token={token}&source_id=57", json=product).json == \
        {"system_products": {"sync_product": 1}}
    image = {"system_images": [{"source": {"source_id": 57, "source_product_code": "keyboard",
                                           "source_variant_code": "4191161"},
                                "image": {"image_id": "a", "action": "I", "image": DOC_PNG,
                                          "meta": {"main_image": "true"}}}]}
    assert c.post(f"{P}/v1/images/queue?token={token}", json=image).json == {"system_images": {"sync_image": 1}}
    # the next feed poll (modified since the last run) sees the new product with its image
    fresh = page(last_modified, 0)["system_products"]
    kb = next(p for p in fresh if p["source_product_code"] == "keyboard")
    assert kb["variants"][0]["image_id"] == kb["images"][0]["id"]
    assert c.get(kb["images"][0]["src"].replace("http://localhost", "")).status_code == 200

    # posting an order on behalf of the channel (a Shopify webhook body), then finding it
    order = {"id": 450789469, "email": "bob@example.com", "line_items": [
        {"sku": "KB-1", "title": "Keyboard", "quantity": 1, "price": "299.00", "variant_id": 1}]}
    r = c.post(f"{P}/v2-queue/order?client_id={client_id}&channel_id={channel_id}&token={token}", json=order)
    assert r.status_code == 200 and r.json["message"] == "order received"
    found = c.post(f"{P}/v1/orders/elastic_search?token={token}",
                   json={"query": {"match": {"channel_order_code": "450789469"}}}).json
    assert found["hits"]["total"] == 1
    line = found["system_orders"][0]["line_items"][0]
    assert line["variant_id"] == kb["variants"][0]["id"] and line["sku"] == "KB-1"
