"""Stock2Shop: the v1 monolith (users, sources, channels, Elasticsearch product/order search,
product and image queues) and the v2-queue order endpoint, mounted at ``/stock2shop``.

Every request but ``POST /v1/users/authenticate`` and ``GET /v1/users/valid_token/{token}`` carries
``token=`` in the query string. A token belongs to one user of one client; the tenant is the
client (``str(client_id)``). Queued work is applied by the scheduler once ``queue_delay_seconds``
have passed on the client's sandbox clock, with no client request (``run_due``); the search index
catches up with lagging writes the same way.
"""
from __future__ import annotations

from typing import Any

from mocks.core.api import Api, Identity, Tenant
from mocks.core.chain.ratelimit import Limit, Rate
from mocks.stock2shop import auth, control, errors, models, routes, seed


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

    def authenticate(self, request, sandbox) -> Identity:
        return auth.authenticate(request, sandbox)

    def rate_limits(self, sandbox, ctx, request) -> list[Limit]:
        """3 requests/s per client with a token; 1 request/s per caller address for authenticate and
        valid_token on behalf of a known client; only while limiting is on for that client
        (``control.rate_settings``)."""
        if ctx.tenant is not None:
            tenant, key, name, default = ctx.tenant, "client", "per_second", control.AUTHENTICATED_PER_SECOND
        else:
            tenant = auth.anonymous_client(sandbox, request)
            if tenant is None:
                return []
            key, name, default = f"anonymous:{request.remote_addr or '-'}", "unauthenticated_per_second", \
                control.UNAUTHENTICATED_PER_SECOND
        state = sandbox.state(self.name, tenant)
        conf = control.rate_settings(state)
        if conf is None:
            return []
        per_second = float(conf.get(name, default))
        shown = f"{per_second:g}"
        return [Limit(state, key, Rate(per_second),
                      error=lambda decision: errors.RateLimited(shown, decision.retry_after_s()),
                      header=(control.RATE_HEADER, shown))]

    def warm(self, sandbox) -> None:
        """The search indexes of large collections, built before any client searches."""
        for tenant in self.tenants(sandbox):
            models.warm_indexes(sandbox.state(self.name, tenant.id))

    def control_blueprint(self):
        """Sandbox-only operations: /__sandbox/stock2shop/rate_limit."""
        return control.build()

    def seed(self, state, ctx) -> None:
        seed.seed(state, ctx)

    def run_due(self, sandbox, tenant, ref, now):
        """The scheduler's call: apply the client's queue items that fell due (``"queue"``), or let
        the search index catch up with lagging writes (``"index"``). Returns when it is due next."""
        state = sandbox.state(self.name, tenant)
        if ref == models.QUEUE_JOB:
            queue = models.Queue(state)
            queue.process_due()
            return queue.next_due()
        if ref == models.INDEX_JOB:
            return models.IndexLag(state).catch_up()
        return None

    def prepare_due(self, sandbox, tenant, ref) -> None:
        """Before the queue job is claimed: the products' key index by source code, built once per
        process (a second or so at 100,000 products) or caught up, so that a client's search,
        which waits for a claimed queue job, never waits for that build."""
        if ref == models.QUEUE_JOB:
            models.Queue(sandbox.state(self.name, tenant)).prepare()

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
