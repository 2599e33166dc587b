"""``/v1.1/{method}.json``: parse, call the model, wrap the result in the envelope (the request chain has
authenticated the call: ``auth.py``; and charged its rate limits: ``Api2Cart.rate_limits``).

One Flask rule catches every method so that an unknown one gets the vendor's answer
(return_code 3) rather than a 404 page. Parameters come from the query string, merged with the
JSON body for the methods the vendor documents with a body; the gateway has validated both
against ``schemas/api2cart/openapi.yaml`` before the handler runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Response, request

from mocks.api2cart import errors as X
from mocks.api2cart import models as M
from mocks.api2cart import shipping as SH
from mocks.api2cart import webhooks as W
from mocks.api2cart.auth import Principal, method_name
from mocks.core.cache import cacheable
from mocks.core.http import body, context, json_response, mount_prefix, principal, sandbox as current_sandbox
from mocks.core.state import TenantState

#: query parameters the official document types as arrays (``?order_status_ids=a&order_status_ids=b``)
ARRAY_PARAMS = {"order_status_ids", "financial_status_ids", "product_attributes", "hybris_websites"}


@dataclass
class Ctx:
    p: M.Params
    sandbox: Any
    account: dict[str, Any]
    account_state: TenantState
    store: dict[str, Any] | None
    state: TenantState | None
    method: str

    @property
    def data(self) -> M.StoreData:
        assert self.state is not None
        if not hasattr(self, "_data"):
            self._data = M.StoreData(self.state, (self.store or {}).get("cart_id", ""))
        return self._data


Handler = Callable[[Ctx], Any]
#: method -> (HTTP method, scope, handler); scope "account" needs the API key only
METHODS: dict[str, tuple[str, str, Handler]] = {}


def method(name: str, http: str = "GET", scope: str = "store") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name] = (http, scope, fn)
        return fn
    return register


# -- accounts and stores ----------------------------------------------------------------------
@method("account.cart.add", "POST", "account")
@method("cart.create", "POST", "account")  # deprecated twin (FAQ: "Call cart_create method")
def _account_cart_add(c: Ctx) -> Any:
    from mocks.core.api import Tenant
    cart_ids = supported_cart_ids()
    url = c.p.str("store_url")
    if url and _held_by_another_account(c, url):
        # FAQ: "API2Cart already has a store with the same URL. If you don't see it in your profile,
        # please contact us."
        raise X.A2CError(8, f"API2Cart already has a store with the same URL '{url}'. If you don't see it in "
                            "your profile, please contact us.")
    store = M.Account(c.account_state).add(c.p, c.account["api_key"], cart_ids)
    c.sandbox.register_tenant("api2cart", Tenant(store["tenant"], {
        "kind": "store", "api_key": c.account["api_key"], "store_key": store["store_key"],
        "cart_id": store["cart_id"], "store_url": store["url"]}, seeded=False))
    return {"store_key": store["store_key"]}


def _held_by_another_account(c: Ctx, url: str) -> bool:
    """A connected store of another API key has this URL (its store still in that account)."""
    wanted = M.norm_url(url)
    for tenant in c.sandbox.tenants("api2cart").values():
        cred = tenant.credentials
        if cred.get("kind") != "store" or cred.get("api_key") == c.account["api_key"]:
            continue
        if not cred.get("store_url") or M.norm_url(cred["store_url"]) != wanted:
            continue
        owner = M.Account(c.sandbox.state("api2cart", M.account_tenant_id(cred["api_key"])))
        if owner.by_key(cred["store_key"]) is not None:
            return True
    return False


@method("cart.bridge", "GET", "account")
def _cart_bridge(c: Ctx) -> Any:
    """A store key for the manual bridge flow; ``bridge``: where its bridge.zip is downloaded."""
    issued = M.Account(c.account_state).issue_bridge(c.account["api_key"])
    link = f"{request.host_url.rstrip('/')}{mount_prefix()}/v1.1/bridge.download.file?store_key={issued['store_key']}"
    return {"store_key": issued["store_key"], "bridge": link}


@method("bridge.download", "GET", "bridge")
def _bridge_download(c: Ctx) -> Any:
    """``bridge.zip`` for the key authentication found (a cart.bridge key or a bridge store's)."""
    who: Principal = principal()
    assert who.bridge_key is not None
    if c.store is not None and c.store["cart_id"] not in M.BRIDGE_CARTS:
        raise X.not_supported("bridge.download", c.store["cart_id"])
    M.Bridges(c.account_state).downloaded(who.bridge_key)
    data = M.bridge_zip(who.bridge_key, whitelabel=c.p.bool("whitelabel", False))
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="bridge.zip"'})


@method("account.cart.list", "GET", "account")
def _account_cart_list(c: Ctx) -> Any:
    return M.Account(c.account_state).listing(c.p)


@method("account.config.update", "PUT", "account+store")
def _account_config_update(c: Ctx) -> Any:
    assert c.store is not None
    return M.Account(c.account_state).update_config(c.store, c.p)


@method("account.failed_webhooks", "GET", "account")
def _failed_webhooks(c: Ctx) -> Any:
    return W.failed(c.sandbox, M.Account(c.account_state).all(), c.p)


@method("account.supported_platforms", "GET", "account")
def _supported_platforms(c: Ctx) -> Any:
    return M.supported_platforms(cart_add_descriptions())


@method("cart.list", "GET", "account")
def _cart_list(c: Ctx) -> Any:
    carts = M.supported_carts(supported_cart_ids())
    return {"supported_carts_count": len(carts), "supported_carts": carts}


@method("cart.info")
def _cart_info(c: Ctx) -> Any:
    assert c.store is not None
    return M.cart_info(c.store, c.p)


@method("cart.delete", "DELETE")
def _cart_delete(c: Ctx) -> Any:
    assert c.store is not None
    M.Account(c.account_state).delete(c.store)
    c.sandbox.store.clear(f"api2cart/{c.store['tenant']}/")
    return {"store": "deleted"}


# -- catalogue, customers, orders, returns ----------------------------------------------------
for _name, _http, _fn in [
    ("product.list", "GET", lambda c: c.data.product_list(c.p)),
    ("product.info", "GET", lambda c: c.data.product_info(c.p)),
    ("product.count", "GET", lambda c: c.data.product_count(c.p)),
    ("product.find", "GET", lambda c: c.data.product_find(c.p)),
    ("product.add", "POST", lambda c: c.data.product_add(c.p)),
    ("product.update", "PUT", lambda c: c.data.product_update(c.p)),
    ("product.delete", "DELETE", lambda c: c.data.product_delete(c.p)),
    ("product.variant.add", "POST", lambda c: M.Variants(c.data).add(c.p)),
    ("product.variant.list", "GET", lambda c: M.Variants(c.data).listing(c.p)),
    ("product.variant.info", "GET", lambda c: M.Variants(c.data).info(c.p)),
    ("product.variant.count", "GET", lambda c: M.Variants(c.data).count(c.p)),
    ("product.variant.update", "PUT", lambda c: M.Variants(c.data).update(c.p)),
    ("product.variant.delete", "DELETE", lambda c: M.Variants(c.data).delete(c.p)),
    ("category.list", "GET", lambda c: c.data.category_list(c.p)),
    ("category.info", "GET", lambda c: c.data.category_info(c.p)),
    ("category.count", "GET", lambda c: c.data.category_count(c.p)),
    ("category.find", "GET", lambda c: c.data.category_find(c.p)),
    ("category.add", "POST", lambda c: c.data.category_add(c.p)),
    ("category.update", "PUT", lambda c: c.data.category_update(c.p)),
    ("category.delete", "DELETE", lambda c: c.data.category_delete(c.p)),
    ("customer.list", "GET", lambda c: c.data.customer_list(c.p)),
    ("customer.info", "GET", lambda c: c.data.customer_info(c.p)),
    ("customer.count", "GET", lambda c: c.data.customer_count(c.p)),
    ("customer.find", "GET", lambda c: c.data.customer_find(c.p)),
    ("customer.add", "POST", lambda c: c.data.customer_add(c.p)),
    ("customer.update", "PUT", lambda c: c.data.customer_update(c.p)),
    ("customer.delete", "DELETE", lambda c: c.data.customer_delete(c.p)),
    ("category.assign", "POST", lambda c: c.data.category_assign(c.p)),
    ("product.manufacturer.add", "POST", lambda c: c.data.manufacturer_add(c.p)),
    ("product.tax.add", "POST", lambda c: c.data.tax_add(c.p)),
    ("product.image.add", "POST", lambda c: c.data.image_add(c.p)),
    ("product.image.update", "PUT", lambda c: c.data.image_update(c.p)),
    ("product.option.add", "POST", lambda c: c.data.option_add(c.p)),
    ("product.option.assign", "POST", lambda c: c.data.option_assign(c.p)),
    ("product.option.value.add", "POST", lambda c: c.data.option_value_add(c.p)),
    ("product.option.value.assign", "POST", lambda c: c.data.option_value_assign(c.p)),
    ("product.option.value.update", "PUT", lambda c: c.data.option_value_update(c.p)),
    ("order.list", "GET", lambda c: c.data.order_list(c.p)),
    ("order.info", "GET", lambda c: c.data.order_info(c.p)),
    ("order.count", "GET", lambda c: c.data.order_count(c.p)),
    ("order.find", "GET", lambda c: c.data.order_find(c.p)),
    ("order.shipment.list", "GET", lambda c: c.data.shipment_list(c.p)),
    ("order.shipment.add", "POST", lambda c: c.data.shipment_add(c.p)),
    ("order.add", "POST", lambda c: c.data.order_add(c.p)),
    ("order.update", "PUT", lambda c: c.data.order_update(c.p)),
    ("order.status.list", "GET", lambda c: {"cart_order_statuses": [{"id": k, "name": v} for k, v in M.ORDER_STATUSES.items()]}),
    ("order.return.add", "POST", lambda c: c.data.return_add(c.p)),
    ("order.return.update", "PUT", lambda c: c.data.return_update(c.p)),
    ("order.return.delete", "DELETE", lambda c: c.data.return_delete(c.p)),
    ("return.list", "GET", lambda c: c.data.return_list(c.p)),
    ("return.info", "GET", lambda c: c.data.return_info(c.p)),
    ("return.count", "GET", lambda c: c.data.return_count(c.p)),
    ("return.reason.list", "GET", lambda c: c.data.return_reasons()),
    ("return.status.list", "GET", lambda c: c.data.return_status_list()),
    ("return.action.list", "GET", lambda c: c.data.return_action_list()),
    ("webhook.list", "GET", lambda c: c.data.webhook_list(c.p)),
    ("webhook.count", "GET", lambda c: c.data.webhook_count(c.p)),
    ("webhook.update", "PUT", lambda c: c.data.webhook_update(c.p)),
    ("webhook.delete", "DELETE", lambda c: c.data.webhook_delete(c.p)),
    ("webhook.events", "GET", lambda c: M.webhook_events()),
]:
    method(_name, _http)(_fn)


@method("webhook.create", "POST")
def _webhook_create(c: Ctx) -> Any:
    assert c.store is not None
    M.require_connection(c.store, "webhooks", c.method)
    return c.data.webhook_create(c.p)


@method("basket.live_shipping_service.create", "POST")
def _shipping_create(c: Ctx) -> Any:
    assert c.store is not None
    M.require_connection(c.store, "live shipping", c.method)
    return SH.create(c.sandbox, c.data, c.store, c.account["api_key"], c.p)


@method("basket.live_shipping_service.list")
def _shipping_list(c: Ctx) -> Any:
    assert c.store is not None
    return SH.listing(c.data, c.store, c.p)


@method("basket.live_shipping_service.delete", "DELETE")
def _shipping_delete(c: Ctx) -> Any:
    assert c.store is not None
    return SH.delete(c.data, c.store, c.p)


def supported_cart_ids() -> list[str]:
    return M.all_cart_ids()


_DESCRIPTIONS: dict[str, str] = {}


def cart_add_descriptions() -> dict[str, str]:
    """Parameter name -> description, from the official document's AccountCartAdd (loaded once)."""
    if not _DESCRIPTIONS:
        from mocks import resources
        props = resources.schema_json("api2cart", "api2cart.schema.json")["$defs"]["AccountCartAdd"]["properties"]
        _DESCRIPTIONS.update({k: v.get("description", "") for k, v in props.items()})
    return _DESCRIPTIONS


def report_delay(sb: Any) -> float:
    """Seconds until a report this request asks for is ready: what a scenario's
    ``api_action: {name: amazon_report_delay}`` set for this request, else the api option
    ``amazon_report_delay_seconds`` (default 0: ready at once)."""
    fired = (context().fault_hooks or {}).get("api_action")
    if isinstance(fired, dict) and "amazon_report_delay_seconds" in fired:
        return float(fired["amazon_report_delay_seconds"])
    return float(sb.config.api_options("api2cart").get("amazon_report_delay_seconds", 0) or 0)


def scope_of(name: str) -> str | None:
    """The scope of an API method ("store", "account", "account+store"), None for an unknown one."""
    entry = METHODS.get(name)
    return entry[1] if entry is not None else None


# -- the one route ----------------------------------------------------------------------------
def build() -> Blueprint:
    bp = Blueprint("api2cart", __name__)

    @bp.route("/v1.1/<path:method_path>", methods=["GET", "POST", "PUT", "DELETE"])
    @cacheable  # GET methods (tests/core/test_route_caching.py lists the ones whose answers are never kept)
    def call(method_path: str):
        name = method_name("/v1.1/" + method_path)
        entry = METHODS.get(name)
        if entry is None:
            raise X.unknown_method(name or method_path)
        http, scope, handler = entry
        if request.method != http:
            raise X.A2CError(109, f"Incorrect parameters. Method '{name}' must be called with HTTP {http}.")
        params: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("api_key",)}
        for name in ARRAY_PARAMS & set(request.args):  # form/explode arrays of the document: every value
            values = [v for raw in request.args.getlist(name) for v in raw.split(",") if v]
            params[name] = values
        if scope != "account":
            params.pop("store_key", None)
        raw = body(None) if request.method in ("POST", "PUT", "DELETE") else None
        if isinstance(raw, dict):
            params.update(raw)
        p = M.Params(params)
        tree = M.parse_response_fields(p.str("response_fields") or "") if "response_fields" in p else None
        sb = current_sandbox()
        who: Principal = principal()
        store = who.store
        ctx = Ctx(p=p, sandbox=sb, account=who.account, account_state=sb.state("api2cart", who.account_tid),
                  store=store, state=sb.state("api2cart", store["tenant"]) if store else None, method=name)
        if scope == "bridge":  # a file, not the envelope (errors are still the envelope, raised)
            return handler(ctx)
        if M.uses_reports(store, name):  # Amazon SP-API: the read goes through a report (models/reports.py)
            assert ctx.state is not None and store is not None
            pending = M.Reports(ctx.state, store).check(name, p, report_delay(sb))
            if pending is not None:
                # the report was requested (a write that stands) and is not ready: the vendor's
                # answer, rendered by the one error renderer but not raised (raising rolls back)
                envelope_, status, headers = X.error_body(pending)
                return json_response(envelope_, status, headers)
        out = handler(ctx)
        result, pagination = out if isinstance(out, tuple) else (out, None)
        envelope: dict[str, Any] = {"return_code": 0, "return_message": "", "result": result}
        if pagination is not None:
            envelope["pagination"] = pagination
        if ctx.state is not None and hasattr(ctx, "_data") and ctx.data.events:
            W.deliver(sb, ctx.account, store, ctx.data)
        if tree is not None:  # the envelope's code and message always stay (our fidelity choice)
            envelope = {"return_code": 0, "return_message": "",
                        "result": M.apply_response_fields(result, tree.get("result", True)),
                        **({"pagination": pagination} if pagination is not None and "pagination" in tree else {})}
        return json_response(envelope)

    return bp
