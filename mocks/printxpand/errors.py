"""PrintXpand errors and their one body shape: Magento 2's Web API error.

Magento renders every exception of a REST call as ``{"message": ..., "parameters": ...}`` where
``message`` keeps its placeholders (``%1`` or ``%fieldName``) and ``parameters`` fills them: a
list for positional ``%1``, an object for named ones, ``[]`` when there are none.
``error_body`` is the one place that renders any :class:`~mocks.core.errors.SandboxError` that way.
"""
from __future__ import annotations

import re
from typing import Any

from mocks.core import errors as E

#: Magento's text for a REST call that reached no authorised user
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
REQUIRED_FIELD = '"%fieldName" is required. Enter and try again.'
NO_ROUTE = "Request does not match any route."


class MagentoError(E.SandboxError):
    """A Magento-shaped error: message with placeholders plus its parameters."""

    def __init__(self, message: str, parameters: Any = None, **kw: Any) -> None:
        self.parameters = [] if parameters is None else parameters
        super().__init__(message, **kw)


class OAuthFailed(MagentoError, E.Unauthorized):
    """Any OAuth 1.0a / bearer failure (401)."""


def signature_invalid() -> OAuthFailed:
    return OAuthFailed("The signature is invalid. Verify and try again.")


def signature_method_unsupported(method: str) -> OAuthFailed:
    return OAuthFailed("Signature method %1 is not supported", [method])


def required_field(name: str) -> OAuthFailed:
    return OAuthFailed(REQUIRED_FIELD, {"fieldName": name})


def version_unsupported(version: str) -> OAuthFailed:
    return OAuthFailed('The "%1" Oauth version isn\'t supported.', [version])


def bad_timestamp() -> OAuthFailed:
    return OAuthFailed("Incorrect timestamp value in the oauth_timestamp parameter")


def nonce_used(consumer_id: str) -> OAuthFailed:
    return OAuthFailed("The nonce is already being used by the consumer with ID %1", [consumer_id])


def unknown_consumer() -> OAuthFailed:
    return OAuthFailed("A consumer having the specified key does not exist")


def unknown_token() -> OAuthFailed:
    return OAuthFailed("Specified token does not exist")


def token_not_of_consumer() -> OAuthFailed:
    return OAuthFailed("Token is not associated with the specified consumer")


def token_not_access() -> OAuthFailed:
    return OAuthFailed("Token is not an access token")


def token_not_request() -> OAuthFailed:
    return OAuthFailed("Specified token is not a request token")


def token_revoked() -> OAuthFailed:
    return OAuthFailed("Access token has been revoked")


def token_used() -> OAuthFailed:
    return OAuthFailed("Token is already being used")


def verifier_invalid() -> OAuthFailed:
    return OAuthFailed("Verifier is invalid")


def not_authorized(resource: str) -> OAuthFailed:
    return OAuthFailed(NOT_AUTHORIZED, {"resources": resource})


class BadStructure(MagentoError, E.BadRequest):
    """The body is not the documented ``{"<entity>": ...}`` structure, or carries too many items.

    A whole-request error of a bulk endpoint: answered 400 in the bulk envelope, one result
    without an id (see :func:`error_body`); nothing is stored.
    """


def _shape(root: str) -> str:
    return f'{{"{root}": ["<id>", ...]}}' if _action() == "delete" else f'{{"{root}": {{"<id>": {{...}}, ...}}}}'


def _action() -> str:
    """``create`` or ``delete``: the action of the bulk path this request reached."""
    match = BULK_PATH.search(_request_path())
    return match.group(2) if match else "create"


def missing_root(name: str) -> BadStructure:
    return BadStructure(f'"{name}" is required: send {_shape(name)}.')


def wrong_type(name: str, expected: str) -> BadStructure:
    return BadStructure(f'"{name}" must be {"an array of ids" if expected == "array" else "an object keyed by id"}: '
                        f'send {_shape(name)}.')


def too_many(name: str, count: int, limit: int) -> BadStructure:
    return BadStructure(f'Too many items: {count} in "{name}"; send at most {limit} per request.')


BULK_PATH = re.compile(r"/V1/(customer|category|product|order)/(create|delete)/?$")


