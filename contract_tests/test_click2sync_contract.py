"""Schemathesis against the Click2Sync storefront, in-process, with a fixed seed.

Positive and negative data, the checks the contract promises, and the stateful phase through the
OpenAPI links (create -> read by id -> update). Shared set-up: contract_tests/conftest.py.
"""
from __future__ import annotations

from contract_tests.conftest import CHECKS, contract_app, examples, header_auth, load_schemas, stateful, stateful_settings

APP = contract_app("click2sync")
SETTINGS = examples(fast=40, deep=400)

schema, negative = load_schemas(APP, "click2sync", header_auth("C2SKey", "c2s-demo-key"))


def validate(case, response):
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@SETTINGS
def test_positive_data_conforms(case):
    case.call_and_validate(checks=CHECKS)


@negative.parametrize()
@SETTINGS
def test_negative_data_is_rejected(case):
    case.call_and_validate(checks=CHECKS)


TestStateful = stateful(schema, APP, validate, stateful_settings(fast=15, deep=150, steps=6, deep_steps=12))
