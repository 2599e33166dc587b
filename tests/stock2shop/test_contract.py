"""Schemathesis against the Stock2Shop contract, in-process, with a fixed seed: no 500s, every
status documented, every body in its schema, malformed input rejected."""
from __future__ import annotations

import os

import pytest

if not os.environ.get("S2S_FUZZ"):
    pytest.skip("schemathesis fuzzing of Stock2Shop is opt-in: S2S_FUZZ=1", allow_module_level=True)
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode  # noqa: E402

from mocks import create_app  # noqa: E402

APP = create_app({"state": "memory", "testing": True, "seed": 1, "apis": ["stock2shop"],
                  "options": {"stock2shop": {"products": 30, "orders": 10, "customers": 10,
                                             "token_ttl_seconds": 10 ** 9}}})
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SETTINGS = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def _token() -> str:
    r = APP.test_client().post("/stock2shop/v1/users/authenticate",
                               json={"system_user_auth": {"username": "admin91", "password": "admin91-s2s-demo"}})
    return r.json["system_user"]["token"]


TOKEN = _token()
schema = schemathesis.openapi.from_wsgi("/stock2shop/openapi.json", APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                allow_extra_parameters=False)


@schema.auth()
class TokenAuth:
    def get(self, case, ctx):
        return TOKEN

    def set(self, case, data, ctx):
        case.query = {**(case.query or {}), "token": data}


@schema.parametrize()
@SETTINGS
def test_contract(case):
    case.call_and_validate(checks=CHECKS)
    violations = [v for v in APP.extensions["sandbox"].store.values("__sandbox__/violations")
                  if v["direction"] == "response"]
    assert not violations, violations
