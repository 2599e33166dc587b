"""v2-queue orders: Shopify and WooCommerce webhook payloads mapped field by field; other payloads
kept as a minimal order; every queued order searchable through orders/elastic_search."""
from __future__ import annotations

import pytest

from mocks.stock2shop import channel_orders as CO
from tests.stock2shop.conftest import P, assert_error, login, search

SHOPIFY = {
    "id": 820982911946154508, "email": "jon@example.com", "name": "#9999", "order_number": 1234,
    "note": "Leave at the gate", "currency": "ZAR", "financial_status": "paid", "fulfillment_status": None,
    "taxes_included": False, "total_price": "263.75",
    "customer": {"id": 115310627314723954, "email": "jon@example.com", "first_name": "Jon", "last_name": "Snow"},
    "line_items": [
        {"id": 866550311766439020, "variant_id": 808950810, "title": "IPod Nano - 8GB", "quantity": 2,
         "sku": "IPOD2008PINK", "price": "100.00", "grams": 567, "total_discount": "10.00",
         "tax_lines": [{"price": "28.50", "rate": 0.15, "title": "VAT"}]},
    ],
    "shipping_lines": [{"title": "Courier", "price": "30.00", "code": "courier",
                        "tax_lines": [{"price": "4.50", "rate": 0.15, "title": "VAT"}]}],
    "shipping_address": {"first_name": "Jon", "last_name": "Snow", "address1": "1 Wall Rd", "address2": "Unit 2",
                         "city": "Cape Town", "province": "Western Cape", "province_code": "WC", "country": "South Africa",
                         "country_code": "ZA", "zip": "8001", "phone": "0211234567", "company": "Night's Watch"},
    "billing_address": {"first_name": "Jon", "last_name": "Snow", "address1": "1 Wall Rd", "city": "Cape Town",
                        "country": "South Africa", "country_code": "ZA", "zip": "8001"},
    "note_attributes": [{"name": "gift_wrap", "value": "yes"}],
}

WOO = {
    "id": 727, "number": "727", "status": "processing", "currency": "ZAR", "customer_id": 26,
    "customer_note": "Call before delivery", "payment_method": "payfast",
    "billing": {"first_name": "Arya", "last_name": "Stark", "company": "", "address_1": "9 Needle St",
                "address_2": "", "city": "Durban", "state": "KZN", "postcode": "4001", "country": "ZA",
                "email": "arya@example.com", "phone": "0311234567"},
    "shipping": {"first_name": "Arya", "last_name": "Stark", "company": "", "address_1": "9 Needle St",
                 "address_2": "", "city": "Durban", "state": "KZN", "postcode": "4001", "country": "ZA"},
    "line_items": [{"id": 315, "name": "Woo Single #1", "product_id": 93, "variation_id": 0, "quantity": 3,
                    "subtotal": "60.00", "subtotal_tax": "9.00", "total": "54.00", "total_tax": "8.10",
                    "sku": "WOO-1", "price": 20}],
    "shipping_lines": [{"method_title": "Flat rate", "method_id": "flat_rate", "total": "10.00", "total_tax": "1.50"}],
    "meta_data": [{"id": 1, "key": "po_number", "value": "PO-77"}, {"id": 2, "key": "_internal", "value": "x"}],
}


def post(c, tok, channel_id, payload, client_id=91):
    return c.post(f"{P}/v2-queue/order?client_id={client_id}&channel_id={channel_id}&token={tok}", json=payload)


def find(c, tok, code):
    r = search(c, tok, {"query": {"term": {"channel_order_code": code}}}, "orders")
    assert r.status_code == 200
    return r.json["system_orders"]


def test_shopify_webhook_is_mapped_field_by_field(c):
    tok = login(c, "admin91")
    r = post(c, tok, 123, SHOPIFY)
    assert r.status_code == 200 and r.json["message"] == "order received"
    o = find(c, tok, "820982911946154508")[0]
    assert o["channel_id"] == 123 and o["notes"] == "Leave at the gate" and o["status"] == "ordered"
    assert o["customer"] == {"channel_customer_code": "115310627314723954", "email": "jon@example.com",
                             "first_name": "Jon", "last_name": "Snow"}
    li = o["line_items"][0]
    assert (li["sku"], li["title"], li["qty"], li["price"], li["grams"], li["total_discount"]) == \
        ("IPOD2008PINK", "IPod Nano - 8GB", 2, 100, 567, 10)
    assert li["tax_lines"] == [{"rate": "15"}] and li["sub_total"] == 200 and li["tax"] == 28.5
    assert li["total"] == 218.5
    assert o["shipping_sub_total"] == 30 and o["shipping_tax"] == 4.5
    assert o["total"] == pytest.approx(200 - 10 + 28.5 + 30 + 4.5)
    assert o["total_discount"] == 10
    s = o["shipping_address"]
    assert (s["address1"], s["address2"], s["city"], s["province_code"], s["country_code"], s["zip"], s["company"]) == \
        ("1 Wall Rd", "Unit 2", "Cape Town", "WC", "ZA", "8001", "Night's Watch")
    assert o["billing_address"]["first_name"] == "Jon"
    meta = {m["key"]: m["value"] for m in o["meta"]}
    assert meta["order_number"] == "1234" and meta["name"] == "#9999" and meta["financial_status"] == "paid"
    assert meta["gift_wrap"] == "yes" and meta["channel_format"] == "shopify" and meta["shipping_method"] == "Courier"
    # searchable by the mapped fields too
    assert search(c, tok, {"query": {"match_phrase": {"customer.email": "jon@example.com"}}}, "orders").json["hits"]["total"] == 1


