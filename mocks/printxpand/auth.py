"""OAuth 1.0a as Magento 2 does it, verified with oauthlib's signature module.

* OAuth parameters come from the ``Authorization: OAuth ...`` header (query and
  ``application/x-www-form-urlencoded`` body parameters are collected too, as RFC 5849 says).
* Signed: the query and form parameters plus the oauth_* parameters; a JSON body is not signed.
* The base string URI is normalised by oauthlib (lower-case scheme and host, default port
  dropped, query removed); it is built from the URL the request reached, so a client signs
  ``http://<host>/printxpand/rest/V1/...`` exactly as it calls it.
* HMAC-SHA1 and HMAC-SHA256 (Magento's two); anything else: "Signature method %1 is not supported".
* Timestamps more than 600 s away from real time are rejected, as Magento checks them against
  its server's clock: moving the sandbox clock (``POST /__sandbox/clock``) never breaks a
  correctly signed request. Each nonce is accepted once per consumer while it is remembered: for
  that same window (at least 600 s, at most 1,200 s; kept in the store, so every worker sees it),
  after which a replay is rejected by its timestamp anyway. Memory stays bounded.
* Token flow: request token (signed with the consumer secret) -> access token (signed with the
  request token secret, carrying the consumer's ``oauth_verifier``) -> resource calls.
* "Integration as bearer": an access token may also be sent as ``Authorization: Bearer <token>``.

Checks run in Magento's order (required fields, version, signature method, consumer, timestamp,
token, verifier, signature); the nonce is recorded only once the signature is good, so a
client that fixes its signing code can retry with a fresh request without surprises.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature as sig

from mocks.core.coerce import is_ascii_digits
from mocks.core.store import ns
from mocks.printxpand import errors as X

MAX_SKEW = 600  # seconds; Magento's Nonce\Generator::TIME_DEVIATION
REQUIRED = ("oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce", "oauth_timestamp")
VERIFIERS = {"HMAC-SHA1": sig.verify_hmac_sha1, "HMAC-SHA256": sig.verify_hmac_sha256}
TOKENS = "__oauth_tokens"
NONCES = "__oauth_nonces"     # one collection per window of real time: "__oauth_nonces:<n>"
NONCE_BUCKET = "__oauth_nonce_window"


def real_time() -> float:
    """The real world's time (what Magento compares oauth_timestamp with)."""
    return time.time()
REVOKED = "__oauth_revoked"


