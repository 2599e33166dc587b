"""The response cache serves repeated GETs only while the data they were made from is unchanged."""
from __future__ import annotations

from flask import Blueprint

from mocks.core.cache import ResponseCache, cacheable
from tests.conftest import make_app

KEY = {"C2SKey": "c2s-demo-key"}
PAGE = "/click2sync/api/product?offset=0"


def _cache(app) -> ResponseCache:
    return app.extensions["response_cache"]


def test_a_repeated_page_is_served_from_the_cache_with_the_same_bytes(app):
    client = app.test_client()
    first = client.get(PAGE, headers=KEY)
    second = client.get(PAGE, headers=KEY)
    assert first.data == second.data and second.headers["C2SKey"] == "c2s-demo-key"
    assert (_cache(app).hits, _cache(app).misses) == (1, 1)
    # every request is still journalled
    assert len(client.get("/__sandbox/requests").json["requests"]) == 2


def test_a_write_makes_the_next_read_render_afresh(app):
    client = app.test_client()
    before = client.get(PAGE, headers=KEY).json["paging"]["itemsTotal"]
    assert client.post("/click2sync/api/product", headers=KEY, json={"sku": "c-1", "title": "t"}).status_code == 200
    assert client.get(PAGE, headers=KEY).json["paging"]["itemsTotal"] == before + 1
    assert _cache(app).hits == 0


def test_a_write_by_another_process_is_seen(tmp_path, app_factory):
    url = f"sqlite:///{tmp_path}/shared.db"
    reader = app_factory(apis=["click2sync"], state=url).test_client()
    writer = app_factory(apis=["click2sync"], state=url).test_client()  # another worker on the same file
    before = reader.get(PAGE, headers=KEY).json["paging"]["itemsTotal"]
    assert reader.get(PAGE, headers=KEY).json["paging"]["itemsTotal"] == before
    writer.post("/click2sync/api/product", headers=KEY, json={"sku": "c-2", "title": "t"})
    assert reader.get(PAGE, headers=KEY).json["paging"]["itemsTotal"] == before + 1


def test_tenants_and_queries_do_not_share_entries(app):
    client = app.test_client()
    a = client.get(PAGE, headers=KEY).json
    b = client.get(PAGE, headers={"C2SKey": "c2s-demo-key-2"}).json
    c = client.get("/click2sync/api/product?offset=20", headers=KEY).json
    assert a["products"] != b["products"] and a["products"] != c["products"]
    assert _cache(app).hits == 0


def test_reset_invalidates(app):
    client = app.test_client()
    client.post("/click2sync/api/product", headers=KEY, json={"sku": "c-3", "title": "t"})
    grown = client.get(PAGE, headers=KEY).json["paging"]["itemsTotal"]
    client.post("/__sandbox/reset")
    assert client.get(PAGE, headers=KEY).json["paging"]["itemsTotal"] == grown - 1


def test_answers_that_read_the_clock_or_fail_or_write_are_not_kept():
    from mocks.core.http import json_response, sandbox, state

    app = make_app(apis=["click2sync"])
    bp = Blueprint("cache_probe", __name__)
    calls = {"n": 0}

    @bp.get("/clock")
    @cacheable
    def clock():
        calls["n"] += 1
        return json_response({"now": sandbox().clock.now()})

    @bp.get("/missing")
    @cacheable
    def missing():
        calls["n"] += 1
        state().collection("products").lookup("nope")
        return json_response({"error": "no"}, status=404)

    @bp.get("/writes")
    @cacheable
    def writes():
        calls["n"] += 1
        state().collection("probe").put("k", {"n": calls["n"]})
        return json_response({"ok": True})

    from mocks.core.chain.context import current

    @bp.before_request
    def tenant():
        ctx = current()
        ctx.api = app.extensions["sandbox"].apis["click2sync"]
        ctx.tenant = "c2s-13c65e1dec"

    app.register_blueprint(bp, url_prefix="/probe")
    client = app.test_client()
    for path in ("/probe/clock", "/probe/missing", "/probe/writes"):
        calls["n"] = 0
        client.get(path)
        client.get(path)
        assert calls["n"] == 2, path
    assert _cache(app).hits == 0


def test_the_cache_is_bounded_in_bytes(app_factory):
    app = app_factory(apis=["click2sync"], response_cache_mb=1)
    cache = _cache(app)
    cache.max_bytes = 40_000  # about two product pages
    client = app.test_client()
    for offset in range(0, 60, 20):
        client.get(f"/click2sync/api/product?offset={offset}", headers=KEY)
    assert cache._bytes <= 40_000 and len(cache._entries) < 3


def test_the_cache_can_be_switched_off(app_factory):
    app = app_factory(apis=["click2sync"], response_cache_mb=0)
    assert "response_cache" not in app.extensions
    client = app.test_client()
    assert client.get(PAGE, headers=KEY).data == client.get(PAGE, headers=KEY).data
