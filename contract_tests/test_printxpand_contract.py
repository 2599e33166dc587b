"""Schemathesis against PrintXpand, in-process, with a fixed seed.

Positive and negative data for every operation, the checks the contract promises, and the stateful
phase through the OpenAPI links (create -> update by creating again -> delete, by the first
result's id). Auth: the integration token as a bearer token (Magento's "integration as bearer"),
set by the ``auth`` hook (and, for two operations, OAuth 1.0a signatures made by oauthlib), so ``ignored_auth`` can probe without it; the OAuth token endpoints check
their own signature and answer 401 to schemathesis' unsigned calls, which the document declares.

``CONTRACT_DEEP=1`` runs many more examples (``make contract-deep``).

Notes on the checks:
* Items are ``anyOf`` [anything, documented item] (see mocks/printxpand/contract.py); positive
  data and the stateful phase use the documented items only (``documented_items_only``), negative
  data the document as served. A batch of well-formed items can still fail item by item (a parent category or a product's category that
  does not exist, a duplicate email), answered 404 (or 400 for a duplicate email) when every item
  failed. ``positive_data_acceptance`` therefore accepts 400 besides its defaults: the JSON Schema
  cannot say "this category exists"; the answer is still the documented envelope (checked by
  response_schema_conformance).
* Negative data can only break the structure (the root key, its type, more than 1000 items): those
  are 400 for the whole request, as negative_data_rejection expects.

Shared set-up: contract_tests/conftest.py.
"""
from __future__ import annotations

import oauthlib.oauth1
import schemathesis
from schemathesis.generation import GenerationMode

from contract_tests.conftest import (
    CHECKS,
    DEEP,
    contract_app,
    examples,
    header_auth,
    load_schemas,
    stateful,
    stateful_settings,
)
from mocks.printxpand.auth import DEMO_CONSUMERS
from mocks.printxpand.contract import ANYTHING_ELSE
from tests.conftest import response_violations

APP = contract_app("printxpand")
TOKEN = DEMO_CONSUMERS[0].access_token
SETTINGS = examples(fast=6, deep=200)
# the four path variants of an operation share everything: the fast run explores the /rest/V1/.../ ones
FAST_PATHS = "^/(oauth/.*|rest/V1/.*/)$"
ACCEPTED = ["2xx", "400", "401", "404", "429", "5xx"]


def documented_items_only(node):
    """The served document with each item's ``anyOf`` [anything, documented item] narrowed to the
    documented item: positive data and the stateful phase then send items as the field tables
    describe them (the "anything" branch only tells the gateway to let any item through to the
    per-item checks, and would make Hypothesis send junk items that all fail)."""
    if isinstance(node, dict):
        branches = node.get("anyOf")
        if isinstance(branches, list) and len(branches) == 2 and ANYTHING_ELSE in branches:
            return documented_items_only(next(b for b in branches if b != ANYTHING_ELSE))
        return {k: documented_items_only(v) for k, v in node.items()}
    if isinstance(node, list):
        return [documented_items_only(v) for v in node]
    return node


def documented() -> dict:
    return documented_items_only(APP.test_client().get("/printxpand/openapi.json").json)


# the integration token as a bearer token; ignored_auth probes without it and with a wrong one
schema, negative = load_schemas(APP, "printxpand", header_auth("Authorization", TOKEN, prefix="Bearer "),
                                positive_document=documented())
for s in (schema, negative):
    s.config.checks.positive_data_acceptance.expected_statuses = ACCEPTED


def validate(case, response):
    case.validate_response(response, checks=CHECKS)


def _paths(s):
    return s if DEEP else s.include(path_regex=FAST_PATHS)


@_paths(schema).parametrize()
@SETTINGS
def test_positive_data_conforms(case):
    case.call_and_validate(checks=CHECKS)


@_paths(negative).parametrize()
@SETTINGS
def test_negative_data_is_rejected(case):
    case.call_and_validate(checks=CHECKS)


class OAuthSigned:
    """OAuth 1.0a HMAC-SHA256 as Magento verifies it: each case signed for the URL it will reach
    (``http://localhost`` + base path + path; the JSON body is not signed), a fresh nonce each time."""

    def get(self, case, ctx):
        return DEMO_CONSUMERS[0]

    def set(self, case, data, ctx):
        client = oauthlib.oauth1.Client(data.key, client_secret=data.secret,
                                        resource_owner_key=data.access_token,
                                        resource_owner_secret=data.access_token_secret,
                                        signature_method=oauthlib.oauth1.SIGNATURE_HMAC_SHA256)
        url = "http://localhost" + signed.get_base_url() + case.formatted_path
        _, headers, _ = client.sign(url, http_method=case.method)
        case.headers = {**(case.headers or {}), "Authorization": headers["Authorization"]}


# The same positive run once more with OAuth instead of the bearer token, on one create and one
# delete operation (the other paths share the verifier).
signed = schemathesis.openapi.from_dict(documented())
signed.app, signed.location = APP, "/printxpand/openapi.json"
signed.config.generation.update(modes=[GenerationMode.POSITIVE], allow_extra_parameters=False, allow_x00=False)
signed.config.checks.positive_data_acceptance.expected_statuses = ACCEPTED
signed.auth()(OAuthSigned)


@signed.include(path_regex="^/rest/V1/(customer/create|product/delete)/$").parametrize()
@examples(fast=4, deep=20)
def test_oauth_signed_requests_conform(case):
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code != 401, response.text  # a correct signature is accepted


TestStateful = stateful(schema, APP, validate, stateful_settings(fast=4, deep=60, steps=5, derandomize=True))


def test_no_response_broke_the_schema():
    assert not response_violations(APP)
