"""Stock2Shop users and tokens: roles and what each may do, tokens (a new one invalidates the
user's earlier ones) and the user record the API answers."""
from __future__ import annotations

import secrets
from typing import Any

from mocks.core.state import TenantState
from mocks.stock2shop import errors as X
from mocks.stock2shop.models.sources import Catalogue

DEFAULT_TOKEN_TTL = 86_400

# Roles (the documents' table); "" is an admin user (no role). Ids: the document gives
# product_meta_editor id 1; the others are the sandbox's.
ROLE_IDS = {"product_meta_editor": 1, "trade": 2, "read_only": 3, "product_editor": 4, "customer_read_only": 5}
ROLES = ("", "trade", "read_only", "product_editor", "product_meta_editor", "customer_read_only")

_EVERYONE_BUT_CUSTOMERS = {"", "trade", "read_only", "product_editor", "product_meta_editor"}
PERMISSIONS: dict[str, set[str]] = {
    "read sources": _EVERYONE_BUT_CUSTOMERS,
    "read channels": _EVERYONE_BUT_CUSTOMERS,
    "read products": _EVERYONE_BUT_CUSTOMERS,
    "read orders": {"", "trade", "read_only"},
    "read customers": {"", "read_only", "customer_read_only"},
    "read the queue": {"", "trade", "read_only", "product_editor", "product_meta_editor"},
    "queue products": {"", "product_editor", "product_meta_editor"},
    "queue product meta": {"", "product_meta_editor"},
    "queue images": {"", "product_editor", "product_meta_editor"},
    "queue orders": {"", "trade"},
}


def require(user: dict[str, Any], action: str) -> None:
    if user["role"] not in PERMISSIONS[action]:
        raise X.RoleForbidden(user["role"], action)


class Users:
    """Users of one client and their tokens. A new token invalidates the user's earlier ones."""

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.users = state.collection("users")
        self.tokens = state.collection("tokens")

    @property
    def ttl(self) -> float:
        return float(self.state.options.get("token_ttl_seconds", DEFAULT_TOKEN_TTL))

    def find(self, username: str) -> dict[str, Any] | None:
        for _, user in self.users.items():
            if user["username"] == username:
                return user
        return None

    def issue(self, user: dict[str, Any]) -> str:
        token = secrets.token_hex(20)
        now = self.state.now()
        self.tokens.put(token, {"user_id": user["id"], "issued": now, "expires": now + self.ttl})

        replaced: list[str] = []

        def swap(old: dict[str, Any] | None) -> dict[str, Any] | None:
            replaced.clear()  # update may retry (Redis): only the stored try counts
            if old is None:
                return None
            previous = old.get("token")
            if previous and previous != token:
                replaced.append(previous)
            return {**old, "token": token}
        self.users.update(str(user["id"]), swap)
        # after the update, not inside it: a store write within update's transaction fails on sqlite
        for previous in replaced:
            self.tokens.delete(previous)
        return token

    def expire(self, token: str) -> bool:
        """Make a live token expire now (the scenario engine's ``expire_token``)."""
        now = self.state.now()
        if self.tokens.lookup(token) is None:
            return False
        self.tokens.update(token, lambda old: {**old, "expires": min(old["expires"], now)} if old else None)
        return True

    def by_token(self, token: str) -> tuple[dict[str, Any] | None, str]:
        """(user, "") or (None, reason) where reason is "invalid" or "expired"."""
        record = self.tokens.lookup(token)
        if record is None:
            return None, "invalid"
        user = self.users.lookup(str(record["user_id"]))
        if user is None or user.get("token") != token or not user.get("active", 1):
            return None, "invalid"
        if not self.state.clock.before(record["expires"], self.state.api, self.state.tenant):
            return None, "expired"
        return user, ""


def public_user(user: dict[str, Any], state: TenantState, full: bool) -> dict[str, Any]:
    base = {k: user[k] for k in ("id", "created", "name", "surname", "email", "username", "modified",
                                 "client_id", "active", "admin", "token")}
    if not full:
        return base
    role = user["role"]
    catalogue = Catalogue(state)
    customers = []
    if role == "trade" and user.get("customer_id") is not None:
        c = state.collection("customers").lookup(str(user["customer_id"]))
        if c is not None:
            customers.append(c)
    return {
        **base,
        "client_name": user["client_name"],
        "fulfillment_services": [],
        "channels": catalogue.channels(),
        "sources": catalogue.sources(),
        "customers": customers,
        "roles": [{"id": ROLE_IDS[role], "description": role}] if role else [],
        "role_description": role or None,
    }
