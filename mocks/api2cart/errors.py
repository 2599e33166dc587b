"""API2Cart return codes and the one place any error becomes the API2Cart envelope.

API2Cart answers every call with HTTP 200 and ``{"return_code", "return_message", "result"}``:
``return_code`` 0 is success, anything else an error (``result`` is then ``{}``). The 27 codes
are declared once below; every error this package raises is an :class:`A2CError` carrying one of
them, and :func:`error_body` maps the core's generic errors (failed validation, unknown route,
rate limit, internal error...) onto the same codes.
"""
from __future__ import annotations

import ast
import re
from typing import Any, Iterable

from mocks.core import errors as E
from mocks.core.coerce import is_ascii_digits

#: return_code -> the vendor's message for it (the default ``return_message``)
RETURN_CODES: dict[int, str] = {
    0: "",
    1: "Service not available",
    2: "Incorrect API Key",
    3: "Method not specified",
    4: "Store access denied",
    5: "API access denied",
    6: "API key is disabled",
    7: "Store request limit exceeded",
    8: "Store already exists",
    9: "Internal service error",
    10: "Account request limit exceeded",
    100: "Incorrect store URL or the store is not reachable",
    101: "Incorrect store key",
    102: "Bridge not found",
    103: "Incorrect store credentials",
    104: "Store is not connected",
    105: "FTP connection failed",
    106: "FTP store directory is incorrect",
    107: "Bridge upload failed",
    109: "Incorrect parameters",
    110: "Too many requests to the store's API",
    111: "Too many items requested",
    112: "Item not found",
    113: "Entity already exists",
    114: "Required parameter is not specified",
    115: "Method is not supported by the cart",
    116: "Store has not finished processing the previous request",
}

#: generic sandbox error kinds -> return_code
KIND_CODES: dict[str, int] = {
    "bad_request": 109,
    "malformed_body": 109,
    "validation": 109,
    "unauthorized": 2,
    "forbidden": 5,
    "not_found": 3,
    "method_not_allowed": 109,
    "conflict": 113,
    "payload_too_large": 109,
    "unsupported_media_type": 109,
    "too_many_requests": 7,
    "internal": 9,
}

#: injected HTTP statuses -> return_code (when a scenario does not name one)
STATUS_CODES: dict[int, int] = {401: 2, 403: 5, 404: 3, 409: 113, 429: 7, 500: 9, 502: 1, 503: 1, 504: 1}


class A2CError(E.SandboxError):
    """An API2Cart error: HTTP 200 with a non-zero return_code."""

    status, kind = 200, "api2cart"

    def __init__(self, return_code: int, message: str | None = None, *, status: int = 200) -> None:
        if return_code not in RETURN_CODES or return_code == 0:
            raise ValueError(f"undocumented return_code {return_code}")
        self.return_code = return_code
        super().__init__(message or RETURN_CODES[return_code], status=status, code=return_code)


def incorrect_api_key() -> A2CError:
    return A2CError(2)


def unknown_method(name: str) -> A2CError:
    return A2CError(3, f"Method '{name}' is not specified or does not exist" if name else RETURN_CODES[3])


def store_access_denied() -> A2CError:
    return A2CError(4)


def not_found(entity: str, ident: Any) -> A2CError:
    return A2CError(112, f"{entity} with ID '{ident}' not found")


def exists(message: str) -> A2CError:
    return A2CError(113, message)


def required(name: str) -> A2CError:
    return A2CError(114, f"Parameter '{name}' is required")


def invalid(name: str, type_hint: str | None = None) -> A2CError:
    if type_hint:
        return A2CError(109, f"Parameter '{name}' is not valid. The required type of parameter is {type_hint}.")
    return A2CError(109, f"Parameter '{name}' is not valid.")


def too_many(maximum: int) -> A2CError:
    return A2CError(111, f"Too many items requested. Parameter 'count' must not be greater than {maximum}.")


def not_supported(method: str, cart_id: str) -> A2CError:
    return A2CError(115, f"Method '{method}' is not supported by the cart '{cart_id}'")


