"""What an emulated API plugs into the sandbox.

An API is one package under ``mocks/`` with the same files in each (``routes.py``,
``models.py``, ``errors.py``, ``seed.py``) and one :class:`Api` subclass in its
``__init__.py``. The core mounts its blueprint, authenticates every request through
``authenticate`` (routes marked :func:`public` excepted), validates it against
``schemas/{name}/openapi.yaml``, and turns every :class:`~mocks.core.errors.SandboxError` into
the API's own error shape through ``error_body``: the one place an API maps its errors.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from flask import Blueprint, Request

    from mocks.core.chain.context import RequestContext
    from mocks.core.chain.ratelimit import Limit
    from mocks.core.errors import SandboxError
    from mocks.core.sandbox import Sandbox
    from mocks.core.seed import SeedContext
    from mocks.core.state import TenantState

Json = Any


def public(view: Callable) -> Callable:
    """Mark a route as needing no credentials (e.g. a token request)."""
    view.sandbox_public = True  # type: ignore[attr-defined]
    return view


def sandbox_page(view: Callable) -> Callable:
    """Mark a route the sandbox serves about an API rather than as it (the contract, its reference
    page at ``/{prefix}/docs``): the request chain does not run for it (no authentication,
    scenarios, rate limits, validation, response cache or journal)."""
    view.sandbox_page = True  # type: ignore[attr-defined]
    return view


def passthrough(view: Callable) -> Callable:
    """Mark a route that answers for another service (the drift proxy): the gateway checks the
    request against the contract and records what breaks it, but does not refuse the request."""
    view.sandbox_passthrough = True  # type: ignore[attr-defined]
    return view


@dataclass(frozen=True)
class Identity:
    """What ``Api.authenticate`` may return instead of a bare tenant id: the tenant and the
    principal it found (a user, an account and store), which routes read as ``http.principal()``."""

    tenant: str
    principal: Any = None


@dataclass
class Tenant:
    """One isolated data space of one API and the credentials that reach it."""

    id: str
    credentials: dict[str, Any] = field(default_factory=dict)
    seeded: bool = True  # False: starts empty (e.g. a store added through the API itself)


class Api:
    """Base class of every emulated API. Subclasses set ``name`` and override the hooks."""

    name: str = ""
    title: str = ""
    case_insensitive_paths: bool = False
    #: ``tenants()`` depends on configuration only (not on stored state): the sandbox may cache it
    static_tenants: bool = False
    #: header/query/body field names whose values the journal must never show
    secret_fields: frozenset[str] = frozenset()
    #: content types read as JSON on an operation that takes JSON (most JSON APIs are lenient)
    lenient_json_types: tuple[str, ...] = ("", "text/plain")
    #: JSON pointers (a regex) of a bulk body's items: each item's text is checked by the API
    #: itself (``mocks.core.edge.text_problem``), so one bad item fails only itself
    bulk_items: "re.Pattern[str] | None" = None
    #: the directory holding ``{name}/openapi.yaml`` when it is not the package's ``schemas/``
    #: (an API that lives outside ``mocks/``: a plugin, ``tests/test_sixth_api.py``); None: the package's
    schemas_root: str | None = None

    @property
    def prefix(self) -> str:
        return "/" + self.name

    def blueprint(self) -> "Blueprint":
        raise NotImplementedError

    def error_body(self, error: "SandboxError") -> tuple[Json, int, dict[str, str]]:
        """Render any sandbox error as (body, status, headers) in this API's documented shape."""
        raise NotImplementedError

    def control_blueprint(self) -> "Blueprint | None":
        """Sandbox-only operations of this API (set a balance, trigger a callback, ...).

        Mounted at ``/__sandbox/{name}`` behind the control plane's access rule; errors are
        rendered as control-plane errors, not in the API's shape. ``None``: the API has none.
        """
        return None

    def authenticate(self, request: "Request", sandbox: "Sandbox") -> "str | Identity":
        """Return the tenant id (or an :class:`Identity`) for this request or raise the API's 401/403."""
        raise NotImplementedError

    def tenant_holding(self, sandbox: "Sandbox", given: str, field: str = "key") -> str | None:
        """The tenant whose credential ``field`` is ``given`` (compared in constant time), or None:
        the look-up of APIs that authenticate by one shared key."""
        if not given:
            return None
        secret = given.encode()
        for tenant in sandbox.tenants(self.name).values():
            if hmac.compare_digest(secret, str(tenant.credentials.get(field) or "").encode()):
                return tenant.id
        return None

    def rate_limits(self, sandbox: "Sandbox", ctx: "RequestContext", request: "Request") -> "list[Limit]":
        """The rate-limit buckets this request is charged to (``mocks.core.chain.ratelimit``), after
        authentication: ``ctx.tenant``/``ctx.principal`` are set (None on a ``@public`` route)."""
        return []

    def tenants(self, sandbox: "Sandbox") -> list[Tenant]:
        """The tenants that exist from the start, with their demo credentials."""
        return []

    def seed(self, state: "TenantState", ctx: "SeedContext") -> None:
        """Fill a fresh tenant with deterministic data (the documents' examples included)."""

    def credentials(self, sandbox: "Sandbox") -> Json:
        """This API's entry in ``GET /__sandbox/credentials``."""
        return {}

    def run_due(self, sandbox: "Sandbox", tenant: str, ref: str, now: float) -> float | None:
        """Run one job of this API that fell due (:mod:`mocks.core.scheduler`, ``kind="api"``).

        ``ref`` is what the API scheduled (``scheduler.schedule(sandbox, "api", name, tenant, ref,
        at)``); ``now`` is the tenant's sandbox clock. Returns when the job is due next on that
        clock, or None when it is done. Runs with no request, in whichever process holds the lease.
        """
        return None

    def after_request(self, request: "Request", response: Any) -> None:
        """Optional hook for headers every response of the API carries."""

    def warm(self, sandbox: "Sandbox") -> None:
        """Build this process's caches of large collections ahead of the first request that needs
        them (a serving worker calls it once, in a background thread, right after it starts):
        e.g. a search index over 100,000 products, so that no client's first search pays for it."""

    # -- scenario hooks (mocks.core.scenarios.engine): defaults that any API may specialise ----------------
    def fault_error(self, action: dict[str, Any]) -> "SandboxError":
        """The error an injected ``status`` answers with (rendered through ``error_body``).

        ``action`` is the rule's whole action, so an API can read its own extra keys, e.g. API2Cart
        ``{return_code: 7}`` or a ``code``/``message``.
        """
        from mocks.core.errors import for_status

        from http import HTTPStatus

        status = int(action["status"])
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = f"HTTP {status}"
        error = for_status(status, action.get("message") or phrase)
        if "code" in action:
            error.code = action["code"]
        return error

    def expire_credentials(self, sandbox: "Sandbox", tenant: str | None, request: "Request") -> Any:
        """``expire_token``: make the credential this request used expire now (default: nothing).

        Pair it with ``status: 401`` in the scenario to answer this request as expired too.
        """
        return None

    def index_lag(self, sandbox: "Sandbox", tenant: str | None, seconds: float) -> Any:
        """``index_lag``: writes from now on become visible to searches/lists ``seconds`` later."""
        return None

    def item_failures(self, sandbox: "Sandbox", tenant: str | None, spec: dict[str, Any]) -> Any:
        """``item_failures``: fail some items of this bulk request. The engine puts the parsed spec on
        ``RequestContext.item_failures`` (routes: ``http.item_failures()``); see
        ``mocks.core.scenarios.item_failures`` for its one meaning. Returns what the journal shows."""
        return None

    def webhook_failure(self, sandbox: "Sandbox", tenant: str | None, spec: dict[str, Any]) -> Any:
        """``webhook_failure``: make the next outbound webhook deliveries fail (``spec``: status, times).

        The default works for every API that sends through :mod:`mocks.core.webhooks`: the next
        ``times`` delivery attempts of this API and tenant answer ``status`` without being sent.
        """
        from mocks.core import webhooks
        return webhooks.fail_next(sandbox, self.name, tenant, int(spec.get("status", 500)),
                                  int(spec.get("times", 1)))

    def scenario_action(self, sandbox: "Sandbox", tenant: str | None, spec: dict[str, Any]) -> Any:
        """``api_action: {name: ..., ...}``: an API-specific move of its own state (e.g. XTND moves
        orders on, as its ERP and warehouse would). ``spec["name"]`` says which; default: nothing."""
        return None
