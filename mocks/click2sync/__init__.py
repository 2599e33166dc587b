"""Click2Sync custom-storefront contract: the four hooks Click2Sync calls on a custom store."""
from __future__ import annotations

import hashlib
from typing import Any

from mocks.click2sync import errors, routes, seed
from mocks.core.api import Api, Tenant

DEMO_KEYS = ("c2s-demo-key", "c2s-demo-key-2")
HEADER = "C2SKey"


def tenant_id(key: str) -> str:
    """A stable tenant id that does not reveal the key (ids show up in the journal and data views)."""
    return "c2s-" + hashlib.sha256(key.encode()).hexdigest()[:10]


class Click2Sync(Api):
    name = "click2sync"
    title = "Click2Sync custom storefront"
    secret_fields = frozenset({"c2skey"})

    static_tenants = True  # the keys come from --option click2sync.keys (or the demo keys)

    def blueprint(self):
        return routes.build()

    def error_body(self, error):
        return errors.error_body(error)

    def tenants(self, sandbox) -> list[Tenant]:
        keys = sandbox.config.api_options(self.name).get("keys", DEMO_KEYS)
        return [Tenant(tenant_id(key), {"key": key, "header": HEADER}) for key in keys]

    def authenticate(self, request, sandbox) -> str:
        tenant = self.tenant_holding(sandbox, request.headers.get(HEADER, ""))
        if tenant is None:
            raise errors.InvalidKey()
        return tenant

    def seed(self, state, ctx) -> None:
        seed.seed(state, ctx)

    def credentials(self, sandbox) -> dict[str, Any]:
        tenants = list(sandbox.tenants(self.name).values())
        return {"key": tenants[0].credentials["key"], "header": HEADER, "tenant": tenants[0].id,
                "keys": [{"key": t.credentials["key"], "tenant": t.id} for t in tenants]}

    def after_request(self, request, response) -> None:
        # The document asks a store to send its key back on every response it gives Click2Sync.
        if request.headers.get(HEADER) and response.status_code != 401:
            response.headers[HEADER] = request.headers[HEADER]


API = Click2Sync()
