"""Schemathesis against the Stock2Shop emulation, in-process, with a fixed seed.

Positive and negative data, the checks the contract promises, and the stateful phase through the
OpenAPI links (authenticate -> valid_token / sources / channels / search; v2-queue order -> its
queue item). ``CONTRACT_DEEP=1`` (``make contract-deep``) runs many more examples.

Stock2Shop specifics:
* every token-carrying operation gets the token of the ``admin91`` user, issued again after each
  reset of the stateful phase (a reset forgets tokens; authenticating again invalidates a user's
  earlier tokens, as the vendor documents, so no generated request authenticates as admin91);
* the search bodies type the Elasticsearch envelope only (the DSL is documented in the schema's
  ``$defs``), so positive data may hold a clause the evaluator refuses, or break a cross-field rule
  (``from + size`` above the 10,000 result window, ``search_after`` without a matching ``sort``):
  those answers are the documented 400 ``search_query_error``, accepted as positive-data answers of
  the search operations only (a 500 or a shape violation still fails);
* ``POST /v1/products/queue`` and ``/v1/images/queue`` answer 400 ``invalid_payload`` when neither
  ``source.source_id`` nor the ``source_id`` query parameter is given (a rule across body and
  query the schema cannot state), for a source the client does not have, for more than one
  variant in a product entry, and 413 for an image above 2 MB decoded; accepted likewise.

Shared set-up: contract_tests/conftest.py.
"""
from __future__ import annotations

import json

from contract_tests.conftest import (
    CHECKS,
    DEEP,
    WITHOUT_ACCEPTANCE,
    contract_app,
    examples,
    load_schemas,
    stateful,
    stateful_settings,
)
from tests.conftest import response_violations

APP = contract_app("stock2shop", {"products": 40, "orders": 15, "customers": 10, "token_ttl_seconds": 10 ** 9})
SETTINGS = examples(fast=5, deep=250)
USER = {"username": "admin91", "password": "admin91-s2s-demo"}
TOKEN: dict[str, str] = {}


def fresh_token() -> str:
    r = APP.test_client().post("/stock2shop/v1/users/authenticate", json={"system_user_auth": USER})
    assert r.status_code == 200, r.get_data(as_text=True)
    TOKEN["value"] = r.json["system_user"]["token"]
    return TOKEN["value"]


class TokenAuth:
    """``token=`` in the query string; ignored_auth probes without it and with a wrong one."""

    def get(self, case, ctx):
        return TOKEN.get("value") or fresh_token()

    def set(self, case, data, ctx):
        case.query = {**(case.query or {}), "token": data}


schema, negative = load_schemas(APP, "stock2shop", TokenAuth, refresh_interval=None)
# The coverage phase (boundary values from every schema keyword) makes hundreds of requests out of
# the deep product-queue schema: it runs with CONTRACT_DEEP=1 only for positive data; the negative
# suite keeps it (that is where boundary values find rejections that were missed).
schema.config.phases.coverage.enabled = DEEP


def _documented_refusal(case, response) -> bool:
    """A 4xx that positive data may legitimately get (see the module docstring)."""
    if response.status_code not in (400, 413):
        return False
    try:
        err = json.loads(response.content)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    path = case.operation.path
    if path.endswith("elastic_search") or path.endswith("elasticsearch"):
        return err.get("type") == "search_query_error"
    if path in ("/v1/products/queue", "/v1/images/queue"):
        return err.get("type") in ("invalid_payload", "image_too_large")
    return False


def validate(case, response) -> None:
    checks = WITHOUT_ACCEPTANCE if _documented_refusal(case, response) else CHECKS
    case.validate_response(response, checks=checks)


@schema.parametrize()
@SETTINGS
def test_positive_data_conforms(case):
    validate(case, case.call())


@negative.parametrize()
@SETTINGS
def test_negative_data_is_rejected(case):
    validate(case, case.call())


# a restore forgets tokens: every run authenticates again
TestStateful = stateful(schema, APP, validate, stateful_settings(fast=4, deep=60, steps=5), after_restore=fresh_token)


def test_no_response_broke_its_schema():
    """The gateway's own record: not one response of the runs above broke the contract."""
    violations = response_violations(APP)
    assert not violations, violations[:3]
