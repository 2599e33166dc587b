"""The control plane: health, credentials, data, reset, journal, clock, access rule."""
from __future__ import annotations

from mocks import create_app

KEY = {"C2SKey": "c2s-demo-key"}


def test_health_and_credentials(client):
    h = client.get("/__sandbox/health").json
    assert h["status"] == "ok" and "click2sync" in h["apis"] and h["state"] == "memory"
    creds = client.get("/__sandbox/credentials").json
    assert creds["click2sync"]["key"] == "c2s-demo-key" and creds["click2sync"]["header"] == "C2SKey"


def test_data_view_shows_what_a_client_wrote(client):
    client.post("/click2sync/api/product", headers=KEY, json={"sku": "seen", "title": "t"})
    creds = client.get("/__sandbox/credentials").json["click2sync"]
    mine, other = creds["keys"][0]["tenant"], creds["keys"][1]["tenant"]
    data = client.get(f"/__sandbox/data/click2sync/products?tenant={mine}").json
    skus = [p["sku"] for p in data["tenants"][mine]]
    assert "seen" in skus and other not in data["tenants"]
    assert client.get("/__sandbox/data/nope").status_code == 404


def test_reset_returns_to_the_seeded_state(client):
    before = client.get("/__sandbox/data/click2sync/products").json
    client.post("/click2sync/api/product", headers=KEY, json={"sku": "temp", "title": "t"})
    client.post("/click2sync/api/product/100004777", headers=KEY, json={"title": "changed"})
    mine = client.get("/__sandbox/credentials").json["click2sync"]["tenant"]
    assert client.post("/__sandbox/reset", json={"api": "click2sync", "tenant": mine}).status_code == 200
    assert client.get("/__sandbox/data/click2sync/products").json == before
    client.post("/click2sync/api/product", headers=KEY, json={"sku": "temp2", "title": "t"})
    client.post("/__sandbox/reset")
    assert client.get("/__sandbox/data/click2sync/products").json == before


def test_same_seed_same_data_other_seed_other_data(app_factory):
    # Click2Sync alone: an API's seed data depends on the seed, the API and the tenant only
    a = app_factory(apis=["click2sync"], seed=7).test_client().get("/__sandbox/data/click2sync").json
    b = app_factory(apis=["click2sync"], seed=7).test_client().get("/__sandbox/data/click2sync").json
    c = app_factory(apis=["click2sync"], seed=8).test_client().get("/__sandbox/data/click2sync").json
    assert a == b and a != c


def test_seed_size_is_configurable(app_factory):
    client = app_factory(apis=["click2sync"], options={"click2sync": {"products": 5, "orders": 2}}).test_client()
    assert client.get("/click2sync/api/product", headers=KEY).json["paging"]["itemsTotal"] == 5
    assert client.get("/click2sync/api/order", headers=KEY).json["paging"]["itemsTotal"] == 2


def test_journal_records_requests_with_secrets_redacted_and_filters(client):
    client.get("/click2sync/api/product?offset=0", headers=KEY)
    client.get("/click2sync/api/order", headers={"C2SKey": "wrong"})
    rows = client.get("/__sandbox/requests?api=click2sync").json["requests"]
    assert rows[0]["status"] == 401 and rows[1]["status"] == 200  # newest first
    lower = lambda d: {k.lower(): v for k, v in d.items()}  # noqa: E731
    assert lower(rows[1]["request"]["headers"])["c2skey"] == "***"
    assert lower(rows[1]["response"]["headers"])["c2skey"] == "***"
    assert "c2s-demo-key" not in str(rows)
    only_401 = client.get("/__sandbox/requests?status=401").json["requests"]
    assert [r["path"] for r in only_401] == ["/click2sync/api/order"]
    assert client.get("/__sandbox/requests?path=/api/product").json["total"] == 1


def test_journal_is_bounded(app_factory):
    client = app_factory(apis=["click2sync"], journal_size=50).test_client()
    for _ in range(120):
        client.get("/click2sync/api/product", headers=KEY)
    body = client.get("/__sandbox/requests?limit=1000").json
    assert body["total"] == 50 and body["capacity"] == 50


def test_clock_moves_forward_only(client):
    t0 = client.get("/__sandbox/clock").json["now"]
    t1 = client.post("/__sandbox/clock", json={"advance_seconds": 3600}).json["now"]
    assert t1 - t0 >= 3600
    assert client.post("/__sandbox/clock", json={"advance_seconds": -5}).status_code == 400
    assert client.post("/__sandbox/clock", json={"advance_seconds": "soon"}).status_code == 400


def test_control_plane_refuses_non_loopback_clients(client):
    r = client.get("/__sandbox/health", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert r.status_code == 403 and r.json["error"] == "forbidden"
    assert client.get("/__sandbox/health", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_admin_token_opens_the_control_plane_and_is_then_required(app_factory):
    client = app_factory(apis=["click2sync"], admin_token="s3cret").test_client()
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/__sandbox/health", environ_base=remote).status_code == 401
    assert client.get("/__sandbox/health").status_code == 401  # loopback needs it too
    ok = client.get("/__sandbox/health", environ_base=remote, headers={"X-Sandbox-Admin-Token": "s3cret"})
    assert ok.status_code == 200
    assert client.get("/__sandbox/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_sqlite_state_survives_a_new_app_on_the_same_file(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    c1 = create_app({"state": url, "testing": True}).test_client()
    created = c1.post("/click2sync/api/product", headers=KEY, json={"sku": "kept", "title": "t"}).json
    c2 = create_app({"state": url, "testing": True}).test_client()  # a restart: must not reseed over it
    assert c2.get(f"/click2sync/api/product?id={created['_id']}", headers=KEY).json["products"][0]["sku"] == "kept"


def test_api_control_blueprint_is_mounted_behind_the_guard(app_factory, monkeypatch):
    from flask import Blueprint

    from mocks.click2sync import API

    def extra():
        bp = Blueprint("extra", __name__)

        @bp.get("/ping")
        def ping():
            return {"pong": True}
        return bp

    monkeypatch.setattr(API, "control_blueprint", extra)
    client = app_factory(apis=["click2sync"]).test_client()
    assert client.get("/__sandbox/click2sync/ping").json == {"pong": True}
    assert client.get("/__sandbox/click2sync/ping", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 403
