"""Schemathesis against the Click2Sync storefront, in-process, with a fixed seed."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mocks import create_app

APP = create_app({"state": "memory", "testing": True, "seed": 1, "apis": ["click2sync"]})
KEY = {"C2SKey": "c2s-demo-key"}
schema = schemathesis.openapi.from_wsgi("/click2sync/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_click2sync_conforms(case):
    case.call_and_validate(headers=KEY, checks=CHECKS)
