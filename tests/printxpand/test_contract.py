"""Schemathesis against PrintXpand in-process: generated requests for every operation (bearer
auth), no 5XX, every status and body as the OpenAPI document says, 401 without credentials.

Per-item validation means a schema-valid batch may still fail item by item (404/400 with the
envelope), so ``positive_data_acceptance`` does not apply; POST bodies that break the schema must be 400.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from mocks import create_app
from mocks.printxpand.oauth import DEMO_CONSUMERS
from tests.conftest import response_violations

APP = create_app({"state": "memory", "testing": True, "seed": 1, "apis": ["printxpand"]})
TOKEN = DEMO_CONSUMERS[0].access_token
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SETTINGS = settings(max_examples=5, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

schema = schemathesis.openapi.from_wsgi("/printxpand/openapi.json", APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE], allow_extra_parameters=False)
negative = schemathesis.openapi.from_wsgi("/printxpand/openapi.json", APP)
negative.config.generation.update(modes=[GenerationMode.NEGATIVE], allow_extra_parameters=False)


class Bearer:
    """The integration token as a bearer token (the token endpoints check OAuth themselves)."""

    def get(self, case, ctx):
        return TOKEN

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


for s in (schema, negative):
    s.auth()(Bearer)


@schema.include(path_regex="^/rest/V1/.*/$").parametrize()
@SETTINGS
def test_generated_requests_conform(case):
    case.call_and_validate(checks=[*CHECKS, ignored_auth])


@negative.include(method="POST", path_regex="^/rest/V1/.*/$").parametrize()
@SETTINGS
def test_bodies_breaking_the_schema_are_rejected(case):
    case.call_and_validate(checks=[*CHECKS, negative_data_rejection])


def test_no_response_broke_the_schema():
    assert not response_violations(APP)
