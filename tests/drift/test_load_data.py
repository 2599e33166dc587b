"""POST /__sandbox/data/{api}/{collection}?tenant=: additions only, all checked before any is written."""
from __future__ import annotations

import pytest


@pytest.fixture
def app(app_factory):
    return app_factory(apis=["xtnd"])


def data(client, api, collection, tenant):
    return client.get(f"/__sandbox/data/{api}/{collection}?tenant={tenant}").json["tenants"][tenant]


def tenant_of(client, api):
    return client.get(f"/__sandbox/tenants/{api}").json["tenants"][0]["id"]


def test_adds_new_records_skips_existing_ones_and_completes_fields(client):
    t = tenant_of(client, "xtnd")
    before = {p["itemNumber"]: p for p in data(client, "xtnd", "products", t)}
    existing = next(iter(before))
    r = client.post(f"/__sandbox/data/xtnd/products?tenant={t}", json={"key": "itemNumber", "records": [
        {"itemNumber": "REAL-1", "description": "From the real shop", "standardPrice": 12.5},
        {"itemNumber": existing, "description": "must not overwrite"}]})
    assert r.status_code == 201 and r.json["added"] == ["REAL-1"] and r.json["skipped"] == [existing]
    after = {p["itemNumber"]: p for p in data(client, "xtnd", "products", t)}
    assert after[existing] == before[existing]
    new = after["REAL-1"]
    assert new["description"] == "From the real shop" and new["standardPrice"] == 12.5
    template = before[next(iter(before))]
    assert set(new) == set(template)  # every field the sandbox's records have, from its first record
    assert (new["ean"], new["created"]) == (template["ean"], template["created"])
    # the API itself serves it
    key = client.get("/__sandbox/credentials").json["xtnd"]["api_key"]
    got = client.get("/xtnd/api/v1/Products/REAL-1", headers={"Authorization": f"Bearer {key}"})
    assert got.status_code == 200 and got.json["description"] == "From the real shop"
    again = client.post(f"/__sandbox/data/xtnd/products?tenant={t}",
                        json={"key": "itemNumber", "records": [{"itemNumber": "REAL-1"}]})
    assert again.status_code == 200 and again.json["added"] == []


@pytest.mark.parametrize("body, fragment", [
    ({"records": "x"}, "records must be a list"),
    ({"records": [1]}, "records must be a list"),
    ({"records": [{"itemNumber": "A"}, {"name": "no id"}], "key": "itemNumber"}, "records[1]"),
    ({"records": [{"itemNumber": True}], "key": "itemNumber"}, "records[0]"),
    ({"records": [{"itemNumber": "A"}, {"itemNumber": "A"}], "key": "itemNumber"}, "repeat"),
    ({"records": [], "key": 5}, "key must be"),
])
def test_bad_input_changes_nothing(client, body, fragment):
    t = tenant_of(client, "xtnd")
    before = data(client, "xtnd", "products", t)
    r = client.post(f"/__sandbox/data/xtnd/products?tenant={t}", json=body)
    assert r.status_code == 400 and fragment in r.json["message"]
    assert data(client, "xtnd", "products", t) == before


def test_unknown_api_tenant_or_collection(client):
    t = tenant_of(client, "xtnd")
    body = {"records": []}
    assert client.post("/__sandbox/data/nope/products?tenant=1", json=body).status_code == 404
    assert client.post("/__sandbox/data/xtnd/products?tenant=nobody", json=body).status_code == 404
    assert client.post("/__sandbox/data/xtnd/products", json=body).status_code == 400
    assert client.post(f"/__sandbox/data/xtnd/__sequences__?tenant={t}", json=body).status_code == 400


def test_stock2shop_search_finds_loaded_products(app_factory):
    client = app_factory(apis=["stock2shop"], options={"stock2shop": {"products": 20}}).test_client()
    r = client.post("/__sandbox/data/stock2shop/products?tenant=21", json={"records": [
        {"id": 990001, "title": "Real catalogue kettle", "client_id": 21, "source_product_code": "KET-1"}]})
    assert r.status_code == 201
    user = client.get("/__sandbox/credentials").json["stock2shop"]["users"][0]
    token = client.post("/stock2shop/v1/users/authenticate", json={"system_user_auth": {
        "username": user["username"], "password": user["password"]}}).json["system_user"]["token"]
    hits = client.post(f"/stock2shop/v1/products/elastic_search?token={token}",
                       json={"query": {"match": {"source_product_code": "KET-1"}}}).json["hits"]["hits"]
    assert [h["_source"]["id"] for h in hits] == [990001]


def test_control_plane_rule_applies(app):
    client = app.test_client()
    r = client.post("/__sandbox/data/xtnd/products?tenant=x", json={"records": []},
                    environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert r.status_code == 403
