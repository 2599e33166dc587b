"""The Click2Sync storefront hooks, end to end through the Flask test client."""
from __future__ import annotations

import pytest

KEY = {"C2SKey": "c2s-demo-key"}
OTHER = {"C2SKey": "c2s-demo-key-2"}


def all_pages(client, what, headers=KEY, sortorder="asc"):
    seen, offset, total = [], 0, None
    while True:
        r = client.get(f"/click2sync/api/{what}?offset={offset}&sortorder={sortorder}", headers=headers)
        assert r.status_code == 200
        paging = r.json["paging"]
        total = paging["itemsTotal"] if total is None else total
        assert paging["itemsTotal"] == total and paging["pageSize"] == 20 and paging["offset"] == offset
        seen += r.json[what + "s"]
        if offset + 20 >= total:
            return seen, total
        offset += 20


# -- auth ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"C2SKey": "wrong"}, {"C2SKey": ""}, {"c2skey": "c2s-demo-key "}])
@pytest.mark.parametrize("method,path", [("GET", "/api/product"), ("POST", "/api/product"),
                                         ("GET", "/api/order"), ("POST", "/api/order/75554554546")])
def test_missing_or_wrong_key_is_401_in_the_storefront_shape(client, headers, method, path):
    r = client.open("/click2sync" + path, method=method, headers=headers, json={"sku": "x", "title": "y"})
    assert r.status_code == 401
    assert r.json["success"] is False and r.json["code"] == 401
    assert r.json["reasons"][0]["code"] == "invalid_key"
    assert "C2SKey" not in r.headers


def test_every_answer_carries_the_key_back(client):
    assert client.get("/click2sync/api/product", headers=KEY).headers["C2SKey"] == "c2s-demo-key"
    assert client.get("/click2sync/api/order?id=nope", headers=KEY).headers["C2SKey"] == "c2s-demo-key"


# -- products ------------------------------------------------------------------------------------
def test_first_page_holds_the_documents_example_product(client):
    r = client.get("/click2sync/api/product?offset=0", headers=KEY)
    body = r.json
    assert body["paging"] == {"pageSize": 20, "itemsTotal": 60, "offset": 0, "next": body["paging"]["next"]}
    first = body["products"][0]
    assert first["_id"] == "100004777" and first["title"] == 'EON618S JBL SUBWOOFER 18" AMPLIFICADO'
    assert first["variations"][0]["availabilities"] == [{"tag": "default", "quantity": "50"}]
    assert first["variations"][0]["prices"] == [{"tag": "default", "currency": "USD", "number": "1060.51"}]


def test_paging_covers_every_product_once_in_both_orders(client):
    asc, total = all_pages(client, "product")
    desc, _ = all_pages(client, "product", sortorder="desc")
    assert total == 60 and len(asc) == 60
    assert len({p["_id"] for p in asc}) == 60
    assert [p["_id"] for p in desc] == [p["_id"] for p in asc][::-1]


def test_next_step_tags_walk_the_same_pages_as_offsets(client):
    by_offset, _ = all_pages(client, "product")
    ids, r = [], client.get("/click2sync/api/product", headers=KEY)
    while True:
        ids += [p["_id"] for p in r.json["products"]]
        tag = r.json["paging"].get("next")
        if not tag:
            break
        r = client.get(f"/click2sync/api/product?next={tag}", headers=KEY)
    assert ids == [p["_id"] for p in by_offset]


def test_unknown_next_tag_is_404_and_bad_offset_is_400(client):
    r = client.get("/click2sync/api/product?next=garbage!", headers=KEY)
    assert r.status_code == 404 and r.json["reasons"][0]["code"] == "invalid_next"
    r = client.get("/click2sync/api/product?offset=-1", headers=KEY)
    assert r.status_code == 400 and r.json["reasons"][0]["message"].startswith("/query/offset")
    r = client.get("/click2sync/api/product?sortorder=sideways", headers=KEY)
    assert r.status_code == 400


def test_offset_past_the_end_is_an_empty_page(client):
    r = client.get("/click2sync/api/product?offset=1000", headers=KEY)
    assert r.status_code == 200 and r.json["products"] == [] and r.json["paging"]["itemsTotal"] == 60


def test_id_returns_the_same_product_as_the_listing(client):
    listed = client.get("/click2sync/api/product?offset=20", headers=KEY).json["products"][3]
    r = client.get(f"/click2sync/api/product?id={listed['_id']}", headers=KEY)
    assert r.json["products"] == [listed] and r.json["paging"]["itemsTotal"] == 1
    r = client.get("/click2sync/api/product?id=nope", headers=KEY)
    assert r.status_code == 404 and r.json["reasons"][0]["code"] == "product_not_found"


NEW = {
    "sku": "999999", "title": 'EON618S JBL SUBWOOFER 18" AMPLIFICADO', "brand": "", "mpn": " ",
    "model": "", "description": "JBL Premium Transducers", "tags": [{"value": ""}],
    "variations": [{"availabilities": [{"tag": "default", "quantity": "50"}],
                    "prices": [{"tag": "default", "currency": "USD", "number": "1060.51"}],
                    "images": [{"url": "http://www.example.com/x.jpg"}], "videos": [{}],
                    "barcode": "", "size": "", "color": ""}],
}


