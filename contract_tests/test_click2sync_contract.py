"""Schemathesis against the Click2Sync storefront, in-process, with a fixed seed.

Positive and negative data, the checks the contract promises, and the stateful phase through the
OpenAPI links (create -> read by id -> update).
"""
from __future__ import annotations

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

APP = create_app({"state": "memory", "testing": True, "seed": 1, "apis": ["click2sync"]})
KEY = {"C2SKey": "c2s-demo-key"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, positive_data_acceptance, ignored_auth]
DEEP = bool(os.environ.get("CONTRACT_DEEP"))  # make contract-deep
SETTINGS = settings(max_examples=400 if DEEP else 40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

schema = schemathesis.openapi.from_wsgi("/click2sync/openapi.json", APP)
negative = schemathesis.openapi.from_wsgi("/click2sync/openapi.json", APP)
# Unknown query parameters are ignored, as web stores (and the real APIs) do: not a violation.
negative.config.generation.update(modes=[GenerationMode.NEGATIVE])
schema.config.generation.update(modes=[GenerationMode.POSITIVE])


class C2SKeyAuth:
    """The demo key on every request; ignored_auth probes without it and with a wrong one."""

    def get(self, case, ctx):
        return KEY["C2SKey"]

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "C2SKey": data}


for s in (schema, negative):
    s.config.generation.update(allow_extra_parameters=False)
    s.auth()(C2SKeyAuth)


@schema.parametrize()
@SETTINGS
def test_positive_data_conforms(case):
    case.call_and_validate(checks=CHECKS)


@negative.parametrize()
@SETTINGS
def test_negative_data_is_rejected(case):
    case.call_and_validate(checks=CHECKS)


StateMachine = schema.as_state_machine()


class TestStateful(StateMachine.TestCase):  # type: ignore[name-defined, misc]
    settings = settings(max_examples=150 if DEEP else 15, stateful_step_count=12 if DEEP else 6, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck))


StateMachine.validate_response = lambda self, response, case, **kw: case.validate_response(response, checks=CHECKS)
# Every run starts from the seeded state, so Hypothesis can replay a run exactly.
StateMachine.setup = lambda self: APP.extensions["sandbox"].reset("click2sync")
