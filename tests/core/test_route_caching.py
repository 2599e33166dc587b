"""Which GET routes the response cache answers (``@cacheable``, mocks.core.cache) and which it never
does, with the reason; and, API by API, that a cached answer is never a wrong one.

A cached answer is kept with the versions of the namespaces the route read and is served again only
while none has changed; it is not kept when the route wrote, read the sandbox clock or failed. So a
route may be marked only if its answer is a function of the request (endpoint, tenant, path, query,
declared header parameters) and of stored data read through the store. For each API:
(a) a second identical GET is a hit; (b) after a write through the API, the control plane, the
scheduler or a scenario the next GET shows it; (c) tenants and credentials never see each other's
answers; (d) an authentication failure is never answered from the cache.

A new GET route (or XTND operation, or API2Cart method) must be added to the lists below: the tests
at the top fail until it is either marked or exempt with its reason.
"""
from __future__ import annotations

import fnmatch
from typing import Any

import pytest

# -- the decisions ----------------------------------------------------------------------------------
#: Flask endpoints serving GET that are not @cacheable, and why (fnmatch patterns)
EXEMPT_ROUTES: dict[str, str] = {
    "stock2shop.valid_token": "reads the sandbox clock (the token's expiry): such answers are never kept",
    "printxpand.order_create_*": "writes: creates or updates orders (the document lists GET with a JSON body, and "
                                 "the cache key has no body)",
    "sandbox_control.*": "the control plane: outside the API request chain (the cache never answers it); it "
                         "reads the journal, the clock, the scheduler and webhooks, none tracked",
    "sandbox_control_*.*": "an API's control plane: outside the API request chain, as sandbox_control",
    "sandbox_console.*": "the console's static files, outside the API request chain",
    "static": "Flask's static folder (unused), outside the API request chain",
}

#: XTND: one Flask rule (case-insensitive paths) dispatches every operation; GET operations of the
#: contract whose answers are kept, and those that are never kept (though the rule is @cacheable)
XTND_CACHED = {"listCustomerOrders", "getCustomerOrder", "listProductAvailability", "listWarehouses", "listProducts",
               "getProduct", "listCustomers", "getCustomer", "listWebhooks", "getWebhook"}
XTND_EXEMPT = {
    "listProductPrices": "reads the sandbox clock (price list, discount list and campaign validity): never kept",
}

#: API2Cart: one Flask rule dispatches every method (the method name is in the path, so in the key;
#: the api_key/store_key headers select the tenant, which is in the key). On an Amazon SP-API store the
#: product, category and return reads go through reports on the sandbox clock: those are never kept.
A2C_CACHED = {
    "account.cart.list", "account.failed_webhooks", "product.list", "product.info", "product.count", "product.find",
    "product.variant.list", "product.variant.info", "product.variant.count", "category.list", "category.info",
    "category.count", "category.find", "customer.list", "customer.info", "customer.count", "customer.find",
    "order.list", "order.info", "order.count", "order.find", "order.shipment.list", "return.list", "return.info",
    "return.count", "webhook.list", "webhook.count", "basket.live_shipping_service.list",
    # the store record that authentication read: what authentication reads is a dependency too
    # (RequestContext.fast_reads), so account.config.update makes the next answer afresh
    "cart.info",
}
A2C_CACHED |= {  # constant answers (per platform) of a store: kept against what authentication read
    "order.status.list", "return.reason.list", "return.status.list", "return.action.list", "webhook.events",
}
A2C_EXEMPT = {
    "account.supported_platforms": "a constant answer from the bundled document; the API key alone authenticates "
                                   "it (no stored data read): nothing to keep it against (not kept)",
    "cart.list": "a constant answer; the API key alone authenticates it (no stored data read): not kept",
    "cart.bridge": "writes: issues a new store key on every call",
    "bridge.download": "writes: counts the download of the key's bridge.zip (a file, not the envelope)",
}
#: the methods the all-methods test calls in its own way
A2C_SPECIAL = {"cart.bridge", "bridge.download"}


def _cache(app: Any) -> Any:
    return app.extensions["response_cache"]


class Hits:
    """Counts the cache's hits since it was made (``delta()``)."""

    def __init__(self, app: Any) -> None:
        self.cache = _cache(app)
        self.start = self.cache.hits

    def delta(self) -> int:
        return self.cache.hits - self.start


def twice(client: Any, app: Any, url: str, **kw: Any) -> tuple[Any, Any, int]:
    """The same GET twice: (first, second, hits gained by the second)."""
    first = client.get(url, **kw)
    before = _cache(app).hits
    second = client.get(url, **kw)
    return first, second, _cache(app).hits - before


# -- every GET route decides ------------------------------------------------------------------------
#: the reason of every route marked @sandbox_page (mocks.core.api)
PAGE = "a page about the API (@sandbox_page: its contract, its reference page and assets): served outside the " \
       "request chain, which is where the cache answers"


def _exempt(endpoint: str, view: Any = None) -> str | None:
    if getattr(view, "sandbox_page", False):
        return PAGE
    return next((why for pattern, why in EXEMPT_ROUTES.items() if fnmatch.fnmatchcase(endpoint, pattern)), None)