def _demo(label: str) -> str:
    """A stable 32-character lower-case hex value, the length Magento gives keys and tokens."""
    return hashlib.sha256(f"commerce-sandbox/printxpand/{label}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Consumer:
    """One Magento integration: its consumer, its verifier and its activated access token."""

    id: str                # Magento's numeric consumer id
    name: str
    key: str
    secret: str
    verifier: str
    access_token: str
    access_token_secret: str

    @property
    def tenant(self) -> str:
        return "px-" + hashlib.sha256(self.key.encode()).hexdigest()[:10]

    def as_credentials(self) -> dict[str, Any]:
        return {"consumer_id": self.id, "integration": self.name, "consumer_key": self.key,
                "consumer_secret": self.secret, "oauth_verifier": self.verifier,
                "access_token": self.access_token, "access_token_secret": self.access_token_secret,
                "bearer_token": self.access_token}


def demo_consumer(n: int) -> Consumer:
    return Consumer(str(n), f"Sandbox integration {n}", _demo(f"{n}/consumer_key"), _demo(f"{n}/consumer_secret"),
                    _demo(f"{n}/verifier"), _demo(f"{n}/access_token"), _demo(f"{n}/access_token_secret"))


DEMO_CONSUMERS = (demo_consumer(1), demo_consumer(2))


def consumers(options: dict[str, Any]) -> list[Consumer]:
    count = int(options.get("consumers", len(DEMO_CONSUMERS)))
    return [demo_consumer(i + 1) for i in range(max(1, count))]


# -- parsing ----------------------------------------------------------------------------------
def collect(request: Any) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(every signed parameter except oauth_signature, the oauth_* parameters)."""
    header = request.headers.get("Authorization", "")
    headers = {"Authorization": header} if header[:6].lower() == "oauth " else {}
    body = None
    if (request.mimetype or "").lower() == "application/x-www-form-urlencoded":
        body = request.get_data(cache=True).decode("utf-8", "replace")
    try:
        query = request.query_string.decode("utf-8", "replace")
        params = sig.collect_parameters(uri_query=query, body=body, headers=headers, exclude_oauth_signature=False)
    except (ValueError, TypeError):
        raise X.signature_invalid() from None
    oauth = {k: v for k, v in params if k.startswith("oauth_")}
    signed = [(k, v) for k, v in params if k != "oauth_signature"]
    return signed, oauth


def bearer(request: Any) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


# -- verification -----------------------------------------------------------------------------
class Verifier:
    """Verifies one request for one kind of endpoint: ``resource``, ``request`` or ``access``."""

    def __init__(self, sandbox: Any, api_name: str, all_consumers: list[Consumer]) -> None:
        self.sandbox = sandbox
        self.api_name = api_name
        self.consumers = all_consumers

    def tokens(self, consumer: Consumer) -> Any:
        return self.sandbox.state(self.api_name, consumer.tenant).collection(TOKENS)

    def by_key(self, key: str) -> Consumer | None:
        for consumer in self.consumers:
            if hmac.compare_digest(consumer.key.encode(), key.encode()):
                return consumer
        return None

    def revoked(self, consumer: Consumer, token: str) -> bool:
        return self.sandbox.state(self.api_name, consumer.tenant).collection(REVOKED).lookup(token) is not None

    def revoke(self, consumer: Consumer, token: str) -> None:
        """Revoke an access token (the scenario engine's ``expire_token``); a reset restores seeded ones."""
        self.sandbox.state(self.api_name, consumer.tenant).collection(REVOKED).put(
            token, {"revoked_at": self.sandbox.clock.now()})

    def by_bearer(self, token: str) -> Consumer | None:
        for consumer in self.consumers:
            if token and hmac.compare_digest(consumer.access_token.encode(), token.encode()):
                return None if self.revoked(consumer, token) else consumer
            record = self.tokens(consumer).lookup(token) if token else None
            if record is not None and record.get("type") == "access":
                return None if self.revoked(consumer, token) else consumer
        return None

    def token_used_by(self, request: Any) -> tuple[Consumer, str] | None:
        """The consumer and access token a request authenticated with (bearer or OAuth header)."""
        token = bearer(request)
        if token is not None:
            consumer = self.by_bearer(token)
            return (consumer, token) if consumer is not None else None
        try:
            oauth = collect(request)[1]
        except X.OAuthFailed:
            return None
        consumer = self.by_key(oauth.get("oauth_consumer_key", ""))
        if consumer is None or not oauth.get("oauth_token"):
            return None
        return consumer, oauth["oauth_token"]

    def token_record(self, consumer: Consumer, token: str) -> dict[str, Any] | None:
        if hmac.compare_digest(consumer.access_token.encode(), token.encode()):
            return {"type": "access", "secret": consumer.access_token_secret, "consumer": consumer.key}
        record = self.tokens(consumer).get(token)
        if record is not None:
            return record
        for other in self.consumers:  # a real token of another consumer
            if other is not consumer and (other.access_token == token or self.tokens(other).lookup(token)):
                raise X.token_not_of_consumer()
        return None

    def verify(self, request: Any, kind: str) -> tuple[Consumer, dict[str, Any] | None]:
        signed, oauth = collect(request)
        if not oauth and kind == "resource":
            raise X.not_authorized("PrintXpand_Api::api")
        for name in REQUIRED:
            if not oauth.get(name):
                raise X.required_field(name)
        if kind in ("resource", "access") and not oauth.get("oauth_token"):
            raise X.required_field("oauth_token")
        version = oauth.get("oauth_version")
        if version is not None and version != "1.0":
            raise X.version_unsupported(version)
        method = oauth["oauth_signature_method"]
        if method not in VERIFIERS:
            raise X.signature_method_unsupported(method)
        consumer = self.by_key(oauth["oauth_consumer_key"])
        if consumer is None:
            raise X.unknown_consumer()
        stamp = oauth["oauth_timestamp"]
        if not is_ascii_digits(stamp) or abs(int(stamp) - real_time()) > MAX_SKEW:  # real time, never the sandbox clock
            raise X.bad_timestamp()
        token_secret = ""
        record: dict[str, Any] | None = None
        if kind in ("resource", "access"):
            record = self.token_record(consumer, oauth["oauth_token"])
            if record is None:
                raise X.unknown_token()
            if kind == "resource" and record.get("type") != "access":
                raise X.token_not_access()
            if kind == "resource" and self.revoked(consumer, oauth["oauth_token"]):
                raise X.token_revoked()
            if kind == "access":
                if record.get("type") != "request":
                    raise X.token_not_request()
                if record.get("used"):
                    raise X.token_used()
                verifier = oauth.get("oauth_verifier")
                if not verifier:
                    raise X.required_field("oauth_verifier")
                if not hmac.compare_digest(verifier.encode(), consumer.verifier.encode()):
                    raise X.verifier_invalid()
            token_secret = record["secret"]
        check = OAuthRequest(request.url, request.method)
        check.params = signed
        check.signature = oauth["oauth_signature"]
        try:
            good = VERIFIERS[method](check, consumer.secret, token_secret)
        except (ValueError, TypeError):
            good = False
        if not good:
            raise X.signature_invalid()
        if not self.remember_nonce(consumer.tenant, oauth["oauth_nonce"], int(stamp)):
            raise X.nonce_used(consumer.id)
        return consumer, record

    def remember_nonce(self, tenant: str, nonce: str, stamp: int) -> bool:
        """Record a nonce; False if the consumer used it within the window. Nonces live in one
        collection per MAX_SKEW of real time; the current and the previous one are checked, older
        ones are dropped whole (cost per request: two lookups, one add)."""
        state = self.sandbox.state(self.api_name, tenant)
        real = real_time()
        window = int(real // MAX_SKEW)
        if nonce in state.collection(f"{NONCES}:{window - 1}"):
            return False
        if not state.collection(f"{NONCES}:{window}").add(nonce, {"timestamp": stamp, "seen": real}):
            return False
        marker = state.collection(NONCE_BUCKET)
        if marker.lookup("current") != window:
            marker.put("current", window)
            prefix = ns(self.api_name, tenant, NONCES)
            for name in self.sandbox.store.namespaces(prefix):
                _, _, suffix = name[len(prefix):].partition(":")
                if not suffix.lstrip("-").isdigit() or int(suffix) < window - 1:
                    self.sandbox.store.clear(name)
        return True

    # -- the token endpoints ------------------------------------------------------------------
    def issue_request_token(self, request: Any) -> dict[str, str]:
        consumer, _ = self.verify(request, "request")
        token, secret = secrets.token_hex(16), secrets.token_hex(16)
        self.tokens(consumer).put(token, {"type": "request", "secret": secret, "consumer": consumer.key,
                                          "created": self.sandbox.clock.now(), "used": False})
        return {"oauth_token": token, "oauth_token_secret": secret}

    def issue_access_token(self, request: Any) -> dict[str, str]:
        consumer, record = self.verify(request, "access")
        assert record is not None
        request_token = collect(request)[1]["oauth_token"]
        tokens = self.tokens(consumer)

        def mark_used(old: dict[str, Any] | None) -> dict[str, Any] | None:
            if old is None or old.get("used"):
                raise X.token_used()
            return {**old, "used": True}

        tokens.update(request_token, mark_used)  # atomic: one access token per request token
        token, secret = secrets.token_hex(16), secrets.token_hex(16)
        tokens.put(token, {"type": "access", "secret": secret, "consumer": consumer.key,
                           "created": self.sandbox.clock.now(), "revoked": False})
        return {"oauth_token": token, "oauth_token_secret": secret}

    def authenticate(self, request: Any) -> Consumer:
        token = bearer(request)
        if token is not None:
            consumer = self.by_bearer(token)
            if consumer is None:
                raise X.not_authorized("PrintXpand_Api::api")
            return consumer
        return self.verify(request, "resource")[0]
