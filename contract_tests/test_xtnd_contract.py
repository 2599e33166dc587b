"""Schemathesis against the XTND Extend Commerce API, in-process, with a fixed seed.

Positive and negative data for every operation, the checks the contract promises, and the
stateful phase through the OpenAPI links (create order -> read it / list the customer's orders;
create customer -> read it / its prices; create webhook -> read, replace, delete it).
``CONTRACT_DEEP=1`` (``make contract-deep``) runs many more examples.
"""
from __future__ import annotations

import os
import re

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
# testing: no background sender, so webhook subscriptions to generated callback URLs send nothing
APP = create_app({"state": "memory", "testing": True, "seed": 1, "apis": ["xtnd"]})
API_KEY = "xtnd-demo-key"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, positive_data_acceptance, ignored_auth]
SETTINGS = settings(max_examples=300 if DEEP else 12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

schema = schemathesis.openapi.from_wsgi("/xtnd/openapi.json", APP)
negative = schemathesis.openapi.from_wsgi("/xtnd/openapi.json", APP)
negative.config.generation.update(modes=[GenerationMode.NEGATIVE])
schema.config.generation.update(modes=[GenerationMode.POSITIVE])


class BearerKey:
    """The demo key on every request; ignored_auth probes without it and with a wrong one."""

    def get(self, case, ctx):
        return API_KEY

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# Writes that name other records (a customer, items, a warehouse, price and discount lists) or a
# number that must be new: a schema-valid body can still break a business rule, which XTND
# answers as a validation error (400, the fields at fault named), not as a 404 or 409 (the guide
# knows three kinds of error). positive_data_acceptance would call that a rejection of valid data,
# so for these operations a 400 must name only such fields, and any other rejection still fails.
REFERENCING = {("POST", "/api/v1/CustomerOrders"), ("POST", "/api/v1/Customers"), ("POST", "/api/v1/Webhooks"),
               ("PUT", "/api/v1/Webhooks/{id}")}
BUSINESS_RULE_FIELDS = re.compile(r"orderNumber|customerNumber|warehouse|rows\[\d+\]\.itemNumber|priceList|discountList")
WITHOUT_ACCEPTANCE = [c for c in CHECKS if c is not positive_data_acceptance]


def validate(case, response):
    if (case.method.upper(), case.path) not in REFERENCING:
        case.validate_response(response, checks=CHECKS)
        return
    case.validate_response(response, checks=WITHOUT_ACCEPTANCE)
    if response.status_code == 400:
        fields = [e["field"] for e in response.json()["errors"]]
        assert fields and all(BUSINESS_RULE_FIELDS.fullmatch(f) for f in fields), response.text
    else:
        case.validate_response(response, checks=[positive_data_acceptance])


for s in (schema, negative):
    # Unknown query parameters are ignored, as most REST APIs (and the sandbox) do: not a violation.
    s.config.generation.update(allow_extra_parameters=False)
    s.auth()(BearerKey)


@schema.parametrize()
@SETTINGS
def test_positive_data_conforms(case):
    validate(case, case.call())


@negative.parametrize()
@SETTINGS
def test_negative_data_is_rejected(case):
    case.call_and_validate(checks=CHECKS)


StateMachine = schema.as_state_machine()


class TestStateful(StateMachine.TestCase):  # type: ignore[name-defined, misc]
    settings = settings(max_examples=100 if DEEP else 10, stateful_step_count=6, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck))


StateMachine.validate_response = lambda self, response, case, **kw: validate(case, response)
# Every run starts from the seeded state, so Hypothesis can replay a run exactly.
StateMachine.setup = lambda self: APP.extensions["sandbox"].reset("xtnd")
