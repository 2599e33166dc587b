"""Schemathesis against the XTND Extend Commerce API, in-process, with a fixed seed.

Positive and negative data for every operation, the checks the contract promises, and the
stateful phase through the OpenAPI links (create order -> read it / list the customer's orders;
create customer -> read it / its prices; create webhook -> read, replace, delete it).
Shared set-up: contract_tests/conftest.py.
"""
from __future__ import annotations

import re

from schemathesis.checks import positive_data_acceptance

from contract_tests.conftest import (
    CHECKS,
    WITHOUT_ACCEPTANCE,
    contract_app,
    examples,
    header_auth,
    load_schemas,
    stateful,
    stateful_settings,
)

APP = contract_app("xtnd")
SETTINGS = examples(fast=12, deep=300)

schema, negative = load_schemas(APP, "xtnd", header_auth("Authorization", "xtnd-demo-key", prefix="Bearer "))

# Writes that name other records (a customer, items, a warehouse, price and discount lists) or a
# number that must be new: a schema-valid body can still break a business rule, which XTND
# answers as a validation error (400, the fields at fault named), not as a 404 or 409 (the guide
# knows three kinds of error). positive_data_acceptance would call that a rejection of valid data,
# so for these operations a 400 must name only such fields, and any other rejection still fails.
REFERENCING = {("POST", "/api/v1/CustomerOrders"), ("POST", "/api/v1/Customers"), ("POST", "/api/v1/Webhooks"),
               ("PUT", "/api/v1/Webhooks/{id}")}
BUSINESS_RULE_FIELDS = re.compile(r"orderNumber|customerNumber|warehouse|rows\[\d+\]\.itemNumber|priceList|discountList")


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


@schema.parametrize()
@SETTINGS
def test_positive_data_conforms(case):
    validate(case, case.call())


@negative.parametrize()
@SETTINGS
def test_negative_data_is_rejected(case):
    case.call_and_validate(checks=CHECKS)


TestStateful = stateful(schema, APP, validate, stateful_settings(fast=10, deep=100, steps=6))
