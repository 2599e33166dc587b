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
  query the schema cannot state), and 413 for an image above 2 MB decoded; accepted likewise.
"""
from __future__ import annotations

import json
import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from mocks import create_app

DEEP = os.environ.get("CONTRACT_DEEP") == "1"
APP = create_app({"state": "memory", "testing": True, "seed": 1, "apis": ["stock2shop"],
                  "options": {"stock2shop": {"products": 40, "orders": 15, "customers": 10,
                                             "token_ttl_seconds": 10 ** 9}}})
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, positive_data_acceptance, ignored_auth]
WITHOUT_ACCEPTANCE = [c for c in CHECKS if c is not positive_data_acceptance]
SETTINGS = settings(max_examples=250 if DEEP else 5, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
USER = {"username": "admin91", "password": "admin91-s2s-demo"}

schema = schemathesis.openapi.from_wsgi("/stock2shop/openapi.json", APP)
negative = schemathesis.openapi.from_wsgi("/stock2shop/openapi.json", APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE])
negative.config.generation.update(modes=[GenerationMode.NEGATIVE])


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


# The coverage phase (boundary values from every schema keyword) makes hundreds of requests out of
# the deep product-queue schema: it runs with CONTRACT_DEEP=1 only for positive data; the negative
# suite keeps it (that is where boundary values find rejections that were missed).
schema.config.phases.coverage.enabled = DEEP
for s in (schema, negative):
    s.config.generation.update(allow_extra_parameters=False)
    s.auth(refresh_interval=None)(TokenAuth)


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


StateMachine = schema.as_state_machine()


class TestStateful(StateMachine.TestCase):  # type: ignore[name-defined, misc]
    settings = settings(max_examples=60 if DEEP else 4, stateful_step_count=5, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck))


StateMachine.validate_response = lambda self, response, case, **kw: validate(case, response)
# Every run starts from the seeded state, so Hypothesis can replay a run exactly.
def _setup(self) -> None:
    APP.extensions["sandbox"].reset("stock2shop")
    fresh_token()


StateMachine.setup = _setup


def test_no_response_broke_its_schema():
    """The gateway's own record: not one response of the runs above broke the contract."""
    violations = [v for v in APP.extensions["sandbox"].store.values("__sandbox__/violations")
                  if v["direction"] == "response"]
    assert not violations, violations[:3]
