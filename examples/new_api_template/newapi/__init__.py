"""NewApi (template): one API key header, one collection of widgets. Copy, then rename ``newapi``."""
from __future__ import annotations

from typing import Any

from mocks.core.api import Api, Tenant
from mocks.newapi import errors, routes, seed

DEMO_KEY = "newapi-demo-key"
HEADER = "X-Api-Key"


class NewApi(Api):
    name = "newapi"                           # the mount prefix (/newapi), the store namespace, schemas/newapi/
    title = "NewApi (template)"
    secret_fields = frozenset({"x-api-key"})  # never shown in the journal
    static_tenants = True                     # tenants come from configuration only

    def blueprint(self):
        return routes.build()

    def error_body(self, error):
        return errors.error_body(error)

    def tenants(self, sandbox) -> list[Tenant]:
        key = sandbox.config.api_options(self.name).get("key", DEMO_KEY)
        return [Tenant("newapi-demo", {"key": key})]

    def authenticate(self, request, sandbox) -> str:
        tenant = self.tenant_holding(sandbox, request.headers.get(HEADER, ""))
        if tenant is None:
            raise errors.InvalidKey()
        return tenant

    def seed(self, state, ctx) -> None:
        seed.seed(state, ctx)

    def credentials(self, sandbox) -> dict[str, Any]:
        tenant = next(iter(sandbox.tenants(self.name).values()))
        return {"header": HEADER, "key": tenant.credentials["key"], "tenant": tenant.id}


API = NewApi()
