"""NewApi errors and their one body shape: ``{"error": {"code", "message", "details": [...]}}``."""
from __future__ import annotations

from typing import Any

from mocks.core import errors as E


class InvalidKey(E.Unauthorized):
    default_message = "Missing or invalid X-Api-Key header"


class WidgetNotFound(E.NotFound):
    def __init__(self, widget_id: str) -> None:
        super().__init__(f"Widget {widget_id} not found", code="widget_not_found")


def error_body(error: E.SandboxError) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The ONE place any SandboxError becomes this API's documented error (schemas/newapi/error.schema.json)."""
    details = [{"field": e["pointer"], "reason": e["reason"]}
               for e in (error.errors if isinstance(error, E.ValidationFailed) else None) or []]
    body = {"error": {"code": str(error.code or error.kind), "message": error.message, "details": details}}
    return body, error.status, {}
