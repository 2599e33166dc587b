"""Errors not covered elsewhere: wrong media type, a body over the limit, and refused requests
that leave the stored data as it was."""
from __future__ import annotations

from tests.stock2shop.conftest import P, assert_error, login, search


def test_wrong_media_type_is_415(c):
    tok = login(c, "admin")
    r = c.post(f"{P}/v1/products/elastic_search?token={tok}", data="<query/>", content_type="application/xml")
    assert_error(r, 415, "unsupported_media_type")


def test_refused_requests_change_nothing(c):
    tok = login(c, "admin")
    everything = {"size": 1000, "sort": [{"id": "asc"}]}
    before = search(c, tok, everything).json["system_products"]
    queue_before = c.get(f"{P}/v1/queue/items?token={tok}").json["total"]
    bad = [
        c.post(f"{P}/v1/products/queue?token={tok}", json={"system_products": [{"source": {}, "product": {}}]}),
        c.post(f"{P}/v1/images/queue?token={tok}", json={"system_images": [
            {"source": {"source_id": 57, "source_product_code": "x"},
             "image": {"image_id": "a", "action": "I", "image": "R0lGODlhAQABAAAAACw="}}]}),   # a GIF
        c.post(f"{P}/v1/products/queue?token={login(c, 'read_only')}", json={"system_products": [
            {"source": {"source_id": 57, "source_product_code": "RO"},
             "product": {"title": "no", "variants": {"source_variant_code": "RO", "sku": "RO"}}}]}),
        search(c, tok, {"query": {"fuzzy": {"title": "x"}}}),
    ]
    tok = login(c, "admin")
    assert [r.status_code for r in bad] == [400, 400, 403, 400]
    assert search(c, tok, everything).json["system_products"] == before
    assert c.get(f"{P}/v1/queue/items?token={tok}").json["total"] == queue_before


def test_an_unknown_queue_item_and_an_expired_style_token_in_the_path(c):
    tok = login(c, "admin")
    assert_error(c.get(f"{P}/v1/queue/items/nope?token={tok}"), 404, "queue_item_not_found")
    assert_error(c.get(f"{P}/v1/users/valid_token/not-a-token"), 401, "invalid_token")
