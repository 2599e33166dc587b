"""Click2Sync storefront errors and their one body shape.

The document asks only that a store answer JSON; for errors this sandbox uses the shape the
issue fixes for POST failures and applies it to every error, so a client has one shape to parse:
``{"success": false, "code": <HTTP status>, "error": "<message>", "reasons": [{"message", "code"}]}``
where each reason's ``code`` is a stable machine-readable string (``invalid_field``, ``not_found``...).
"""
from __future__ import annotations

from typing import Any

from mocks.core import errors as E

ERROR_CODES = {
    "bad_request": "bad_request",
    "malformed_body": "malformed_json",
    "validation": "validation_failed",
    "unauthorized": "invalid_key",
    "forbidden": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "conflict": "conflict",
    "payload_too_large": "payload_too_large",
    "unsupported_media_type": "unsupported_media_type",
    "too_many_requests": "too_many_requests",
    "internal": "internal_error",
}


class InvalidKey(E.Unauthorized):
    default_message = "Missing or invalid C2SKey header"


class ProductNotFound(E.NotFound):
    def __init__(self, product_id: str) -> None:
        super().__init__(f"Product {product_id} not found", code="product_not_found")


class OrderNotFound(E.NotFound):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"Order {order_id} not found", code="order_not_found")


class DuplicateSku(E.Conflict):
    def __init__(self, sku: str, existing: str) -> None:
        super().__init__(f"A product with sku {sku} already exists (_id {existing})", code="duplicate_sku")


class DuplicateOrder(E.Conflict):
    def __init__(self, orderid: str, existing: str) -> None:
        super().__init__(f"An order with orderid {orderid} already exists (_id {existing})", code="duplicate_order")


class IncompleteItem(E.Conflict):
    """The patch is valid on its own but not against the stored order: it appends a partial item."""

    def __init__(self, index: int, missing: list[str]) -> None:
        super().__init__(f"/body/orderItems/{index}: order item {index} does not exist yet, so it needs "
                         f"{', '.join(missing)}", code="incomplete_item")


class BadCursor(E.NotFound):
    """A step tag the store never issued names no page: 404, like an unknown id."""

    def __init__(self) -> None:
        super().__init__("The next parameter is not a step tag issued by this store", code="invalid_next")


def error_body(error: E.SandboxError) -> tuple[dict[str, Any], int, dict[str, str]]:
    code = error.code or ERROR_CODES.get(error.kind, error.kind)
    if isinstance(error, E.ValidationFailed) and error.errors:
        reasons = [{"message": f"{e['pointer']}: {e['reason']}", "code": "invalid_field"} for e in error.errors]
        message = "The request does not match the Click2Sync contract"
    else:
        reasons = [{"message": error.message, "code": code}]
        message = error.message
    body = {"success": False, "code": error.status, "error": message, "reasons": reasons}
    return body, error.status, {}