# -- rendering --------------------------------------------------------------------------------
_TYPE_WORDS = {"integer": "integer", "number": "decimal", "boolean": "boolean", "string": "string",
               "array": "array", "object": "object"}


def not_allowed(name: str, allowed: Iterable[Any]) -> A2CError:
    """A value outside a parameter's set, worded as the sandbox's other enum refusals are
    (``Parameter 'sort_direction' is not valid. Allowed values: asc, desc.``)."""
    values = [str(v) for v in allowed]
    if not values:
        return invalid(name)
    return A2CError(109, f"Parameter '{name}' is not valid. Allowed values: {', '.join(values)}.")


def _enum_values(reason: str) -> list[Any]:
    """The allowed values from a JSON Schema ``enum`` failure (``'x' is not one of ['a', 'b']``)."""
    m = re.search(r"is not one of (\[.*\])\s*$", reason, re.S)
    if m is None:
        return []
    try:
        values = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return []
    return list(values) if isinstance(values, (list, tuple)) else []


def _param_name(pointer: str) -> str:
    parts = [p for p in pointer.split("/") if p and not is_ascii_digits(p)]
    if parts and parts[0] in ("query", "header", "path", "body"):
        parts = parts[1:]
    return parts[-1] if parts else "body"


def _type_hint(reason: str, schema_type: str | None = None) -> str | None:
    m = re.search(r"is not of type '(\w+)'", reason)
    t = m.group(1) if m else schema_type
    if re.search(r"is less than the minimum of 0", reason):
        return "unsigned integer"
    return _TYPE_WORDS.get(t or "", None)


def validation_error(errors: list[dict[str, str]]) -> A2CError:
    """The first problem the gateway found, in the vendor's words."""
    if not errors:
        return A2CError(109)
    first = errors[0]
    reason, pointer = first.get("reason", ""), first.get("pointer", "")
    m = re.search(r"'([^']+)' is a required (?:property|query parameter|header parameter)", reason)
    if m:
        return required(m.group(1))
    name = _param_name(pointer)
    if pointer.startswith("/body") and pointer.count("/") == 1:
        return A2CError(109, "Incorrect parameters. The request body must be a JSON object.")
    hint = _type_hint(reason)
    if name in ("start", "count") and hint in ("integer", None):
        hint = "unsigned integer"
    if "is not one of" in reason:
        return not_allowed(name, _enum_values(reason))
    return invalid(name, hint)


def from_error(error: E.SandboxError) -> A2CError:
    if isinstance(error, A2CError):
        return error
    if isinstance(error, E.ValidationFailed):
        return validation_error(error.errors)
    if isinstance(error.code, int) and error.code in RETURN_CODES and error.code:
        return A2CError(error.code, error.message if error.message != type(error).default_message else None)
    if error.kind == "not_found":
        return unknown_method("")
    if error.kind in ("malformed_body", "payload_too_large", "unsupported_media_type", "bad_request",
                      "uri_too_long", "headers_too_large", "request_timeout"):  # refused at the edge
        return A2CError(109, f"Incorrect parameters. {error.message}")
    code = STATUS_CODES.get(error.status) if error.status >= 500 else None
    return A2CError(code or KIND_CODES.get(error.kind, 9))


def envelope(return_code: int, message: str, result: Any = None) -> dict[str, Any]:
    return {"return_code": return_code, "return_message": message, "result": {} if result is None else result}


def error_body(error: E.SandboxError) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Every error: HTTP 200 and the envelope (an injected fault keeps the status the scenario set)."""
    a2c = from_error(error)
    return envelope(a2c.return_code, a2c.message), 200, {}


def fault_error(action: dict[str, Any]) -> A2CError:
    """The error an injected ``status`` answers with: ``return_code`` from the rule, else by status."""
    status = int(action.get("status", 200))
    code = action.get("return_code") or action.get("code")
    if not isinstance(code, int) or code not in RETURN_CODES or code == 0:
        code = STATUS_CODES.get(status, 9 if status >= 500 else 109)
    return A2CError(code, action.get("message"), status=status)