def test_shopify_taxes_included_prices_are_net_of_tax(c):
    tok = login(c, "admin91")
    payload = {**SHOPIFY, "id": 5, "taxes_included": True,
               "line_items": [{**SHOPIFY["line_items"][0], "price": "115.00", "total_discount": "0"}]}
    post(c, tok, 123, payload)
    li = find(c, tok, "5")[0]["line_items"][0]
    assert li["price"] == 100 and li["tax"] == 30


def test_woocommerce_webhook_is_mapped_field_by_field(c):
    tok = login(c, "trade91")
    assert post(c, tok, 191, WOO).status_code == 200
    admin = login(c, "admin91")
    o = find(c, admin, "727")[0]
    assert o["channel_id"] == 191 and o["notes"] == "Call before delivery"
    assert o["customer"] == {"channel_customer_code": "26", "email": "arya@example.com",
                             "first_name": "Arya", "last_name": "Stark"}
    li = o["line_items"][0]
    assert (li["sku"], li["title"], li["qty"], li["price"], li["total_discount"]) == ("WOO-1", "Woo Single #1", 3, 20, 6)
    assert li["tax_lines"] == [{"rate": "15"}] and li["tax"] == 8.1
    assert (o["shipping_sub_total"], o["shipping_tax"]) == (10, 1.5)
    assert o["total"] == pytest.approx(60 - 6 + 8.1 + 10 + 1.5)
    b = o["billing_address"]
    assert (b["address1"], b["address2"], b["city"], b["province"], b["zip"], b["country_code"], b["phone"], b["company"]) == \
        ("9 Needle St", None, "Durban", "KZN", "4001", "ZA", "0311234567", None)
    assert o["shipping_address"]["address1"] == "9 Needle St"
    meta = {m["key"]: m["value"] for m in o["meta"]}
    assert meta["po_number"] == "PO-77" and "_internal" not in meta and meta["status"] == "processing"
    assert meta["payment_method"] == "payfast" and meta["channel_format"] == "woocommerce"


def test_the_same_order_again_updates_it(c):
    tok = login(c, "admin91")
    post(c, tok, 191, WOO)
    post(c, tok, 191, {**WOO, "customer_note": "changed"})
    orders = find(c, tok, "727")
    assert len(orders) == 1 and orders[0]["notes"] == "changed"


def test_any_other_payload_is_kept_as_a_minimal_order(c):
    tok = login(c, "admin")
    r = post(c, tok, 255, {"my order payload": {"foo": "bar"}, "ref": "X-1"}, client_id=21)
    assert r.status_code == 200
    key = r.json["queue_messages"][0]["message_id"]
    item = c.get(f"{P}/v1/queue/items/{key}?token={tok}").json["system_queue_item"]
    assert item["status"] == "processed"
    o = search(c, tok, {"query": {"ids": {"values": [str(item["result"]["order_id"])]}}}, "orders").json["system_orders"][0]
    assert o["line_items"] == [] and o["total"] == 0 and o["channel_order_code"] == str(item["id"])
    assert {"key": "ref", "value": "X-1"} in o["meta"]
    # a JSON array or a scalar is "any JSON payload" too
    for payload in ([1, 2, 3], "just text", 0):
        assert post(c, tok, 255, payload, client_id=21).status_code == 200
    r = c.post(f"{P}/v2-queue/order?client_id=21&channel_id=255&token={tok}", data="null", content_type="application/json")
    assert r.status_code == 200
    assert_error(c.post(f"{P}/v2-queue/order?client_id=21&channel_id=255&token={tok}", data="{bad",
                        content_type="application/json"), 400)


def test_shape_detection_for_channels_of_other_types():
    assert CO.detect("trade_store", WOO) == "woocommerce"
    assert CO.detect("trade_store", SHOPIFY) == "shopify"
    assert CO.detect(None, {"foo": 1}) == "generic"
    weird = CO.map_order("shopify", {"line_items": [{"quantity": "lots", "price": {"x": 1}}, 7], "id": [1]})
    assert weird["code"] is None and weird["line_items"][0]["qty"] == 1 and weird["line_items"][0]["price"] == 0


def test_order_queue_errors(c):
    tok = login(c, "admin91")
    assert_error(post(c, tok, 123, SHOPIFY, client_id=21), 403, "wrong_client")
    assert_error(post(c, tok, 47, SHOPIFY), 404, "channel_not_found")
    assert_error(post(c, login(c, "read_only91"), 123, SHOPIFY), 403, "role_forbidden")
    assert_error(c.post(f"{P}/v2-queue/order?client_id=91&channel_id=123", json=SHOPIFY), 401, "missing_token")
    assert_error(c.post(f"{P}/v2-queue/order?client_id=91&channel_id=123&token=nope", json=SHOPIFY), 401, "invalid_token")
