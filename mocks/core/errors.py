"""Errors, as plain data.

The core raises the generic errors below (malformed body, failed validation, unknown route,
oversized body, ...). Each API subclasses them with its own codes and renders every one of
them into its own documented error shape in exactly one place: ``Api.error_body``.

    SandboxError
    ├── BadRequest (400)
    │   ├── MalformedBody        body is not parseable as the declared content type
    │   └── ValidationFailed     parameters or body break the API's schema (pointer, reason)
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── MethodNotAllowed (405)
    ├── Conflict (409)
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── TooManyRequests (429)
    └── InternalError (500)      only for injected faults; a real bug is a test failure
"""
from __future__ import annotations

from typing import Any


class SandboxError(Exception):
    status: int = 500
    kind: str = "internal"
    default_message: str = "Internal error"

    def __init__(self, message: str | None = None, *, status: int | None = None, code: Any = None,
                 details: Any = None, headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        if status is not None:
            self.status = status
        self.code = code
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.message!r})"


class BadRequest(SandboxError):
    status, kind, default_message = 400, "bad_request", "Bad request"


class MalformedBody(BadRequest):
    kind, default_message = "malformed_body", "The request body is not valid JSON"


class ValidationFailed(BadRequest):
    kind, default_message = "validation", "The request does not match the schema"

    def __init__(self, message: str | None = None, *, errors: list[dict[str, str]] | None = None, **kw: Any) -> None:
        self.errors = errors or []  # [{"pointer": "/body/sku", "reason": "..."}]
        super().__init__(message, **kw)


class Unauthorized(SandboxError):
    status, kind, default_message = 401, "unauthorized", "Unauthorized"


class Forbidden(SandboxError):
    status, kind, default_message = 403, "forbidden", "Forbidden"


class NotFound(SandboxError):
    status, kind, default_message = 404, "not_found", "Not found"


class MethodNotAllowed(SandboxError):
    status, kind, default_message = 405, "method_not_allowed", "Method not allowed"


class Conflict(SandboxError):
    status, kind, default_message = 409, "conflict", "Conflict"


class PayloadTooLarge(SandboxError):
    status, kind, default_message = 413, "payload_too_large", "The request body is too large"


class UnsupportedMediaType(SandboxError):
    status, kind, default_message = 415, "unsupported_media_type", "Unsupported content type"


class TooManyRequests(SandboxError):
    status, kind, default_message = 429, "too_many_requests", "Too many requests"


class InternalError(SandboxError):
    status, kind, default_message = 500, "internal", "Internal server error"


_BY_STATUS = {cls.status: cls for cls in (BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed,
                                          Conflict, PayloadTooLarge, UnsupportedMediaType, TooManyRequests,
                                          InternalError)}


def for_status(status: int, message: str | None = None) -> SandboxError:
    """A generic error for an HTTP status (used for injected faults and werkzeug errors)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = BadRequest if status < 500 else InternalError
    return cls(message, status=status)
