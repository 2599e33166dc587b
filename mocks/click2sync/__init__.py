"""Click2Sync custom-storefront contract: the four hooks Click2Sync calls on a custom store."""
from __future__ import annotations

import hmac
from typing import Any

from mocks.click2sync import errors, routes, seed
from mocks.core.api import Api, Tenant

DEMO_KEYS = ("c2s-demo-key", "c2s-demo-key-2")
HEADER = "C2SKey"


class Click2Sync(Api):
    name = "click2sync"
    title = "Click2Sync custom storefront"
    secret_fields = frozenset({"c2skey"})

    def blueprint(self):
        return routes.build()

    def error_body(self, error):
        return errors.error_body(error)

    def tenants(self, sandbox) -> list[Tenant]:
        keys = sandbox.config.api_options(self.name).get("keys", DEMO_KEYS)
        return [Tenant(key, {"key": key, "header": HEADER}) for key in keys]

    def authenticate(self, request, sandbox) -> str:
        given = request.headers.get(HEADER, "")
        for key in sandbox.tenants(self.name):
            if given and hmac.compare_digest(given.encode(), key.encode()):
                return key
        raise errors.InvalidKey()

    def seed(self, state, ctx) -> None:
        seed.seed(state, ctx)

    def credentials(self, sandbox) -> dict[str, Any]:
        tenants = list(sandbox.tenants(self.name).values())
        return {"key": tenants[0].id, "header": HEADER, "keys": [t.id for t in tenants]}

    def after_request(self, request, response) -> None:
        # The document asks a store to send its key back on every response it gives Click2Sync.
        from flask import g
        if g.get("tenant"):
            response.headers[HEADER] = g.tenant


API = Click2Sync()
