"""API2Cart: one API for many shopping platforms, ``/v1.1/{method}.json`` with an envelope.

Tenants: every store is a tenant (reached with ``api_key`` + ``store_key``); every account is a
tenant too (``account.*`` and ``cart.list`` need the API key only) and holds its store registry.
Stores added with ``account.cart.add`` are registered with ``Sandbox.register_tenant`` and start
empty.
"""
from __future__ import annotations

from typing import Any

from mocks.api2cart import auth, errors, models, routes, seed
from mocks.core.api import Api, Tenant
from mocks.core.chain.ratelimit import Limit, Rate

SECRET_FIELDS = frozenset({"api_key", "store_key", "x-api-key", "x-store-key", "new_store_key", "ftp_password",
                           "shopify_access_token", "shopify_api_password", "wc_consumer_secret", "bol_api_secret",
                           "magento_access_token", "magento_consumer_secret", "shopify_shared_secret",
                           # credentials the journal's name rule (password|secret|token|api_key...) misses
                           "shopee_partner_key", "zid_authorization", "3dcart_private_key", "prestashop_webservice_key",
                           "neto_api_key", "wc_consumer_key", "magento_consumer_key", "bricklink_consumer_key",
                           "aspdotnetstorefront_api_pass", "shopware_access_key",
                           # cart.bridge's download link carries the store key it issued
                           "bridge"})


def _builtin() -> dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """tenant id -> ("account", account, None) | ("store", account, store record)."""
    out: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = {}
    for account in seed.ACCOUNTS:
        out[models.account_tenant_id(account["api_key"])] = ("account", account, None)
        for store in seed.account_stores(account):
            out[store["tenant"]] = ("store", account, store)
    return out


BUILTIN = _builtin()


find_account = auth.find_account


class Api2Cart(Api):
    name = "api2cart"
    title = "API2Cart unified shopping-cart API"
    secret_fields = SECRET_FIELDS

    def blueprint(self):
        return routes.build()

    def control_blueprint(self):
        """Sandbox-only operations (Plugin Builder "Connect", checkout rate requests): /__sandbox/api2cart."""
        from mocks.api2cart import control
        return control.build()

    def error_body(self, error):
        return errors.error_body(error)

    def fault_error(self, action: dict[str, Any]):
        return errors.fault_error(action)

    def scenario_action(self, sandbox, tenant, spec: dict[str, Any]) -> Any:
        """``api_action: {name: amazon_report_delay, seconds: N}``: a report an Amazon SP-API read of
        this request asks for is ready N seconds of the store's clock later (over the 15 s the
        service waits: "Report is not ready yet"; models/reports.py). The route reads what this
        returns; the journal shows it."""
        if spec.get("name") != "amazon_report_delay":
            return {"ignored": f"API2Cart has no api_action {spec.get('name')!r}; it knows amazon_report_delay"}
        seconds = spec.get("seconds", 120)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 86400:
            return {"ignored": f"seconds must be a number from 0 to 86400, not {seconds!r}"}
        return {"amazon_report_delay_seconds": float(seconds)}

    def tenants(self, sandbox) -> list[Tenant]:
        out = []
        for tid, (kind, account, store) in BUILTIN.items():
            creds: dict[str, Any] = {"kind": kind, "api_key": account["api_key"]}
            if store is not None:
                creds.update(store_key=store["store_key"], cart_id=store["cart_id"], store_url=store["url"])
            out.append(Tenant(tid, creds))
        return out

    def authenticate(self, request, sandbox):
        return auth.authenticate(request, sandbox, routes.scope_of)

    def rate_limits(self, sandbox, ctx, request) -> list[Limit]:
        """Optional request limits per sandbox-clock minute (api options ``account_request_limit`` and
        ``store_request_limit``); over the limit -> return_code 10 (account) or 7 (store)."""
        who = ctx.principal
        if not isinstance(who, auth.Principal):
            return []
        options = sandbox.config.api_options(self.name)
        out = []
        store_tenant = who.store["tenant"] if who.store else None
        for tenant, limit, code in ((who.account_tid, options.get("account_request_limit"), 10),
                                    (store_tenant, options.get("store_request_limit"), 7)):
            if tenant is not None and limit:
                per_minute = Rate(float(limit), 60.0, fixed_window=True)
                out.append(Limit(sandbox.state(self.name, tenant), "requests", per_minute,
                                 error=lambda decision, code=code: errors.A2CError(code)))
        return out

    def seed(self, state, ctx) -> None:
        known = BUILTIN.get(state.tenant)
        if known is None:
            return  # a store added at run time starts empty
        kind, account, store = known
        if kind == "account":
            seed.seed_account(state, account, ctx)
        elif store is not None and store.get("connected", True):
            seed.seed_store(state, ctx, store["cart_id"])

    def credentials(self, sandbox) -> dict[str, Any]:
        accounts = []
        for account in seed.ACCOUNTS:
            registry = models.Account(sandbox.state(self.name, models.account_tenant_id(account["api_key"])))
            stores = [{"store_key": s["store_key"], "cart_id": s["cart_id"], "store_url": s["url"],
                       "custom_label": s.get("custom_label", ""), "tenant": s["tenant"],
                       **({} if s.get("connected", True) else {"connected": False})}
                      for s in registry.all()]
            entry = {"label": account["label"], "api_key": account["api_key"],
                     "tenant": models.account_tenant_id(account["api_key"]), "stores": stores}
            if account.get("disabled"):
                entry["note"] = "API key disabled: every call answers return_code 6"
            if account.get("api_access") is False:
                entry["note"] = "no API access on this plan: every call answers return_code 5"
            accounts.append(entry)
        first = accounts[0]
        return {"api_key": first["api_key"], "stores": first["stores"], "auth": {
            "query": ["api_key", "store_key"], "headers": ["x-api-key", "x-store-key"]},
            "base_path": "/api2cart/v1.1/{method}.json", "accounts": accounts}


API = Api2Cart()
