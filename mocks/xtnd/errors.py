"""XTND Extend Commerce errors and their one body shape.

The guide names three kinds of error message: validation, not found, and authentication /
authorisation. Every error the sandbox sends uses one JSON shape::

    {"errorType": "Validation" | "NotFound" | "Authentication" | "Authorization" | ...,
     "status": <HTTP status>, "message": "<text>",
     "errors": [{"field": "rows[0].itemNumber", "message": "..."}]}

``errors`` is always present; it lists the fields at fault for a validation error and is empty
otherwise. The statuses the guide does not speak about (405, 413, 415, 429, 5XX) use the same
shape with their own ``errorType``.
"""
from __future__ import annotations

import re
from typing import Any

from mocks.core import errors as E

ERROR_TYPES = {
    "bad_request": "Validation",
    "malformed_body": "Validation",
    "validation": "Validation",
    "unauthorized": "Authentication",
    "forbidden": "Authorization",
    "not_found": "NotFound",
    "method_not_allowed": "MethodNotAllowed",
    "conflict": "Validation",
    "payload_too_large": "Validation",
    "unsupported_media_type": "Validation",
    "too_many_requests": "TooManyRequests",
    "internal": "ServerError",
}


class InvalidApiKey(E.Unauthorized):
    default_message = "Missing or invalid API key: send 'Authorization: Bearer <api key>'"


class ReadOnlyKey(E.Forbidden):
    default_message = "This API key is read-only; it may not create or change data"


class ResourceNotFound(E.NotFound):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} '{key}' was not found")


class RouteNotFound(E.NotFound):
    def __init__(self, method: str, path: str) -> None:
        super().__init__(f"No resource {path} for {method}")


class Invalid(E.ValidationFailed):
    """A business-rule validation error on named fields (``field`` in the guide's dotted form)."""

    def __init__(self, field: str, reason: str, more: list[tuple[str, str]] | None = None) -> None:
        pairs = [(field, reason), *(more or [])]
        super().__init__(f"{field}: {reason}",
                         errors=[{"field": f, "reason": r} for f, r in pairs])


def field_name(pointer: str) -> str:
    """'/body/rows/0/itemNumber' -> 'rows[0].itemNumber'; '/query/page' -> 'page'."""
    parts = [p for p in pointer.split("/") if p][1:] if pointer.startswith(("/body", "/query", "/path", "/header")) \
        else [p for p in pointer.split("/") if p]
    out = ""
    for part in parts:
        if re.fullmatch(r"\d+", part, re.ASCII):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "body"


def error_body(error: E.SandboxError) -> tuple[dict[str, Any], int, dict[str, str]]:
    error_type = ERROR_TYPES.get(error.kind, "ServerError" if error.status >= 500 else "Validation")
    fields: list[dict[str, str]] = []
    if isinstance(error, E.ValidationFailed):
        for e in error.errors:
            name = e["field"] if "field" in e else field_name(e.get("pointer", ""))
            missing = re.match(r"^'([^']+)' is a required property", e.get("reason", ""))
            if missing and "field" not in e:  # name the missing field itself, not its parent
                name = missing.group(1) if name == "body" else f"{name}.{missing.group(1)}"
            fields.append({"field": name, "message": e.get("reason", "")})
    message = error.message
    if isinstance(error, E.ValidationFailed) and fields:
        message = "The request is not valid: " + "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    headers: dict[str, str] = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="xtnd"'
    return {"errorType": error_type, "status": error.status, "message": message, "errors": fields}, error.status, headers
