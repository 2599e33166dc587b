"""XTND Extend Commerce REST API (``/xtnd/api/v1/...``): orders, balances, products, customers,
best prices and signed webhooks, as a webshop integration sees them."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from mocks.core.api import Api, Tenant
from mocks.xtnd import control, errors, routes, seed, webhooks
from mocks.xtnd.models import Orders
from mocks.xtnd.models.orders import ORDER_JOB

DEMO_KEYS = ("xtnd-demo-key", "xtnd-demo-key-2")
#: a key that reaches the first tenant but may only read (answers 403 on writes)
READONLY_KEY = "xtnd-readonly-key"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def tenant_id(key: str) -> str:
    """A stable tenant id that does not reveal the key."""
    return "xtnd-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def bearer(header: str) -> str:
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class Xtnd(Api):
    name = "xtnd"
    title = "XTND Extend Commerce"
    case_insensitive_paths = True
    secret_fields = frozenset({"authorization", "secret"})

    def blueprint(self):
        return routes.build()

    def error_body(self, error):
        return errors.error_body(error)

    def control_blueprint(self):
        """Sandbox-only operations (move orders, set balances, edit masterdata): /__sandbox/xtnd."""
        return control.build()

    def tenants(self, sandbox) -> list[Tenant]:
        options = sandbox.config.api_options(self.name)
        keys = options.get("keys", DEMO_KEYS)
        readonly = options.get("readonly_key", READONLY_KEY)
        out = []
        for i, key in enumerate(keys):
            creds: dict[str, Any] = {"api_key": key}
            if i == 0 and readonly:
                creds["readonly_key"] = readonly
            out.append(Tenant(tenant_id(key), creds))
        return out

    def authenticate(self, request, sandbox) -> str:
        given = bearer(request.headers.get("Authorization", "")).encode()
        if not given:
            raise errors.InvalidApiKey()
        for tenant in sandbox.tenants(self.name).values():
            if hmac.compare_digest(given, str(tenant.credentials.get("api_key", "")).encode()):
                return tenant.id
            readonly = str(tenant.credentials.get("readonly_key") or "")
            if readonly and hmac.compare_digest(given, readonly.encode()):
                if request.method.upper() not in READ_METHODS:
                    raise errors.ReadOnlyKey()
                return tenant.id
        raise errors.InvalidApiKey()

    def seed(self, state, ctx) -> None:
        seed.seed(state, ctx)

    def credentials(self, sandbox) -> dict[str, Any]:
        tenants = list(sandbox.tenants(self.name).values())
        first = tenants[0]
        return {"api_key": first.credentials["api_key"], "header": "Authorization", "scheme": "Bearer",
                "tenant": first.id, "readonly_key": first.credentials.get("readonly_key"),
                "keys": [{"api_key": t.credentials["api_key"], "tenant": t.id} for t in tenants]}

    def run_due(self, sandbox, tenant, ref, now):
        """The scheduler's call when an order's time in its status is up: it moves on (and its
        webhooks are queued) with no client request. Returns when it is due next."""
        if not ref.startswith(ORDER_JOB):
            return None
        orders = Orders(sandbox.state(self.name, tenant), webhooks.emitter(sandbox, tenant))
        return orders.tick_one(ref[len(ORDER_JOB):])[1]

    def scenario_action(self, sandbox, tenant, spec):
        """``api_action: {name: advance_orders, status?: picked, includeSeeded?: false}``: the ERP
        and warehouse move every open order of the tenant one step on (or on to ``status``)
        before the request is answered; the journal shows the moved order numbers."""
        if spec.get("name") != "advance_orders":
            return {"ignored": f"XTND has no api_action {spec.get('name')!r}; it knows advance_orders"}
        if tenant is None:
            return {"ignored": "advance_orders needs an authenticated tenant"}
        target = spec.get("status")
        if target not in (None, "reserved", "picked", "delivered", "cancelled"):
            return {"ignored": f"status {target!r} is not one of reserved, picked, delivered, cancelled"}
        state = sandbox.state(self.name, tenant)
        orders = Orders(state, webhooks.emitter(sandbox, tenant))
        orders.tick()
        return {"moved": orders.advance_open(target, bool(spec.get("includeSeeded")))}


API = Xtnd()
