"""The request journal: one redacted entry per request, bounded in the store.

Entries are plain JSON: ``seq, time, api, tenant, method, path, query, status, duration_ms,
request{headers, body}, response{headers, body}, scenario, rule, violations``. Bodies are cut at
``BODY_LIMIT`` characters. Secrets (passwords, tokens, keys, signatures) are replaced by
``"***"`` before anything is stored, so neither the journal nor an export can leak them.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable

BODY_LIMIT = 4096
REDACTED = "***"
SECRET_NAMES = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "c2skey", "x-api-key", "x-store-key",
    "api_key", "store_key", "token", "access_token", "password", "secret", "consumer_secret",
    "access_token_secret", "oauth_signature", "oauth_token", "x-sandbox-admin-token", "x-webhook-signature",
    "signature", "client_secret", "refresh_token", "ftp_password", "bearer_token",
})
_SECRET_RE = re.compile(r"(password|secret|token|api_?key|store_?key|signature)", re.IGNORECASE)
_SECRET_TEXT = re.compile(r'(?i)((?:password|secret|token|api_?key|store_?key|signature|c2skey)"?\s*[:=]\s*"?)'
                          r'[^"&\s,}]+')


def is_secret(name: str, extra: Iterable[str] = ()) -> bool:
    low = name.lower()
    return low in SECRET_NAMES or low in extra or bool(_SECRET_RE.search(low))


_verdicts: dict[tuple[str, frozenset[str]], bool] = {}  # header/parameter names repeat: remember


def redact_pairs(pairs: Iterable[tuple[str, str]], extra: frozenset[str] = frozenset()) -> dict[str, str]:
    extra = frozenset(e.lower() for e in extra) if not isinstance(extra, frozenset) else extra
    out: dict[str, str] = {}
    for name, value in pairs:
        secret = _verdicts.get((name, extra))
        if secret is None:
            secret = is_secret(name, extra)
            if len(_verdicts) < 4096:  # bounded: hostile clients send endless new names
                _verdicts[(name, extra)] = secret
        out[name] = REDACTED if secret else value
    return out


def redact_json(node: Any, extra: frozenset[str] = frozenset()) -> Any:
    if isinstance(node, dict):
        return {k: (REDACTED if isinstance(k, str) and is_secret(k, extra) and not isinstance(v, (dict, list))
                    else redact_json(v, extra)) for k, v in node.items()}
    if isinstance(node, list):
        return [redact_json(v, extra) for v in node]
    return node


def redact_text(text: str, extra: frozenset[str] = frozenset(), limit: int = BODY_LIMIT) -> str:
    """A body for the journal: JSON is redacted field by field, form bodies pair by pair; at most
    ``limit`` characters are kept (``SandboxConfig.journal_body_limit``)."""
    if not text:
        return text
    if len(text) > limit:
        # Only the first ``limit`` characters are kept: mask them as text instead of parsing and
        # re-encoding a large body on every request (the cut would break the JSON anyway).
        return _mask(text[:limit], limit)
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return json.dumps(redact_json(json.loads(text), extra), ensure_ascii=False)[:limit]
        except ValueError:
            return _mask(text, limit)
    if "=" in text and "\n" not in text[:200]:
        from urllib.parse import parse_qsl, urlencode
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
            return urlencode(list(redact_pairs(pairs, extra).items()))[:limit]
        except ValueError:
            pass
    return _mask(text, limit)


_SECRET_WORDS = ("password", "secret", "token", "apikey", "api_key", "storekey", "store_key", "signature", "c2skey")


def _mask(text: str, limit: int = BODY_LIMIT) -> str:
    """Free text: mask anything that looks like key=value or "key": "value" with a secret-looking key."""
    text = text[:limit]
    low = text.lower()
    # The regex scans every position (slow on big bodies); most bodies hold none of the words.
    if not any(word in low for word in _SECRET_WORDS):
        return text
    return _SECRET_TEXT.sub(r"\1" + REDACTED, text)


def redact_oauth_header(value: str) -> str:
    return re.sub(r'(oauth_(?:signature|token|consumer_key|nonce|verifier))="[^"]*"', r'\1="' + REDACTED + '"', value)


def matches(entry: dict[str, Any], filters: dict[str, str]) -> bool:
    for key, want in filters.items():
        if not want:
            continue
        if key == "path":
            if want not in entry.get("path", ""):
                return False
        elif key == "status":
            got = str(entry.get("status", ""))
            if want.endswith("xx"):
                if not got.startswith(want[0]):
                    return False
            elif got != want:
                return False
        elif key == "method":
            if entry.get("method", "").upper() != want.upper():
                return False
        elif str(entry.get(key, "")) != want:
            return False
    return True
