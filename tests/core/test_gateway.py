"""Hostile and malformed input gets the API's own error shape and a 4xx, and changes nothing."""
from __future__ import annotations

import json

import pytest

KEY = {"C2SKey": "c2s-demo-key"}


def catalogue(client):
    return client.get("/click2sync/api/product?id=100004777", headers=KEY).json["products"][0]


@pytest.mark.parametrize("data,ctype,status", [
    (b"{not json", "application/json", 400),
    (b"\xff\xfe{}", "application/json", 400),
    (b'{"title": NaN}', "application/json", 400),
    (b'{"title": Infinity}', "application/json", 400),
    (b'{"title": "a", "title": "b"}', "application/json", 400),
    (b"[" * 5000 + b"]" * 5000, "application/json", 400),
    (b'{"title": 1e999999}', "application/json", 400),
    (b'{"title": 123456789012345678901234567890}', "application/json", 400),
    (b"title=x", "application/x-www-form-urlencoded", 415),
    (b"<xml/>", "application/xml", 415),
])
def test_bad_bodies_answer_in_the_storefront_shape_and_change_nothing(client, data, ctype, status):
    before = catalogue(client)
    r = client.post("/click2sync/api/product/100004777", headers={**KEY, "Content-Type": ctype}, data=data)
    assert r.status_code == status, r.json
    assert r.json["success"] is False and r.json["code"] == status and r.json["reasons"]
    assert catalogue(client) == before


def test_oversized_body_is_413_in_the_api_shape(app_factory):
    client = app_factory(apis=["click2sync"], max_body_bytes=1024).test_client()
    r = client.post("/click2sync/api/product", headers=KEY, json={"sku": "x", "title": "y" * 5000})
    assert r.status_code == 413 and r.json["code"] == 413


def test_unknown_route_and_wrong_method_use_the_api_shape(client):
    r = client.get("/click2sync/api/nothing", headers=KEY)
    assert r.status_code == 404 and r.json["success"] is False
    r = client.delete("/click2sync/api/product", headers=KEY)
    assert r.status_code == 405 and r.json["code"] == 405


def test_request_violations_are_recorded_with_pointer_and_reason(client):
    client.post("/click2sync/api/product", headers=KEY, json={"sku": 5, "title": "t"})
    v = client.get("/__sandbox/violations").json["violations"][0]
    assert v["direction"] == "request" and v["api"] == "click2sync" and v["operation"] == "createProduct"
    assert v["errors"][0]["pointer"] == "/body/sku" and "is not of type 'string'" in v["errors"][0]["reason"]


def test_openapi_document_is_served_self_contained(client):
    doc = client.get("/click2sync/openapi.json").json
    assert doc["openapi"].startswith("3.1") and doc["servers"][0]["url"].endswith("/click2sync")
    text = json.dumps(doc)
    assert ".schema.json" not in text  # every file reference was bundled
    assert "product-page" in doc["components"]["schemas"]


def test_openapi_documents_validate():
    from mocks.registry import installed as installed_apis
    from tests.conftest import validate_openapi_document

    for api in installed_apis():
        validate_openapi_document(api)


def test_root_api_mount_serves_the_same_api_at_slash(app_factory):
    client = app_factory(apis=["click2sync"], root_api="click2sync").test_client()
    a = client.get("/api/product?offset=0", headers=KEY)
    b = client.get("/click2sync/api/product?offset=0", headers=KEY)
    assert a.status_code == 200 and a.json == b.json
    assert client.get("/api/product").status_code == 401


def test_api_option_limits_mounted_apis(app_factory):
    app = app_factory(apis=["click2sync"])
    assert list(app.extensions["sandbox"].apis) == ["click2sync"]
    with pytest.raises(ValueError):
        app_factory(apis=["nope"])


def test_a_huge_invalid_body_leaves_a_small_violation_record(app):
    client = app.test_client()
    body = {"sku": ["x" * 50] * 20_000, "title": "t"}  # ~1 MB, the wrong type for sku
    r = client.post("/click2sync/api/product", headers={"C2SKey": "c2s-demo-key"}, json=body)
    assert r.status_code == 400
    assert len(r.data) < 5_000
    records = client.get("/__sandbox/violations").json
    assert len(str(records)) < 10_000
