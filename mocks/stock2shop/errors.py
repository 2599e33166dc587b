"""Stock2Shop errors and their one body shape.

The documents show no error body. Their interactive explorer (``/docs/#!/users/authenticateUser_post_1``)
is Luracast Restler's, and Restler answers every error as
``{"error": {"code": <HTTP status>, "message": "<Reason>: <detail>"}}``; the sandbox uses that
shape for every error of both base URLs, adding ``error.type`` (a stable machine-readable code)
and, for schema failures, ``error.details`` ([{"pointer", "reason"}]).
"""
from __future__ import annotations

from typing import Any

from mocks.core import errors as E

REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    408: "Request Timeout", 409: "Conflict", 413: "Request Entity Too Large", 414: "URI Too Long",
    415: "Unsupported Media Type", 422: "Unprocessable Entity", 431: "Request Header Fields Too Large",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout",
}

TYPES = {
    "bad_request": "bad_request",
    "malformed_body": "invalid_json",
    "validation": "invalid_request",
    "unauthorized": "invalid_token",
    "forbidden": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "conflict": "conflict",
    "payload_too_large": "payload_too_large",
    "unsupported_media_type": "unsupported_media_type",
    "too_many_requests": "rate_limited",
    "internal": "internal_error",
}


class MissingToken(E.Unauthorized):
    def __init__(self) -> None:
        super().__init__("token query parameter is required; authenticate with POST /v1/users/authenticate",
                         code="missing_token")


class InvalidToken(E.Unauthorized):
    def __init__(self, reason: str = "invalid") -> None:
        msg = "token has expired, authenticate again" if reason == "expired" else \
            "token is not valid, authenticate again"
        super().__init__(msg, code="token_expired" if reason == "expired" else "invalid_token")


class BadCredentials(E.Unauthorized):
    def __init__(self) -> None:
        super().__init__("invalid username or password", code="invalid_credentials")


class RoleForbidden(E.Forbidden):
    def __init__(self, role: str, action: str) -> None:
        super().__init__(f"role {role or 'admin'} may not {action}", code="role_forbidden")


class WrongClient(E.Forbidden):
    def __init__(self, client_id: Any) -> None:
        super().__init__(f"client_id {client_id} is not the client of this token", code="wrong_client")


class UnknownChannel(E.NotFound):
    def __init__(self, channel_id: Any) -> None:
        super().__init__(f"channel {channel_id} not found", code="channel_not_found")


class QueueItemNotFound(E.NotFound):
    def __init__(self, item_id: Any) -> None:
        super().__init__(f"queue item {item_id} not found", code="queue_item_not_found")


class BadSearch(E.BadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(f"elastic search query error: {message}", code="search_query_error")


class ImageTooLarge(E.PayloadTooLarge):
    def __init__(self, index: int, size: int) -> None:
        super().__init__(f"system_images[{index}].image.image is {size} bytes decoded; images may be at most "
                         f"{2 * 1024 * 1024} bytes (2 MB)", code="image_too_large")


class OrderNotFound(E.NotFound):
    def __init__(self, order_id: Any) -> None:
        super().__init__(f"order {order_id} not found", code="order_not_found")


class ImageNotFound(E.NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"image {name} not found", code="image_not_found")


class RateLimited(E.TooManyRequests):
    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(f"rate limit of {limit} request(s) per second exceeded; retry after {retry_after} s",
                         code="rate_limited",
                         headers={"Retry-After": str(retry_after), "x-S2S-RateLimit": limit})


class BadPayload(E.BadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_payload")


def error_body(error: E.SandboxError) -> tuple[dict[str, Any], int, dict[str, str]]:
    status = error.status
    reason = REASONS.get(status, "Error")
    detail = error.message
    message = reason if detail in (reason, error.default_message) else f"{reason}: {detail}"
    inner: dict[str, Any] = {"code": status, "message": message,
                             "type": error.code or TYPES.get(error.kind, error.kind)}
    if isinstance(error, E.ValidationFailed) and error.errors:
        inner["details"] = [{"pointer": e["pointer"], "reason": e["reason"]} for e in error.errors]
    headers: dict[str, str] = {}
    if status == 429 and "Retry-After" not in error.headers:
        headers["Retry-After"] = "1"  # the documents ask for at most one request per second
    return {"error": inner}, status, headers
