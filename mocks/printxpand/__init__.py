"""PrintXpand custom API: a Magento 2 extension's bulk REST endpoints behind Magento's OAuth 1.0a."""
from __future__ import annotations

import re
from typing import Any

from mocks.core.api import Api, Tenant
from mocks.printxpand import auth, errors, routes, seed


class PrintXpand(Api):
    name = "printxpand"
    title = "PrintXpand custom API (Magento 2)"
    secret_fields = frozenset({"consumer_secret", "access_token_secret", "oauth_verifier", "oauth_token_secret"})
    lenient_json_types = ()  # docs/printxpand.md: a content type other than JSON is a 400
    bulk_items = re.compile(r"/body/(product|customer|category|order)/[^/]+")  # checked per item (run_batch)

    def blueprint(self):
        return routes.build()

    def control_blueprint(self):
        """``/__sandbox/printxpand/designer-callback``: the sandbox makes PrintXpand's designer call."""
        from mocks.printxpand import control
        return control.build()

    def error_body(self, error):
        return errors.error_body(error)

    def consumers(self, sandbox) -> list[auth.Consumer]:
        return auth.consumers(sandbox.config.api_options(self.name))

    def verifier(self, sandbox) -> auth.Verifier:
        return auth.Verifier(sandbox, self.name, self.consumers(sandbox))

    def tenants(self, sandbox) -> list[Tenant]:
        return [Tenant(c.tenant, c.as_credentials()) for c in self.consumers(sandbox)]

    def authenticate(self, request, sandbox) -> str:
        return self.verifier(sandbox).authenticate(request).tenant

    def seed(self, state, ctx) -> None:
        seed.seed(state, ctx)

    def credentials(self, sandbox) -> dict[str, Any]:
        consumers = self.consumers(sandbox)
        first = consumers[0]
        return {**first.as_credentials(), "tenant": first.tenant,
                "signature_methods": sorted(auth.VERIFIERS),
                "token_request_url": f"{self.prefix}/oauth/token/request",
                "token_access_url": f"{self.prefix}/oauth/token/access",
                "consumers": [{**c.as_credentials(), "tenant": c.tenant} for c in consumers]}

    # -- scenario hooks (mocks.core.scenarios.engine) ---------------------
    def expire_credentials(self, sandbox, tenant, request) -> Any:
        """``expire_token``: revoke the access token this request used (Magento: "Access token has
        been revoked"); ``POST /__sandbox/reset`` brings a seeded token back."""
        verifier = self.verifier(sandbox)
        used = verifier.token_used_by(request)
        if used is None:
            return None
        consumer, token = used
        verifier.revoke(consumer, token)
        return {"revoked": "access_token", "consumer_id": consumer.id}

    def item_failures(self, sandbox, tenant, spec) -> Any:
        """``item_failures``: the routes hand ``http.item_failures()`` to the model, which fails the
        chosen items in their own results (see models.injected_failure)."""
        return {"spec": spec} if isinstance(spec, dict) else None


API = PrintXpand()