def test_every_get_route_is_cacheable_or_exempt_with_a_reason(app):
    undecided, both = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        view = app.view_functions[rule.endpoint]
        marked = getattr(view, "sandbox_cacheable", False)
        why = _exempt(rule.endpoint, view)
        if not marked and not why:
            undecided.append(f"{rule.endpoint} {rule.rule}")
        if marked and why:
            both.append(rule.endpoint)
    assert not undecided, f"GET routes neither @cacheable nor in EXEMPT_ROUTES (with a reason): {undecided}"
    assert not both, f"@cacheable routes listed as exempt: {both}"
    # every pattern still names a route (a stale exemption hides nothing)
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    assert all(any(fnmatch.fnmatchcase(e, p) for e in endpoints) for p in EXEMPT_ROUTES)


def test_a_root_mounted_api_is_marked_as_under_its_prefix(app_factory):
    app = app_factory(apis=["click2sync"], root_api="click2sync")
    by_rule = {r.rule: getattr(app.view_functions[r.endpoint], "sandbox_cacheable", False)
               for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    assert by_rule["/api/product"] and by_rule["/click2sync/api/product"]
    client = app.test_client()
    _, _, hits = twice(client, app, "/api/product?offset=0", headers={"C2SKey": "c2s-demo-key"})
    assert hits == 1


def test_every_xtnd_get_operation_is_decided():
    from mocks.core.contracts import load_document

    doc = load_document("xtnd")
    gets = {op["operationId"] for ops in doc["paths"].values() for m, op in ops.items() if m == "get"}
    assert not XTND_CACHED & set(XTND_EXEMPT)
    assert gets == XTND_CACHED | set(XTND_EXEMPT), gets ^ (XTND_CACHED | set(XTND_EXEMPT))


def test_every_api2cart_get_method_is_decided():
    from mocks.api2cart.routes import METHODS

    gets = {name for name, (http, _, _) in METHODS.items() if http == "GET"}
    assert not A2C_CACHED & set(A2C_EXEMPT)
    assert gets == A2C_CACHED | set(A2C_EXEMPT), gets ^ (A2C_CACHED | set(A2C_EXEMPT))


# -- Click2Sync --------------------------------------------------------------------------------------
C2S = {"C2SKey": "c2s-demo-key"}
C2S_OTHER = {"C2SKey": "c2s-demo-key-2"}
C2S_PAGE = "/click2sync/api/product?offset=0"


def test_click2sync_hits_and_sees_writes_through_the_api_and_the_control_plane(app, client):
    first, second, hits = twice(client, app, C2S_PAGE, headers=C2S)
    assert hits == 1 and first.data == second.data
    one = first.json["products"][0]
    _, again, hits = twice(client, app, f"/click2sync/api/product?id={one['sku']}", headers=C2S)
    assert hits == 1 and again.json["products"][0]["sku"] == one["sku"]
    # a write through the API
    assert client.post(f"/click2sync/api/product/{one['sku']}", headers=C2S, json={"title": "Renamed"}).status_code == 200
    assert client.get(f"/click2sync/api/product?id={one['sku']}", headers=C2S).json["products"][0]["title"] == "Renamed"
    # a write through the control plane (records added to the tenant's collection)
    tenant = client.get("/__sandbox/credentials").json["click2sync"]["tenant"]
    total = client.get(C2S_PAGE, headers=C2S).json["paging"]["itemsTotal"]
    r = client.post(f"/__sandbox/data/click2sync/products?tenant={tenant}",
                    json={"records": [{"sku": "ctl-1", "title": "From the control plane"}], "key": "sku"})
    assert r.status_code == 201, r.json
    assert client.get(C2S_PAGE, headers=C2S).json["paging"]["itemsTotal"] == total + 1


def test_click2sync_tenants_and_bad_keys(app, client):
    mine, _, _ = twice(client, app, C2S_PAGE, headers=C2S)
    hits = Hits(app)
    theirs = client.get(C2S_PAGE, headers=C2S_OTHER)
    assert theirs.status_code == 200 and theirs.json["products"] != mine.json["products"] and hits.delta() == 0
    for bad in ({"C2SKey": "wrong"}, {}):
        r = client.get(C2S_PAGE, headers=bad)
        assert r.status_code == 401 and r.json != mine.json
    assert hits.delta() == 0


def test_click2sync_a_scenario_answers_before_the_cache_and_leaves_its_entry_intact(app, client):
    first, _, hits = twice(client, app, C2S_PAGE, headers=C2S)
    assert hits == 1
    rule = {"name": "down", "match": {"api": "click2sync", "method": "GET"}, "when": {"always": True},
            "action": {"status": 503}}
    assert client.post("/__sandbox/scenarios", json={"name": "c2s-down", "rules": [rule]}).status_code == 201
    assert client.get(C2S_PAGE, headers=C2S).status_code == 503
    assert client.delete("/__sandbox/scenarios/c2s-down").status_code in (200, 204)
    hits = Hits(app)
    again = client.get(C2S_PAGE, headers=C2S)
    assert again.status_code == 200 and again.data == first.data and hits.delta() == 1


# -- Stock2Shop --------------------------------------------------------------------------------------
S2S = "/stock2shop"


S2S_OPTIONS = {"stock2shop": {"products": 40, "orders": 20, "customers": 15, "queue_delay_seconds": 0.3}}


@pytest.fixture
def s2s_app(shared_app):
    return shared_app(apis=["stock2shop"], options=S2S_OPTIONS)


def _login_user(client: Any, username: str) -> dict[str, Any]:
    r = client.post(f"{S2S}/v1/users/authenticate",
                    json={"system_user_auth": {"username": username, "password": username + "-s2s-demo"}})
    assert r.status_code == 200, r.json
    return r.json["system_user"]


def _login(client: Any, username: str) -> str:
    return _login_user(client, username)["token"]


def _queue_product(client: Any, token: str, code: str) -> None:
    entry = {"source": {"source_id": "57", "product_active": "true", "source_product_code": code,
                        "sync_token": "0", "fetch_token": "0"},
             "product": {"title": code, "variants": {"source_variant_code": code, "sku": code}}}
    r = client.post(f"{S2S}/v1/products/queue?token={token}&source_id=57", json={"system_products": [entry]})
    assert r.status_code == 200, r.json


def _freeze(client: Any) -> None:
    """Stop the sandbox clock: queued work falls due only when a test moves it."""
    assert client.post("/__sandbox/clock", json={"freeze": True}).status_code == 200


def test_stock2shop_marked_routes_hit(s2s_app):
    c = s2s_app.test_client()
    _freeze(c)
    tok = _login(c, "admin")
    order = c.get(f"{S2S}/v1/orders/search?token={tok}&limit=1").json["system_orders"][0]
    _queue_product(c, tok, "HIT-1")
    assert c.post("/__sandbox/clock", json={"advance_seconds": 1}).status_code == 200  # applied
    item = c.get(f"{S2S}/v1/queue/items?token={tok}").json["system_queue_items"][0]
    for path in ("/v1/sources", "/v1/channels", f"/v1/orders/{order['id']}", "/v1/queue/summary", "/v1/queue/items",
                 f"/v1/queue/items/{item['id']}", "/v1/orders/search", "/v1/orders/search?status=processing&limit=3"):
        first, second, hits = twice(c, s2s_app, f"{S2S}{path}{'&' if '?' in path else '?'}token={tok}")
        assert first.status_code == 200 and hits == 1 and first.data == second.data, path


def test_stock2shop_exempt_routes_never_hit(s2s_app):
    c = s2s_app.test_client()
    tok = _login(c, "admin")
    for path in (f"/v1/users/valid_token/{tok}",):
        first, _, hits = twice(c, s2s_app, S2S + path)
        assert first.status_code == 200 and hits == 0, path


def test_stock2shop_queue_and_scheduler_changes_are_seen(s2s_app):
    app = s2s_app
    c = app.test_client()
    _freeze(c)
    tok = _login(c, "admin")
    before, _, hits = twice(c, app, f"{S2S}/v1/queue/summary?token={tok}")
    assert hits == 1 and before.json["system_queue_summary"]["total"] == 0
    _queue_product(c, tok, "SCHED-1")  # a write through the API: one pending item
    pending = c.get(f"{S2S}/v1/queue/summary?token={tok}").json["system_queue_summary"]
    assert pending["total"] == 1
    # the scheduler applies it once the client's clock passes the queue delay (no request of the client
    # writes anything: the summary's version moves because the scheduler wrote)
    assert c.post("/__sandbox/clock", json={"advance_seconds": 10}).status_code == 200
    after = c.get(f"{S2S}/v1/queue/summary?token={tok}").json["system_queue_summary"]
    assert after["total"] == 0 and after["instructions"][0]["processed"] == 1
    items = c.get(f"{S2S}/v1/queue/items?token={tok}").json["system_queue_items"]
    assert items[0]["status"] == "processed"


def test_stock2shop_due_queue_items_are_applied_before_a_cached_answer(s2s_app):
    """No clock move through the control plane: the client's clock runs on, and authentication applies
    the items that fell due (Stock2Shop.authenticate) before the cache is looked up."""
    import time

    app = s2s_app
    c = app.test_client()
    tok = _login(c, "admin")
    _queue_product(c, tok, "DUE-1")
    pending, _, hits = twice(c, app, f"{S2S}/v1/queue/summary?token={tok}")
    assert hits == 1 and pending.json["system_queue_summary"]["total"] == 1
    time.sleep(0.35)
    after = c.get(f"{S2S}/v1/queue/summary?token={tok}").json["system_queue_summary"]
    assert after["total"] == 0 and after["instructions"][0]["processed"] == 1


def test_stock2shop_a_control_plane_write_is_seen(s2s_app):
    c = s2s_app.test_client()
    tok = _login(c, "admin")
    channels, _, hits = twice(c, s2s_app, f"{S2S}/v1/channels?token={tok}")
    assert hits == 1
    r = c.post("/__sandbox/data/stock2shop/channels?tenant=21", json={"records": [{"id": 9999, "description": "New"}]})
    assert r.status_code == 201, r.json
    now = c.get(f"{S2S}/v1/channels?token={tok}").json["system_channels"]
    assert len(now) == len(channels.json["system_channels"]) + 1 and now[-1]["description"] == "New"


def test_stock2shop_users_of_one_client_never_share_answers(s2s_app):
    """The tenant is the client; the token (in the query string, so in the key) names the user, and
    what a user may see differs by role."""
    c = s2s_app.test_client()
    admin, customers_only = (_login(c, u) for u in ("admin", "customer_read_only"))
    trade_user = _login_user(c, "trade")
    trade, own = trade_user["token"], trade_user["customers"][0]["id"]
    orders = c.get(f"{S2S}/v1/orders/search?token={admin}&limit=50").json["system_orders"]
    hidden = next(o for o in orders if o.get("customer_id") != own)
    _, _, hits = twice(c, s2s_app, f"{S2S}/v1/orders/{hidden['id']}?token={admin}")
    assert hits == 1
    hits = Hits(s2s_app)
    r = c.get(f"{S2S}/v1/orders/{hidden['id']}?token={trade}")
    assert r.status_code == 404 and r.json["error"]["code"] == 404
    twice(c, s2s_app, f"{S2S}/v1/sources?token={admin}")
    r = c.get(f"{S2S}/v1/sources?token={customers_only}")
    assert r.status_code == 403 and r.json["error"]["code"] == 403
    assert hits.delta() == 1  # only the admin's own repeat


def test_stock2shop_a_token_that_expired_or_was_replaced_is_refused_not_served(s2s_app):
    c = s2s_app.test_client()
    tok = _login(c, "admin")
    _, _, hits = twice(c, s2s_app, f"{S2S}/v1/sources?token={tok}")
    assert hits == 1
    newer = _login(c, "admin")  # a new token invalidates the user's earlier one
    hits = Hits(s2s_app)
    r = c.get(f"{S2S}/v1/sources?token={tok}")
    assert r.status_code == 401 and r.json["error"]["code"] == 401
    _, _, gained = twice(c, s2s_app, f"{S2S}/v1/sources?token={newer}")
    assert gained == 1
    assert c.post("/__sandbox/clock", json={"advance_seconds": 86_400 + 1}).status_code == 200  # the token's TTL
    r = c.get(f"{S2S}/v1/sources?token={newer}")
    assert r.status_code == 401 and r.json["error"]["code"] == 401
    assert hits.delta() == 1


def test_stock2shop_the_rate_limit_applies_to_cached_answers(s2s_app):
    c = s2s_app.test_client()
    tok = _login(c, "admin")
    _, _, hits = twice(c, s2s_app, f"{S2S}/v1/sources?token={tok}")
    assert hits == 1
    assert c.post("/__sandbox/stock2shop/rate_limit", json={"client_id": 21, "enabled": True}).status_code == 200
    got = [c.get(f"{S2S}/v1/sources?token={tok}") for _ in range(5)]
    limited = [r for r in got if r.status_code == 429]
    assert limited and limited[0].json["error"]["code"] == 429, [r.status_code for r in got]
    served = [r for r in got if r.status_code == 200]
    assert served and all(r.headers["x-S2S-RateLimit"] == "3" for r in served)  # the limiter's header on a hit


def test_stock2shop_a_scenario_that_expires_the_token_is_seen_by_cached_routes(s2s_app):
    c = s2s_app.test_client()
    tok = _login(c, "admin")
    _, _, hits = twice(c, s2s_app, f"{S2S}/v1/sources?token={tok}")
    assert hits == 1
    assert c.post("/__sandbox/scenarios/stock2shop-token-expiry-mid-paging").status_code in (200, 201)
    codes = [c.post(f"{S2S}/v1/products/elastic_search?token={tok}", json={"size": 1}).status_code for _ in range(3)]
    assert codes == [200, 200, 401]
    r = c.get(f"{S2S}/v1/sources?token={tok}")
    assert r.status_code == 401 and r.json["error"]["code"] == 401


def test_stock2shop_other_clients_and_images(s2s_app):
    c = s2s_app.test_client()
    mine = _login(c, "admin")
    other_client = next(cid for cid in __import__("mocks.stock2shop.seed", fromlist=["CLIENTS"]).CLIENTS if cid != "21")
    from mocks.stock2shop import seed as S2
    theirs = _login(c, S2.users_of(other_client)[0]["username"])
    a, _, _ = twice(c, s2s_app, f"{S2S}/v1/sources?token={mine}")
    b = c.get(f"{S2S}/v1/sources?token={theirs}")
    assert a.json != b.json
    # an image file (public: no tenant) is cached by its name
    from tests.stock2shop.test_images import image, png, product
    c.post(f"{S2S}/v1/products/queue?token={mine}", json={"system_products": [product("IMGC")]})
    r = c.post(f"{S2S}/v1/images/queue?token={mine}", json={"system_images": [image("IMGC", png(), "a", "IMGC-1")]})
    assert r.status_code == 200, r.json
    assert c.post("/__sandbox/clock", json={"advance_seconds": 1}).status_code == 200  # both applied
    found = c.post(f"{S2S}/v1/products/elastic_search?token={mine}",
                   json={"query": {"term": {"source_product_code": "IMGC"}}}).json["system_products"]
    src = found[0]["images"][0]["src"].replace("http://localhost", "")
    for path in (src, found[0]["images"][0]["src_50x50"].replace("http://localhost", "")):
        first, second, hits = twice(c, s2s_app, path)
        assert first.status_code == 200 and first.data == png() and hits == 1 and first.data == second.data
    r = c.get(src.rsplit("/", 1)[0] + "/" + "0" * 32 + ".png")
    assert r.status_code == 404 and r.json["error"]["code"] == 404


# -- XTND --------------------------------------------------------------------------------------------
XK = {"Authorization": "Bearer xtnd-demo-key"}
XK_OTHER = {"Authorization": "Bearer xtnd-demo-key-2"}
XK_READONLY = {"Authorization": "Bearer xtnd-readonly-key"}
V1 = "/xtnd/api/v1"


@pytest.fixture
def xapp(shared_app):
    return shared_app(apis=["xtnd"])


def _new_order(number: str = "SHOP-C1") -> dict[str, Any]:
    return {"orderNumber": number, "customerNumber": "10001",
            "rows": [{"itemNumber": "100002", "quantity": 1, "price": 19.9}]}


def test_xtnd_every_get_operation_hits_or_is_never_kept(xapp):
    c = xapp.test_client()
    assert c.post(V1 + "/CustomerOrders", headers=XK, json=_new_order()).status_code == 201
    hook = c.post(V1 + "/Webhooks", headers=XK, json={"name": "cache", "callbackUrl": "http://127.0.0.1:9/hook",
                                                      "triggers": ["OrderCreated"]})
    assert hook.status_code == 201, hook.json
    urls = {"listCustomerOrders": "/CustomerOrders", "getCustomerOrder": "/CustomerOrders/SHOP-C1",
            "listProductAvailability": "/ProductAvailability", "listWarehouses": "/Warehouses",
            "listProducts": "/Products", "getProduct": "/Products/100002", "listCustomers": "/Customers",
            "getCustomer": "/Customers/10001", "listWebhooks": "/Webhooks", "getWebhook": f"/Webhooks/{hook.json['id']}",
            "listProductPrices": "/ProductPrices?customerNumber=10001"}
    assert set(urls) == XTND_CACHED | set(XTND_EXEMPT)
    for op, url in urls.items():
        first, second, hits = twice(c, xapp, V1 + url, headers=XK)
        assert first.status_code == 200, (op, first.json)
        assert hits == (1 if op in XTND_CACHED else 0), op
        if op in XTND_CACHED:
            assert first.data == second.data, op


def test_xtnd_writes_clock_control_and_scenarios_are_seen(xapp):
    c = xapp.test_client()
    assert c.post(V1 + "/CustomerOrders", headers=XK, json=_new_order()).status_code == 201
    url = V1 + "/CustomerOrders/SHOP-C1"
    first, _, hits = twice(c, xapp, url, headers=XK)
    assert hits == 1 and first.json["status"] == "created"
    # the scheduler moves it when the tenant's clock passes its time in the status
    assert c.post("/__sandbox/clock", json={"advance_seconds": 61}).status_code == 200
    assert c.get(url, headers=XK).json["status"] == "reserved"
    # the control plane (the ERP moves it by hand)
    assert c.post("/__sandbox/xtnd/orders/SHOP-C1/advance", json={"status": "picked"}).status_code == 200
    assert c.get(url, headers=XK).json["status"] == "picked"
    # a scenario whose rule moves every open order before a GET of one is answered
    assert c.post(V1 + "/CustomerOrders", headers=XK, json=_new_order("SHOP-C2")).status_code == 201
    url2 = V1 + "/CustomerOrders/SHOP-C2"
    _, _, hits = twice(c, xapp, url2, headers=XK)
    assert hits == 1
    assert c.post("/__sandbox/scenarios/xtnd-fast-warehouse").status_code in (200, 201)
    assert c.get(url2, headers=XK).json["status"] == "reserved"
    assert c.get(url2, headers=XK).json["status"] == "picked"
    # a control-plane change of stock and of masterdata
    avail = V1 + "/ProductAvailability?itemNumbers=100003&warehouses=01"
    twice(c, xapp, avail, headers=XK)
    r = c.put("/__sandbox/xtnd/availability", json={"itemNumber": "100003", "warehouse": "01", "availableBalance": 4242})
    assert r.status_code == 200, r.json
    assert c.get(avail, headers=XK).json["items"][0]["availableBalance"] == 4242
    twice(c, xapp, V1 + "/Products/100003", headers=XK)
    assert c.patch("/__sandbox/xtnd/products/100003", json={"description": "Changed by the ERP"}).status_code == 200
    assert c.get(V1 + "/Products/100003", headers=XK).json["description"] == "Changed by the ERP"


def test_xtnd_tenants_read_only_keys_and_bad_keys(xapp):
    c = xapp.test_client()
    assert c.post(V1 + "/CustomerOrders", headers=XK, json=_new_order()).status_code == 201
    mine, _, hits = twice(c, xapp, V1 + "/CustomerOrders", headers=XK)
    assert hits == 1
    hits = Hits(xapp)
    theirs = c.get(V1 + "/CustomerOrders", headers=XK_OTHER)
    assert theirs.status_code == 200 and theirs.json != mine.json and hits.delta() == 0
    # the read-only key is the same tenant: the same answer, from the cache
    assert c.get(V1 + "/CustomerOrders", headers=XK_READONLY).data == mine.data and hits.delta() == 1
    for bad in ({"Authorization": "Bearer wrong"}, {}):
        r = c.get(V1 + "/CustomerOrders", headers=bad)
        assert r.status_code == 401 and r.json["errorType"] == "Authentication"
    assert hits.delta() == 1


# -- API2Cart ----------------------------------------------------------------------------------------
@pytest.fixture
def a2c_app(shared_app):
    return shared_app(apis=["api2cart"])


def _keys():
    from tests.api2cart.conftest import API_KEY, MAGENTO, SECOND_KEY, SECOND_SHOPIFY, SHOPIFY, WOO
    return API_KEY, MAGENTO, SECOND_KEY, SECOND_SHOPIFY, SHOPIFY, WOO


def _a2c_url(method: str, **params: Any) -> str:
    from urllib.parse import urlencode
    return f"/api2cart/v1.1/{method}.json" + (f"?{urlencode(params)}" if params else "")


def _h(api_key: str, store_key: str | None = None) -> dict[str, str]:
    return {"x-api-key": api_key, **({"x-store-key": store_key} if store_key else {})}


def _ok(r: Any) -> Any:
    assert r.status_code == 200 and r.json["return_code"] == 0, r.get_data(as_text=True)
    return r.json["result"]


def test_api2cart_every_get_method_hits_or_is_never_kept(a2c_app):
    api_key, magento, *_ = _keys()
    c = a2c_app.test_client()
    h = _h(api_key, magento)
    variant = _ok(c.post(_a2c_url("product.variant.add"), headers=h,
                         json={"product_id": "1", "model": "V-C1", "price": 5, "attributes": [
                             {"attribute_name": "Size", "attribute_value": "XL"}]}))
    order = _ok(c.get(_a2c_url("order.list", count=1), headers=h))["order"][0]
    order_id = order["order_id"]
    customer = _ok(c.get(_a2c_url("customer.list", count=1), headers=h))["customer"][0]
    params: dict[str, dict[str, Any]] = {
        "product.info": {"id": "1"}, "product.find": {"find_value": "Bag"},
        "product.variant.info": {"id": variant["product_variant_id"]},
        "product.variant.count": {"product_id": "1"}, "product.variant.list": {"product_id": "1"},
        "category.info": {"id": "1"}, "category.find": {"find_value": "Bags"}, "customer.info": {"id": "1"},
        "customer.find": {"find_value": customer["email"]}, "order.info": {"order_id": order_id},
        "order.find": {"order_id": order_id}, "order.shipment.list": {"order_id": order["id"]},
        "return.info": {"id": "1"},
    }
    for method in sorted(A2C_CACHED | set(A2C_EXEMPT) - A2C_SPECIAL):
        url = _a2c_url(method, **params.get(method, {}))
        first, second, hits = twice(c, a2c_app, url, headers=h)
        _ok(first)
        assert hits == (1 if method in A2C_CACHED else 0), method
        assert first.data == second.data, method
    # the manual bridge flow: each cart.bridge issues another key; each download is counted
    first, second, hits = twice(c, a2c_app, _a2c_url("cart.bridge"), headers=_h(api_key))
    assert hits == 0 and _ok(first)["store_key"] != _ok(second)["store_key"]
    download = f"/api2cart/v1.1/bridge.download.file?store_key={_ok(second)['store_key']}"
    first, second, hits = twice(c, a2c_app, download, headers={"x-api-key": api_key})
    assert first.status_code == 200 and first.mimetype == "application/zip" and hits == 0, first.get_data()[:300]


def _cached_count(app: Any, method: str) -> tuple[Any, dict[str, str], Any]:
    """(client, the demo Magento store's headers, the answer of ``method``, now held by the cache)."""
    api_key, magento, *_ = _keys()
    c, h = app.test_client(), _h(api_key, magento)
    count, _, hits = twice(c, app, _a2c_url(method), headers=h)
    assert hits == 1
    return c, h, count


def test_api2cart_writes_and_config_changes_are_seen(a2c_app):
    api_key, *_ = _keys()
    c, h, count = _cached_count(a2c_app, "product.count")
    _ok(c.post(_a2c_url("product.add"), headers=h, json={"name": "Cached?", "model": "C-1", "price": 1,
                                                          "description": "d"}))
    assert _ok(c.get(_a2c_url("product.count"), headers=h))["products_count"] == _ok(count)["products_count"] + 1
    # account.config.update changes the store record: cart.info (never kept) and account.cart.list (kept) show it
    stores, _, hits = twice(c, a2c_app, _a2c_url("account.cart.list"), headers=_h(api_key))
    assert hits == 1
    _ok(c.get(_a2c_url("cart.info"), headers=h))
    _ok(c.put(_a2c_url("account.config.update", new_store_url="https://moved.example.com"), headers=h))
    assert _ok(c.get(_a2c_url("cart.info"), headers=h))["url"] == "https://moved.example.com"
    urls = [s["url"] for s in _ok(c.get(_a2c_url("account.cart.list"), headers=_h(api_key)))["carts"]]
    assert "https://moved.example.com" in urls
    assert urls != [s["url"] for s in _ok(stores)["carts"]]


def test_api2cart_control_plane_and_scheduled_webhook_changes_are_seen(a2c_app):
    from mocks.api2cart import models as M
    from mocks.core import webhooks

    api_key, magento, *_ = _keys()
    # records added through the control plane
    c, h, count = _cached_count(a2c_app, "category.count")
    r = c.post(f"/__sandbox/data/api2cart/categories?tenant={M.store_tenant_id(magento)}",
               json={"records": [{"id": "9001", "name": "Loaded"}]})
    assert r.status_code == 201, r.json
    assert _ok(c.get(_a2c_url("category.count"), headers=h))["categories_count"] == _ok(count)["categories_count"] + 1
    # a webhook delivery that the scheduler gives up on shows in account.failed_webhooks
    failed, _, hits = twice(c, a2c_app, _a2c_url("account.failed_webhooks"), headers=_h(api_key))
    assert hits == 1 and _ok(failed)["all_failed_webhook"] == "0"
    _ok(c.post(_a2c_url("webhook.create"), headers=h, json={"entity": "product", "action": "update",
                                                            "callback": "http://127.0.0.1:9/refused"}))
    _ok(c.put(_a2c_url("product.update"), headers=h, json={"id": "1", "price": 42.5}))
    # the scheduler sends it when it is due on the store's clock, and retries until it gives up
    seen = []
    while len(seen) < 3 * webhooks.MAX_ATTEMPTS and "1" not in seen:
        assert c.post("/__sandbox/clock", json={"advance_seconds": 120}).status_code == 200
        seen.append(_ok(c.get(_a2c_url("account.failed_webhooks"), headers=_h(api_key)))["all_failed_webhook"])
    assert seen[0] == "0" and seen[-1] == "1", seen
    assert a2c_app.extensions["sandbox"].store.values(webhooks.NS)[0]["status"] == "failed"


def test_api2cart_amazon_reads_go_through_reports_on_the_clock_and_are_never_kept(a2c_app):
    """An Amazon SP-API store's product.list reads its report (requested, ready and cached for 15
    minutes on the sandbox clock): every answer reads the clock, so none is kept, and a "not ready"
    answer (HTTP 200, return_code 107) is never served once the report is ready."""
    from tests.api2cart.conftest import A2C

    api_key, *_ = _keys()
    c = a2c_app.test_client()
    key = A2C(c).ok("account.cart.add", "POST", store_key=None, body={
        "cart_id": "AmazonSP", "amazon_sp_client_id": "id", "amazon_sp_client_secret": "s",
        "amazon_sp_refresh_token": "Atzr|reports", "amazon_sp_aws_region": "us-east-1",
        "amazon_seller_id": "CACHE1"})["store_key"]
    h = _h(api_key, key)
    _ok(c.post(_a2c_url("product.add"), headers=h, json={"sku": "AZ-1", "price": 1.5, "quantity": 1,
                                                          "asin": "B09PH8M15J"}))
    first, second, hits = twice(c, a2c_app, _a2c_url("product.list", count=3), headers=h)
    assert hits == 0 and _ok(first)["products_count"] == 1
    assert c.post("/__sandbox/clock", json={"advance_seconds": 16 * 60}).status_code == 200  # the report expires
    assert c.post("/__sandbox/scenarios", json={"name": "api2cart-amazon-report-not-ready"}).status_code == 201
    url = _a2c_url("product.list", count=3)
    waits = [c.get(url, headers=h).json["return_code"] for _ in range(2)]
    assert waits == [107, 107]
    assert c.post("/__sandbox/clock", json={"advance_seconds": 600}).status_code == 200
    assert _ok(c.get(url, headers=h))["products_count"] == 1


def test_api2cart_stores_accounts_and_bad_credentials(a2c_app):
    api_key, magento, second_key, second_shopify, shopify, woo = _keys()
    c = a2c_app.test_client()
    url = _a2c_url("customer.list", count=3)
    mine, _, hits = twice(c, a2c_app, url, headers=_h(api_key, magento))
    assert hits == 1
    hits = Hits(a2c_app)
    # the same path and query with other credentials in the headers: other tenants, other answers
    for other in (_h(api_key, shopify), _h(second_key, second_shopify)):
        assert _ok(c.get(url, headers=other)) != _ok(mine)
    assert _ok(c.get(_a2c_url("account.cart.list"), headers=_h(second_key))) != \
        _ok(c.get(_a2c_url("account.cart.list"), headers=_h(api_key)))
    assert hits.delta() == 0
    # credentials that fail are answered by authentication every time
    for bad in (_h(api_key, "0" * 32), _h("f" * 32, magento), {"x-store-key": magento}):
        r = c.get(url, headers=bad)
        assert r.status_code == 200 and r.json["return_code"] != 0 and r.json["result"] == {}
    # a store whose key was changed, then a deleted store: its old credentials stop working at once
    twice(c, a2c_app, url, headers=_h(api_key, woo))
    new_key = "ab" * 16
    _ok(c.put(_a2c_url("account.config.update", new_store_key=new_key), headers=_h(api_key, woo)))
    r = c.get(url, headers=_h(api_key, woo))
    assert r.json["return_code"] != 0
    assert _ok(c.get(url, headers=_h(api_key, new_key)))
    _ok(c.delete(_a2c_url("cart.delete"), headers=_h(api_key, new_key)))
    assert c.get(url, headers=_h(api_key, new_key)).json["return_code"] != 0
    assert hits.delta() == 1  # the woo store's own repeat (under its new key: another principal, another entry)


def test_api2cart_a_scenario_answers_before_the_cache(a2c_app):
    api_key, magento, *_ = _keys()
    c = a2c_app.test_client()
    url = _a2c_url("product.list", count=2)
    _, _, hits = twice(c, a2c_app, url, headers=_h(api_key, magento))
    assert hits == 1
    assert c.post("/__sandbox/scenarios/api2cart-store-unreachable").status_code in (200, 201)
    r = c.get(url, headers=_h(api_key, magento))
    assert r.json["return_code"] == 106 and r.json["result"] == {}, r.json


# -- PrintXpand --------------------------------------------------------------------------------------
def test_printxpand_has_no_cached_get(app):
    marked = [r.rule for r in app.url_map.iter_rules()
              if r.rule.startswith("/printxpand/") and getattr(app.view_functions[r.endpoint], "sandbox_cacheable", False)]
    assert marked == []
    assert all(_exempt(r.endpoint, app.view_functions[r.endpoint]) for r in app.url_map.iter_rules()
               if r.rule.startswith("/printxpand/") and "GET" in (r.methods or ()))


# -- two workers on one SQLite file ------------------------------------------------------------------
def test_writes_by_another_worker_are_seen_on_sqlite(tmp_path, app_factory):
    """Each worker has its own cache; a write by the other one (an XTND control-plane move, an API2Cart
    write) changes the versions the cached answer was kept with."""
    url = f"sqlite:///{tmp_path}/shared.db"
    reader_app = app_factory(apis=["xtnd", "api2cart"], state=url)
    writer_app = app_factory(apis=["xtnd", "api2cart"], state=url)
    reader, writer = reader_app.test_client(), writer_app.test_client()
    assert writer.post(V1 + "/CustomerOrders", headers=XK, json=_new_order("SQL-1")).status_code == 201
    first, _, hits = twice(reader, reader_app, V1 + "/CustomerOrders/SQL-1", headers=XK)
    assert hits == 1 and first.json["status"] == "created"
    assert writer.post("/__sandbox/xtnd/orders/SQL-1/advance", json={"status": "picked"}).status_code == 200
    assert reader.get(V1 + "/CustomerOrders/SQL-1", headers=XK).json["status"] == "picked"
    api_key, magento, *_ = _keys()
    h = _h(api_key, magento)
    count, _, hits = twice(reader, reader_app, _a2c_url("category.count"), headers=h)
    assert hits == 1
    _ok(writer.post(_a2c_url("category.add", name="From the other worker"), headers=h))
    assert _ok(reader.get(_a2c_url("category.count"), headers=h))["categories_count"] == \
        _ok(count)["categories_count"] + 1


# -- per-process structures read through the change log ----------------------------------------------
def test_an_answer_made_from_stock2shops_live_index_depends_on_the_collection(app_factory):
    """The search index follows the store's change log (not the tracked reads); it notes the collection
    and the lag's namespace as read, so an answer made from it is not kept past a write to them."""
    from flask import Blueprint

    from mocks.core.cache import cacheable
    from mocks.core.http import json_response, state
    from mocks.stock2shop.models.indexes import _indexed, _lock_for

    app = app_factory(apis=["stock2shop"], options={"stock2shop": {"products": 40, "orders": 20, "customers": 15}})
    bp = Blueprint("index_probe", __name__)

    @bp.get("/count")
    @cacheable
    def count():
        st = state()
        with _lock_for(st, "products"):
            return json_response({"n": len(_indexed(st, "products").index)})

    app.register_blueprint(bp, url_prefix="/stock2shop/probe")  # under the API's mount: the chain runs
    c = app.test_client()
    url = f"/stock2shop/probe/count?token={_login(c, 'admin')}"
    first, _, hits = twice(c, app, url)
    assert hits == 1
    st = app.extensions["sandbox"].state("stock2shop", "21")
    products = st.collection("products")
    products.put("999999", {**products.values()[0], "id": 999999, "source_product_code": "PROBE"})
    assert c.get(url).json["n"] == first.json["n"] + 1


def test_an_answer_made_from_a_key_index_depends_on_the_collection(app_factory):
    """Collection.key_index (a per-process map kept up to date by the change log) notes its collection
    as read: "no product has this SKU" is not kept past the write that adds one."""
    from flask import Blueprint

    from mocks.core.cache import cacheable
    from mocks.core.http import json_response, state
    from mocks.stock2shop.models.indexes import by_sku

    app = app_factory(apis=["stock2shop"], options={"stock2shop": {"products": 40, "orders": 20, "customers": 15}})
    bp = Blueprint("key_index_probe", __name__)

    @bp.get("/sku/<sku>")
    @cacheable
    def sku(sku: str):
        st = state()  # with another read, as a real route would make: the answer is kept
        return json_response({"keys": by_sku(st.collection("products")).get(sku),
                              "sources": st.collection("sources").count()})

    app.register_blueprint(bp, url_prefix="/stock2shop/probe")  # under the API's mount: the chain runs
    c = app.test_client()
    url = f"/stock2shop/probe/sku/PROBE-SKU?token={_login(c, 'admin')}"
    first, _, hits = twice(c, app, url)
    assert hits == 1 and first.json["keys"] == []
    products = app.extensions["sandbox"].state("stock2shop", "21").collection("products")
    products.put("999998", {**products.values()[0], "id": 999998, "variants": [{"sku": "PROBE-SKU"}]})
    assert c.get(url).json["keys"] == ["999998"]


def test_printxpand_an_order_sent_with_get_is_created_every_time(app):
    """GET order/create carries its orders in the body, which the cache key does not hold: two GETs
    with other bodies and the same URL both write (the route is exempt, so neither is a hit)."""
    from tests.printxpand.conftest import oauth1, prepare, send
    from tests.printxpand.test_bulk import data, ok, order

    client = app.test_client()
    creds = client.get("/__sandbox/credentials").json["printxpand"]["consumers"][0]
    hits = Hits(app)
    for oid, name in (("77001", "First"), ("77002", "Second")):
        r = send(client, prepare("GET", "/printxpand/rest/V1/order/create/", oauth1(creds),
                                 {"order": {oid: order(oid, name)}}))
        assert r.status_code == 200 and r.json == [{"response": [ok(oid, "Order Created successfully!!")]}], r.json
    assert {"77001", "77002"} <= set(data(client, "orders", creds["tenant"])) and hits.delta() == 0