def test_create_then_read_back_then_partial_update(client):
    created = client.post("/click2sync/api/product", headers=KEY, json=NEW)
    assert created.status_code == 200
    product = created.json
    assert product["sku"] == "999999" and product["_id"] and product["url"] == ""
    assert client.get(f"/click2sync/api/product?id={product['_id']}", headers=KEY).json["products"][0] == product
    total = client.get("/click2sync/api/product", headers=KEY).json["paging"]["itemsTotal"]
    assert total == 61

    update = {"title": "New Title", "description": "Updated description",
              "variations": [{"availabilities": [{"tag": "default", "quantity": "80"}],
                              "prices": [{"tag": "default", "currency": "USD", "number": "1050.51"}]}]}
    r = client.post(f"/click2sync/api/product/{product['_id']}", headers=KEY, json=update)
    assert r.status_code == 200
    updated = r.json
    assert updated["title"] == "New Title" and updated["description"] == "Updated description"
    assert updated["variations"][0]["availabilities"][0]["quantity"] == "80"
    # fields not sent are kept, variations merge by position
    assert updated["variations"][0]["images"] == NEW["variations"][0]["images"]
    assert updated["brand"] == "" and updated["sku"] == "999999" and updated["tags"] == [{"value": ""}]
    assert client.get(f"/click2sync/api/product?id={product['_id']}", headers=KEY).json["products"][0] == updated


def test_create_rejects_bad_types_and_duplicates_without_storing(client, app):
    bad = dict(NEW, variations=[{"availabilities": [{"tag": "default", "quantity": 50}]}])
    r = client.post("/click2sync/api/product", headers=KEY, json=bad)
    assert r.status_code == 400
    assert r.json["reasons"][0]["message"].startswith("/body/variations/0/availabilities/0/quantity")
    r = client.post("/click2sync/api/product", headers=KEY, json={"title": "no sku"})
    assert r.status_code == 400 and "sku" in r.json["reasons"][0]["message"]
    r = client.post("/click2sync/api/product", headers=KEY, json=dict(NEW, sku="100004777"))
    assert r.status_code == 409 and r.json["reasons"][0]["code"] == "duplicate_sku"
    assert client.get("/click2sync/api/product", headers=KEY).json["paging"]["itemsTotal"] == 60


def test_update_unknown_product_is_404_and_empty_update_is_400(client):
    r = client.post("/click2sync/api/product/nope", headers=KEY, json={"title": "x"})
    assert r.status_code == 404 and r.json["error"] == "Product nope not found"
    r = client.post("/click2sync/api/product/100004777", headers=KEY, json={})
    assert r.status_code == 400


# -- orders --------------------------------------------------------------------------------------
def test_orders_page_has_the_documents_example_order(client):
    r = client.get("/click2sync/api/order?offset=0", headers=KEY)
    assert r.json["paging"]["itemsTotal"] == 30
    example = r.json["orders"][0]
    assert example["_id"] == "75554554546" and example["orderid"] == "777777" and example["status"] == "payed"
    assert example["total"] == {"amount": 350, "currency": "MX"}
    assert example["orderItems"][0] == {"id": "7778545", "variation_id": "0", "quantity": "1",
                                        "unitPrice": "350", "currencyId": "MX"}
    orders, total = all_pages(client, "order")
    assert len({o["_id"] for o in orders}) == total == 30


def test_order_create_update_and_close(client):
    order = {"orderid": "A-1", "status": "payed",
             "orderItems": [{"id": "100004777", "variation_id": "0", "quantity": "2", "unitPrice": "10.50",
                             "currencyId": "USD"}],
             "buyer": {"id": "1", "email": "a@example.com", "phone": "1", "firstName": "A", "lastName": "B"}}
    r = client.post("/click2sync/api/order", headers=KEY, json=order)
    assert r.status_code == 200
    created = r.json
    assert created["total"] == {"amount": 21.0, "currency": "USD"} and created["dateClosed"] == ""
    r = client.post(f"/click2sync/api/order/{created['_id']}", headers=KEY, json={"status": "delivered"})
    assert r.json["status"] == "delivered" and r.json["dateClosed"] != ""
    assert r.json["orderItems"] == created["orderItems"] and r.json["buyer"] == created["buyer"]
    assert client.post("/click2sync/api/order", headers=KEY, json=order).status_code == 409
    r = client.post("/click2sync/api/order", headers=KEY, json=dict(order, orderid="A-2", orderItems=[]))
    assert r.status_code == 400


# -- tenancy -------------------------------------------------------------------------------------
def test_two_keys_never_see_each_others_data(client):
    mine = client.post("/click2sync/api/product", headers=KEY, json=dict(NEW, sku="only-mine")).json
    assert client.get(f"/click2sync/api/product?id={mine['_id']}", headers=OTHER).status_code == 404
    theirs, _ = all_pages(client, "product", headers=OTHER)
    assert "only-mine" not in {p["sku"] for p in theirs}
    assert client.post(f"/click2sync/api/product/{mine['_id']}", headers=OTHER, json={"title": "x"}).status_code == 404
    assert client.get(f"/click2sync/api/product?id={mine['_id']}", headers=KEY).json["products"][0]["title"] == NEW["title"]


def test_order_update_appending_a_partial_item_is_409_and_changes_nothing(client):
    before = client.get("/click2sync/api/order?id=75554554546", headers=KEY).json["orders"][0]
    r = client.post("/click2sync/api/order/75554554546", headers=KEY,
                    json={"orderItems": [{}, {"quantity": "2"}]})
    assert r.status_code == 409 and r.json["reasons"][0]["code"] == "incomplete_item"
    assert r.json["error"].startswith("/body/orderItems/1")
    assert client.get("/click2sync/api/order?id=75554554546", headers=KEY).json["orders"][0] == before
