"""Stock2Shop: the v1 monolith (users, sources, channels, Elasticsearch product/order search,
product and image queues) and the v2-queue order endpoint, mounted at ``/stock2shop``.

Every request but ``POST /v1/users/authenticate`` and ``GET /v1/users/valid_token/{token}`` carries
``token=`` in the query string. A token belongs to one user of one client; the tenant is the
client (``str(client_id)``). Queued work is applied when the sandbox clock moves (``on_clock``)
and lazily on reads, once ``queue_delay_seconds`` have passed.
"""
from __future__ import annotations

from typing import Any

from mocks.core.api import Api, Tenant
from mocks.stock2shop import errors, models, ratelimit, routes, seed


class Stock2Shop(Api):
    name = "stock2shop"
    title = "Stock2Shop API"
    secret_fields = frozenset({"token", "password"})

    def blueprint(self):
        return routes.build()

    def error_body(self, error):
        return errors.error_body(error)

    def tenants(self, sandbox) -> list[Tenant]:
        return [Tenant(cid, {"client_id": int(cid), "users": [u["username"] for u in seed.users_of(cid)]})
                for cid in seed.CLIENTS]

    def find_token(self, sandbox, token: str) -> tuple[dict[str, Any] | None, str]:
        """(user, tenant) for a live token; raises InvalidToken otherwise."""
        reason = "invalid"
        for tenant in seed.CLIENTS:
            user, why = models.Users(sandbox.state(self.name, tenant)).by_token(token)
            if user is not None:
                return user, tenant
            if why == "expired":
                reason = why
        raise errors.InvalidToken(reason)

    def authenticate(self, request, sandbox) -> str:
        from flask import g
        token = request.args.get("token", "")
        if not token:
            raise errors.MissingToken()
        user, tenant = self.find_token(sandbox, token)
        g.s2s_user = user
        g.s2s_rate = ratelimit.check_authenticated(sandbox.state(self.name, tenant))
        return tenant

    def after_request(self, request, response) -> None:
        from flask import g
        limit = g.get("s2s_rate")
        if limit and ratelimit.HEADER not in response.headers:
            response.headers[ratelimit.HEADER] = limit

    def control_blueprint(self):
        """Sandbox-only operations: /__sandbox/stock2shop/rate_limit."""
        from mocks.stock2shop import control
        return control.build()

    def seed(self, state, ctx) -> None:
        seed.seed(state, ctx)

    def on_clock(self, sandbox) -> None:
        for tenant in sandbox.tenants(self.name):
            models.Queue(sandbox.state(self.name, tenant)).process_due()

    # -- scenario engine hooks (mocks.core.scenarios.engine) ---------------------
    def expire_credentials(self, sandbox, tenant, request) -> Any:
        token = request.args.get("token", "")
        if not token or tenant is None:
            return None
        return {"expired": models.Users(sandbox.state(self.name, tenant)).expire(token)}

    def index_lag(self, sandbox, tenant, seconds: float) -> Any:
        tenants = [tenant] if tenant is not None else list(sandbox.tenants(self.name))
        for t in tenants:
            models.IndexLag(sandbox.state(self.name, t)).set(seconds)
        return {"index_lag_seconds": seconds}

    def item_failures(self, sandbox, tenant, spec) -> Any:
        return {"every": spec.get("every", 1)} if isinstance(spec, dict) else None

    def credentials(self, sandbox) -> dict[str, Any]:
        # DESIGN.md's credentials shape names the no-role user's role "admin"; the API itself
        # answers an empty role for it, as Stock2Shop does.
        users = [{"username": u["username"], "password": u["password"], "role": u["role"] or "admin",
                  "client_id": u["client_id"], "tenant": str(u["client_id"])}
                 for cid in seed.CLIENTS for u in seed.users_of(cid)]
        return {"users": users, "authenticate": "POST /stock2shop/v1/users/authenticate?format=json",
                "token_param": "token"}


API = Stock2Shop()