def _request_path() -> str:
    try:
        from flask import request
        return request.path
    except RuntimeError:  # outside a request (a model called directly)
        return ""


def _bulk_root() -> str | None:
    match = BULK_PATH.search(_request_path())
    return match.group(1) if match else None


def _body_count(root: str) -> int:
    from mocks.core.chain.context import peek
    ctx = peek()
    body = ctx.body if ctx is not None else None
    value = body.get(root) if isinstance(body, dict) else None
    return len(value) if isinstance(value, (dict, list)) else 0


def _whole_request_message(error: E.SandboxError, root: str) -> str:
    """The message of a whole-request 400 on a bulk endpoint (rendered in the envelope)."""
    if isinstance(error, BadStructure):
        return error.message
    if isinstance(error, E.MalformedBody):
        return f"Decoding error: {error.message}"
    if isinstance(error, E.UnsupportedMediaType):
        return f"Server cannot understand Content-Type HTTP header media type: {error.message}"
    problem = _problem(error)
    pointer, validator = problem["pointer"], getattr(problem, "validator", None)
    if validator in ("maxProperties", "maxItems") and pointer == f"/body/{root}":
        return too_many(root, _body_count(root), int(problem.expected)).message
    if validator == "required" and pointer == "/body":
        return missing_root(root).message
    if validator == "type" and pointer in ("/body", f"/body/{root}"):
        return wrong_type(root, "array" if _action() == "delete" else "object").message
    return f'The request is not the documented structure: {pointer}: {problem["reason"][:200]}'


def _problem(error: E.SandboxError) -> dict[str, Any]:
    """The first validation problem (a ``mocks.core.contracts.Problem``: structured jsonschema error)."""
    errors = getattr(error, "errors", None)
    return errors[0] if errors else {"pointer": "/body", "reason": error.message}


def _expected_type(problem: Any) -> str:
    expected = getattr(problem, "expected", None)
    return ", ".join(map(str, expected)) if isinstance(expected, list) else str(expected)


def _generic(error: E.SandboxError) -> tuple[str, Any, int]:
    """Magento's own wording for the generic errors the core raises."""
    if isinstance(error, E.MalformedBody):
        return "Decoding error: \n%1", [error.message], 400
    if isinstance(error, E.ValidationFailed):
        problem = _problem(error)
        validator = getattr(problem, "validator", None)
        parts = [p for p in problem["pointer"].split("/") if p]
        if parts[:1] == ["body"] and len(parts) <= 1 and validator == "required":
            return REQUIRED_FIELD, {"fieldName": getattr(problem, "missing", None) or "body"}, 400
        field = ("/".join(parts[1:]) or parts[0]) if parts else "body"
        if validator == "type":
            return ('The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
                    {"value": field, "type": _expected_type(problem)}, 400)
        return 'Invalid value of "%value" provided for the %fieldName field.', \
            {"value": problem["reason"][:200], "fieldName": field}, 400
    if isinstance(error, E.UnsupportedMediaType):
        return "Server cannot understand Content-Type HTTP header media type %1", [error.message], 400
    if isinstance(error, (E.NotFound, E.MethodNotAllowed)):
        return NO_ROUTE, [], 404
    if isinstance(error, E.Unauthorized):
        return NOT_AUTHORIZED, {"resources": "PrintXpand_Api::api"}, 401
    if isinstance(error, E.InternalError) or error.status >= 500:
        return "Internal Error. Details are available in Magento log file. Report ID: %1", \
            ["webapi-sandbox"], error.status
    return error.message, [], error.status


def error_body(error: E.SandboxError) -> tuple[Any, int, dict[str, str]]:
    root = _bulk_root()
    if root is not None and isinstance(error, (BadStructure, E.MalformedBody, E.ValidationFailed,
                                               E.UnsupportedMediaType)):
        # a bulk call that cannot be read at all: 400 in the bulk envelope, one result, no id
        message = _whole_request_message(error, root)
        return [{"response": [{"code": 400, "status": "error", "message": message}]}], 400, {}
    if isinstance(error, MagentoError):
        return {"message": error.message, "parameters": error.parameters}, error.status, {}
    message, parameters, status = _generic(error)
    return {"message": message, "parameters": parameters}, status, {}
