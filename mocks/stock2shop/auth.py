"""Stock2Shop credentials -> tenant: every request but ``POST /v1/users/authenticate`` and
``GET /v1/users/valid_token/{token}`` carries ``token=`` in the query string; a token belongs to
one user of one client, and the tenant is the client (``str(client_id)``).

Called by the request chain (``Stock2Shop.authenticate``, ``Stock2Shop.rate_limits``); routes read
the user through ``mocks.core.http.principal()``.
"""
from __future__ import annotations

from typing import Any

from mocks.core.api import Identity
from mocks.stock2shop import errors, models, seed

API = "stock2shop"


def find_token(sandbox: Any, token: str) -> tuple[dict[str, Any] | None, str]:
    """(user, tenant) for a live token; raises InvalidToken otherwise."""
    reason = "invalid"
    for tenant in seed.CLIENTS:
        user, why = models.Users(sandbox.state(API, tenant)).by_token(token)
        if user is not None:
            return user, tenant
        if why == "expired":
            reason = why
    raise errors.InvalidToken(reason)


def authenticate(request: Any, sandbox: Any) -> Identity:
    token = request.args.get("token", "")
    if not token:
        raise errors.MissingToken()
    user, tenant = find_token(sandbox, token)
    # the client's queue items that are due already are applied before it is answered (the
    # scheduler does it on its own too; this keeps answers deterministic, e.g. in tests)
    sandbox.scheduler.run_if_due("api", API, tenant, models.QUEUE_JOB)
    return Identity(tenant, user)


def anonymous_client(sandbox: Any, request: Any) -> str | None:
    """The client an unauthenticated call is on behalf of (for its rate limit): the user named in an
    authenticate body, or the owner of the token a valid_token call checks (None: not known)."""
    endpoint = (request.endpoint or "").rpartition(".")[2]
    if endpoint == "authenticate":
        data = request.get_json(silent=True, cache=True)
        auth = data.get("system_user_auth") if isinstance(data, dict) else None
        username = str(auth.get("username")) if isinstance(auth, dict) else None
        return next((cid for cid in seed.CLIENTS for u in seed.users_of(cid) if u["username"] == username), None)
    if endpoint == "valid_token":
        try:
            return find_token(sandbox, str((request.view_args or {}).get("token", "")))[1]
        except errors.InvalidToken:
            return None
    return None
