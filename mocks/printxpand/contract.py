"""The PrintXpand contract, written once here and rendered into ``schemas/printxpand/``.

Every API's contract.py says the same two things (see ``tools/contracts.py``): :data:`SCHEMAS`,
its folder under ``schemas/`` (found by :func:`mocks.core.contracts.schemas_root`), and
:func:`render`, the files it generates there. ``python -m tools.contracts printxpand`` rewrites
``openapi.yaml`` and the ``*.schema.json`` files; ``tests/test_contracts.py`` fails when the
committed files differ from this source.

Request bodies: the gateway rejects a body whose *structure* is wrong (no ``{"<entity>": ...}``,
the wrong container type, more than :data:`MAX_ITEMS` items) with a 400 in the bulk envelope.
Each *item* is ``anyOf`` [anything, the documented item]: the documented item is what the field
tables describe (and what schemathesis generates), and anything else still reaches the model,
which answers it in the item's own result (404 with the document's message), as the real
extension validates item by item.
"""
from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from mocks.core.coerce import NOT_BLANK
from mocks.printxpand.models.batch import MAX_ITEMS
from mocks.printxpand.models.fields import OPTION_GROUPS, PRICE_TYPES, SPACE

#: the contract's folder under ``schemas/``
SCHEMAS = "printxpand"
BASE = "https://commerce-sandbox.invalid/schemas/printxpand/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

ID = {"type": ["string", "integer"], "minLength": 1, "pattern": "^[A-Za-z0-9_.-]+$", "exclusiveMinimum": 0,
      "description": "an id as the integration knows it: a string (the tables) or a number (several examples)"}
#: a decimal of 0 or more as the models read it (fields.number_or_blank), whitespace around it SPACE
_DECIMAL_TEXT = rf"^{SPACE}*[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+){SPACE}*$"
REQUIRED_DECIMAL = {"type": ["string", "number"], "minLength": 1, "pattern": _DECIMAL_TEXT, "minimum": 0,
                    "description": "a decimal of 0 or more, usually sent as a string"}
# "" by const, not by a pattern "^$": Python's $ also matches before a last "\n", ECMAScript's does not
DECIMAL = {"type": ["string", "number"], "anyOf": [{"const": ""}, {"pattern": _DECIMAL_TEXT}], "minimum": 0,
           "description": "a decimal of 0 or more, usually sent as a string; \"\" means none"}
FLAG = {"enum": [0, 1, "0", "1"], "description": "0 or 1 (the strings \"0\"/\"1\" too)"}
WHOLE = {"type": ["integer", "string"], "minimum": 0, "pattern": "^[0-9]+$", "description": "a whole number"}
TEXT = {"type": "string"}
ANYTHING_ELSE = {"description": "anything else is read too and answered in the item's own result "
                                "(404 with the document's message)"}


def item(ref: str) -> dict[str, Any]:
    # "anything" first: a validator stops at the first branch that holds, so the gateway does not
    # walk the documented shape of 1,000 items only to let them all through anyway
    return {"anyOf": [ANYTHING_ELSE, {"$ref": f"#/$defs/{ref}"}]}


def create_schema(root: str, title: str, description: str, defs: dict[str, Any], ref: str) -> dict[str, Any]:
    return {
        "$schema": DIALECT, "$id": f"{BASE}{root}-create.schema.json", "title": title, "description": description,
        "type": "object",
        "properties": {root: {
            "type": "object", "maxProperties": MAX_ITEMS,
            "description": f"up to {MAX_ITEMS} items keyed by id (the key only orders them; each item carries "
                           "its own id); answered one result per item, in this order",
            "additionalProperties": item(ref)}},
        "required": [root], "$defs": defs,
    }


def delete_schema(root: str, title: str) -> dict[str, Any]:
    return {
        "$schema": DIALECT, "$id": f"{BASE}{root}-delete.schema.json", "title": title, "type": "object",
        "properties": {root: {
            "type": "array", "maxItems": MAX_ITEMS,
            "description": f"up to {MAX_ITEMS} ids to delete; answered one result per id, in this order",
            "items": {"anyOf": [ANYTHING_ELSE, ID]}}},
        "required": [root],
    }


CUSTOMER = {"type": "object", "required": ["id"], "properties": {
    "id": ID, "first_name": TEXT, "last_name": TEXT,
    "email": {"type": "string", "description": "unique among a store's customers; only set on create"}}}

CATEGORY = {"type": "object", "required": ["id", "name"], "properties": {
    "id": ID, "name": {"type": "string", "minLength": 1, "pattern": NOT_BLANK},
    "parent_id": {"type": ["string", "integer"], "description": "0, \"\" or absent for a root category; "
                                                               "otherwise a category that exists (sync parents first)"},
    "status": {"enum": [0, 1, "0", "1", ""], "description": "0 disabled, 1 enabled (default)"}}}

IMAGES = {"type": "array", "items": {"type": "object", "required": ["src"],
                                     "properties": {"src": {"type": "string", "minLength": 1, "pattern": NOT_BLANK,
                                                            "description": "full path or URL of the image"}}}}
TIER_PRICE = {"type": "array", "items": {"type": "object", "required": ["price", "qty"], "properties": {
    "price": REQUIRED_DECIMAL,
    "qty": {"type": ["string", "number"], "exclusiveMinimum": 0,
            "pattern": rf"^{SPACE}*[0-9]*[1-9][0-9]*(\.[0-9]*)?{SPACE}*$"}}}}
OPTION_VALUE = {"type": "object", "required": ["title"], "properties": {
    "title": {"type": "string", "minLength": 1, "pattern": NOT_BLANK}, "value": TEXT, "sort_order": WHOLE,
    "price": DECIMAL, "price_type": {"enum": list(PRICE_TYPES)}, "sku": TEXT,
    "is_delete": {**FLAG, "description": "1 removes this value"}}}
_OPTION_COMMON = {"title": {"type": "string", "minLength": 1, "pattern": NOT_BLANK}, "sort_order": WHOLE,
                  "is_require": FLAG, "price": DECIMAL, "price_type": {"enum": list(PRICE_TYPES)}, "sku": TEXT}


def _option(types: list[str], extra: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "required": ["title", "type", *required],
            "properties": {**_OPTION_COMMON, "type": {"enum": types}, **extra}}


def _group(name: str) -> list[str]:
    return [t for t, g in OPTION_GROUPS.items() if g == name]


CUSTOM_OPTION = {
    "description": "a Magento custom option; the extra fields depend on the type's group",
    "oneOf": [
        _option(_group("text"), {"max_characters": WHOLE}),
        _option(_group("file"), {"file_extension": {"type": "string", "pattern": rf"^(\.?[A-Za-z0-9]{{1,10}})({SPACE}*,{SPACE}*\.?[A-Za-z0-9]{{1,10}})*$",
                                                    "description": "allowed extensions, comma separated (\"png,jpg\")"},
                                 "image_size_x": WHOLE, "image_size_y": WHOLE}),
        _option(_group("select"), {"values": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/optionValue"}}},
                required=("values",)),
        _option(_group("date"), {}),
    ]}

def _anycase(word: str) -> str:
    return "".join(f"[{c.upper()}{c}]" for c in word)


_PRODUCT_COMMON = {
    "id": ID, "price": DECIMAL, "special_price": DECIMAL, "status": FLAG, "images": IMAGES,
    "tier_price": TIER_PRICE, "custom_options": {"type": "array", "items": {"$ref": "#/$defs/customOption"}},
}
PRODUCT = {"type": "object", "required": ["id", "name", "type"], "properties": {
    **_PRODUCT_COMMON,
    "name": {"type": "string", "minLength": 1, "pattern": NOT_BLANK},
    "type": {"type": "string", "pattern": f"^({_anycase('simple')}|{_anycase('configurable')})$",
             "description": "simple or configurable (any case)"},
    "enable_product_designer": FLAG,
    "category_id": {"type": ["string", "integer"], "description": "category ids, comma separated (the examples); "
                                                                  "every one must exist: sync categories first"},
    "category_ids": {"type": ["string", "integer", "array"], "description": "the same, as the table names it"},
    "attribute_names": {"type": "string", "description": "configurable: the attribute names, comma separated"},
    "variations": {"type": ["object", "string"], "description": "configurable: sub-products keyed by id, each "
                                                                "naming one option of every attribute",
                   "additionalProperties": {"$ref": "#/$defs/variation"}},
},
    "if": {"properties": {"type": {"pattern": f"^{_anycase('configurable')}$"}}},
    "then": {"required": ["attribute_names", "variations"],
             "properties": {"attribute_names": {"minLength": 1}, "variations": {"type": "object", "minProperties": 1}}}}
VARIATION = {"type": "object", "required": ["id", "attributes"], "properties": {
    **_PRODUCT_COMMON,
    "category_id": {"type": ["string", "integer"], "description": "shown once in the examples; not used"},
    "attributes": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["name", "option"],
        "properties": {"name": {"type": "string", "minLength": 1}, "option": {"type": "string", "minLength": 1}}}}}}

ADDRESS = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "minLength": 1, "pattern": NOT_BLANK},
    **{k: TEXT for k in ("address1", "address2", "phone", "city", "state", "country", "country_code", "zip")}}}
ORDER = {"type": "object", "required": ["order_id", "sub_total", "design_id", "item_price", "item_qty",
                                         "shipping_address"], "properties": {
    "order_id": ID,
    "sub_total": REQUIRED_DECIMAL,
    "status": {"type": "string", "description": "free text (the examples: Open, Success); default Open"},
    "design_id": {"type": "array", "minItems": 1, "items": ID,
                  "description": "design_id, item_price and item_qty are parallel lists of equal length"},
    "item_price": {"type": "array", "minItems": 1,
                   "items": REQUIRED_DECIMAL},
    "item_qty": {"type": "array", "minItems": 1, "items": {"type": ["integer", "string"], "minimum": 1,
                                                          "pattern": "^0*[1-9][0-9]{0,8}$"}},
    "shipping_address": ADDRESS}}

ITEM_RESULT = {"type": "object", "required": ["code", "status", "message"], "additionalProperties": False,
               "properties": {
                   "id": {"type": ["string", "integer"],
                          "description": "the item's id echoed as sent; absent when the id itself was missing or "
                                         "invalid, and in a whole-request error"},
                   # anyOf, not oneOf: the branches are disjoint, and anyOf stops at the first that holds
                   "code": {"anyOf": [{"type": "string", "pattern": "^[1-5][0-9]{2}$"},
                                      {"type": "integer", "minimum": 100, "maximum": 599}],
                            "description": "the document prints both; the sandbox sends strings (\"200\") when "
                                           "every item succeeded and integers otherwise"},
                   "status": {"enum": ["success", "error"]},
                   "message": {"type": "string"}}}

BULK_RESPONSE = {
    "$schema": DIALECT, "$id": f"{BASE}bulk-response.schema.json", "title": "Bulk response envelope",
    "description": "[{\"response\": [...]}]: one result per input item, in input order; a whole-request "
                   "error (400) is one result without an id",
    "type": "array", "minItems": 1, "maxItems": 1,
    "items": {"type": "object", "required": ["response"], "additionalProperties": False,
              "properties": {"response": {"type": "array", "items": {"$ref": "#/$defs/itemResult"}}}},
    "$defs": {"itemResult": ITEM_RESULT}}

ERROR = {
    "$schema": DIALECT, "$id": f"{BASE}error.schema.json", "title": "Magento Web API error",
    "description": "Magento 2's error body: the message keeps its placeholders (%1, %fieldName) and parameters "
                   "fills them (a list for positional, an object for named ones).",
    "type": "object", "required": ["message", "parameters"],
    "properties": {"message": {"type": "string"}, "parameters": {"type": ["array", "object"]},
                   "trace": {"type": "string"}}}

# -- the designer callback: PrintXpand -> the integrator ("Save design URL and image URL") --------
DESIGNER_REQUEST = {
    "$schema": DIALECT, "$id": f"{BASE}designer-callback-request.schema.json",
    "title": "Save design URL and image URL (PrintXpand -> your endpoint)",
    "description": "What PrintXpand POSTs (JSON) to the third party's endpoint once the Product Designer area of a "
                   "product is configured.",
    "type": "object", "required": ["image_url", "designer_url", "enable_product_designer", "integration_product_id"],
    "properties": {
        "image_url": {"type": "string", "description": "the product image with the design area"},
        "designer_url": {"type": "string", "description": "the URL of the product designer for this product"},
        "enable_product_designer": {"enum": [0, 1], "description": "1: show the designer on the product"},
        "integration_product_id": {"type": ["integer", "string"],
                                   "description": "the product's id as the integration sent it (product/create)"}}}
DESIGNER_RESPONSE = {
    "$schema": DIALECT, "$id": f"{BASE}designer-callback-response.schema.json",
    "title": "Your endpoint's answer to Save design URL and image URL",
    "description": "Success is exactly [{\"response\": \"success\"}] with a 2xx status. A request that is not the "
                   "documented payload must not be answered with success (the sandbox expects a 4xx, or a "
                   "[{\"response\": \"error\", ...}] body).",
    "oneOf": [
        {"$ref": "#/$defs/success"},
        {"$ref": "#/$defs/error"}],
    "$defs": {
        "success": {"type": "array", "minItems": 1, "maxItems": 1,
                    "items": {"type": "object", "required": ["response"],
                              "properties": {"response": {"const": "success"}}}},
        "error": {"type": "array", "minItems": 1, "maxItems": 1,
                  "items": {"type": "object", "required": ["response"],
                            "properties": {"response": {"const": "error"}, "message": {"type": "string"}}}}}}
# -- the sandbox's control route that makes that call ---------------------------------------------
CONTROL_REQUEST = {
    "$schema": DIALECT, "$id": f"{BASE}sandbox-designer-callback-request.schema.json",
    "title": "POST /__sandbox/printxpand/designer-callback",
    "description": "Make PrintXpand's designer callback now. Fields left out come from the product (when "
                   "integration_product_id names a stored product) or from deterministic defaults; url defaults to "
                   "the configured one (PUT).",
    "type": "object", "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "pattern": "^https?://", "description": "your endpoint"},
        "tenant": {"type": "string", "description": "the store (consumer tenant) whose product is meant"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
        "image_url": {"type": "string"}, "designer_url": {"type": "string"},
        "enable_product_designer": {"enum": [0, 1]},
        "integration_product_id": {"type": ["integer", "string"]}}}
CONTROL_CONFIG = {
    "$schema": DIALECT, "$id": f"{BASE}sandbox-designer-callback-config.schema.json",
    "title": "PUT /__sandbox/printxpand/designer-callback",
    "type": "object", "additionalProperties": False, "required": ["url"],
    "properties": {"url": {"type": ["string", "null"], "pattern": "^https?://",
                           "description": "your endpoint; null forgets it"}}}
CONTROL_RESPONSE = {
    "$schema": DIALECT, "$id": f"{BASE}sandbox-designer-callback-response.schema.json",
    "title": "What happened when the sandbox called your designer endpoint",
    "type": "object", "required": ["url", "request", "ok", "problems"],
    "properties": {
        "url": {"type": "string"},
        "request": {"$ref": "designer-callback-request.schema.json"},
        "status": {"type": ["integer", "null"], "description": "your HTTP status; null when no answer came"},
        "response": {"description": "your body: parsed JSON, or the text when it is not JSON"},
        "content_type": {"type": ["string", "null"]},
        "error": {"type": ["string", "null"], "description": "connection error or timeout"},
        "duration_ms": {"type": "number"},
        "ok": {"type": "boolean", "description": "2xx and exactly [{\"response\": \"success\"}]"},
        "problems": {"type": "array", "items": {"type": "string"}},
        "at": {"type": "number", "description": "sandbox clock"}}}


def schemas() -> dict[str, dict[str, Any]]:
    out = {
        "customer-create": create_schema("customer", "Create/update customers",
                                         "Creates a customer that does not exist; for an existing one only first_name "
                                         "and last_name change.", {"customer": CUSTOMER}, "customer"),
        "category-create": create_schema("category", "Create/update categories",
                                         "Creates or updates categories; a parent must exist (sync parents first).",
                                         {"category": CATEGORY}, "category"),
        "category-delete": delete_schema("category", "Delete categories"),
        "product-create": create_schema("product", "Create/update products",
                                        "Creates or updates simple and configurable products; their categories must "
                                        "exist (sync categories first).",
                                        {"product": PRODUCT, "variation": VARIATION, "customOption": CUSTOM_OPTION,
                                         "optionValue": OPTION_VALUE}, "product"),
        "product-delete": delete_schema("product", "Delete products"),
        "order-create": create_schema("order", "Create/update orders",
                                      "Creates orders; an existing order_id is updated. design_id, item_price and "
                                      "item_qty are parallel lists.", {"order": ORDER}, "order"),
        "bulk-response": BULK_RESPONSE, "error": ERROR,
        "designer-callback-request": DESIGNER_REQUEST, "designer-callback-response": DESIGNER_RESPONSE,
        "sandbox-designer-callback-request": CONTROL_REQUEST, "sandbox-designer-callback-config": CONTROL_CONFIG,
        "sandbox-designer-callback-response": CONTROL_RESPONSE,
    }
    return copy.deepcopy(out)


# -- OpenAPI ----------------------------------------------------------------------------------------
ENDPOINTS = [  # (entity path, action, schema file, operation stem, summary, description)
    ("customer", "create", "customer-create", "createCustomers", "Create or update customers",
     "Creates each customer that does not exist yet; for an existing id only first_name and last_name are updated. "
     "A new customer whose email another customer already has fails with 400."),
    ("category", "create", "category-create", "createCategories", "Create or update categories",
     "Creates or updates each category; name required, status 0/1, a parent_id must exist (or be 0)."),
    ("category", "delete", "category-delete", "deleteCategories", "Delete categories",
     "Deletes each category (with its sub-categories) and unassigns products from it; an unknown id fails with 404."),
    ("product", "create", "product-create", "createProducts", "Create or update products",
     "Creates or updates simple and configurable products; every category named must exist (sync categories first)."),
    ("product", "delete", "product-delete", "deleteProducts", "Delete products",
     "Deletes each product; an unknown id fails with 404."),
    ("order", "create", "order-create", "createOrders", "Create or update orders",
     "Creates each order (an existing order_id is updated). design_id, item_price and item_qty must have the same "
     "length; shipping_address.name is required."),
]
VARIANTS = [("/rest/V1", "/", ""), ("/rest/V1", "", "NoSlash"), ("/V1", "/", "Short"), ("/V1", "", "ShortNoSlash")]
STATUS_TEXT = (" The HTTP status: 200 when every item succeeded, 201 when some did (the document's \"partially "
               "succeeded\"), 400 when none did and one failed with 400, else 404; a request that cannot be read as "
               "the documented structure (or has more than %d items) is a 400 with one result and nothing is stored."
               % MAX_ITEMS)

_ID0 = "$response.body#/0/response/0/id"
LINKS = {  # create -> update (create again) -> delete, through the first result's id
    "createCategories": {
        "UpdateCategory": {"operationId": "createCategories",
                           "requestBody": {"category": {"1": {"id": _ID0, "name": "Renamed", "parent_id": 0, "status": 1}}}},
        "DeleteCategory": {"operationId": "deleteCategories", "requestBody": {"category": [_ID0]}}},
    "createProducts": {
        "UpdateProduct": {"operationId": "createProducts",
                          "requestBody": {"product": {"1": {"id": _ID0, "name": "Renamed", "type": "simple"}}}},
        "DeleteProduct": {"operationId": "deleteProducts", "requestBody": {"product": [_ID0]}}},
}


def _bulk_responses(schema_file: str, links: dict[str, Any] | None) -> dict[str, Any]:
    ok = {"application/json": {"schema": {"$ref": "bulk-response.schema.json"}}}
    responses: dict[str, Any] = {
        "200": {"description": "Every item succeeded (item codes are the strings \"200\")", "content": ok},
        "201": {"description": "Some items succeeded, some failed (item codes are integers)", "content": ok},
        "400": {"$ref": "#/components/responses/BulkBadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "404": {"$ref": "#/components/responses/BulkNotFound"},
        "413": {"$ref": "#/components/responses/TooLarge"},
        "429": {"$ref": "#/components/responses/TooManyRequests"},
        "5XX": {"$ref": "#/components/responses/ServerError"},
    }
    if links:
        for status in ("200", "201"):
            responses[status] = {**responses[status], "links": copy.deepcopy(links)}
    return responses


def _operation(op_id: str, summary: str, description: str, schema_file: str, links: dict[str, Any] | None) -> dict:
    return {"operationId": op_id, "summary": summary, "description": description + STATUS_TEXT,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"{schema_file}.schema.json"}}}},
            "responses": _bulk_responses(schema_file, links)}


def _token_operation(op_id: str, summary: str, description: str) -> dict[str, Any]:
    return {"operationId": op_id, "summary": summary, "description": description, "security": [{"oauth1": []}],
            "requestBody": {"required": False, "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object",
                                                                 "additionalProperties": {"type": "string"}}},
                "application/json": {"schema": {"description": "ignored: the OAuth parameters travel in the "
                                                               "Authorization header"}}}},
            "responses": {
                # form-encoded, so no JSON Schema: the gateway validates JSON bodies only
                "200": {"description": "form-encoded: oauth_token=<32 chars>&oauth_token_secret=<32 chars>",
                        "content": {"application/x-www-form-urlencoded": {}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/OAuthFailed"},
                "413": {"$ref": "#/components/responses/TooLarge"},
                "429": {"$ref": "#/components/responses/TooManyRequests"},
                "5XX": {"$ref": "#/components/responses/ServerError"}}}


def openapi() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/oauth/token/request": {"post": _token_operation(
            "requestToken", "OAuth 1.0a: get a request token",
            "Signed with the consumer key and secret (no token). The endpoint checks the OAuth signature itself.")},
        "/oauth/token/access": {"post": _token_operation(
            "accessToken", "OAuth 1.0a: exchange a request token for an access token",
            "Signed with the consumer secret and the request token secret; carries oauth_token and the "
            "integration's oauth_verifier. A request token is exchanged once.")},
    }
    for entity, action, schema_file, stem, summary, description in ENDPOINTS:
        for prefix, slash, suffix in VARIANTS:
            path = f"{prefix}/{entity}/{action}{slash}"
            op_id = stem + suffix
            links = None
            if not suffix and stem in LINKS:
                links = LINKS[stem]
            desc = description if not suffix else f"Same as {stem} (path variant {path})."
            entry = {"post": _operation(op_id, summary, desc, schema_file, links)}
            if entity == "order":
                get = _operation(op_id + "ByGet", summary, desc + " The document lists GET/POST; a GET carries "
                                                                  "the same JSON body.", schema_file, None)
                entry = {"get": get, **entry}
            paths[path] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "PrintXpand custom API (commerce-sandbox)", "version": "1.1",
                 "description": "The PrintXpand Magento 2 extension's bulk endpoints (customers, categories, "
                                "products, orders) behind Magento's OAuth 1.0a, as the sandbox implements them. "
                                "Every bulk call answers [{\"response\": [{id, code, status, message}, ...]}], one "
                                "result per input item in input order. OAuth failures and unknown routes use "
                                "Magento's {\"message\", \"parameters\"} body. Every bulk path is listed four times "
                                "(/rest/V1 and /V1, with and without the trailing slash): the gateway matches "
                                "paths literally. Generated from mocks/printxpand/contract.py."},
        "jsonSchemaDialect": DIALECT,
        "security": [{"oauth1": []}, {"integrationBearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "oauth1": {"type": "apiKey", "in": "header", "name": "Authorization",
                           "description": "OAuth 1.0a (RFC 5849) as Magento 2 does it: `Authorization: OAuth "
                                          "oauth_consumer_key=..., oauth_token=..., oauth_signature_method=HMAC-SHA1|"
                                          "HMAC-SHA256, oauth_timestamp=..., oauth_nonce=..., oauth_version=1.0, "
                                          "oauth_signature=...`. Query and form parameters are signed, a JSON body is "
                                          "not. Timestamps within 600 s of the server clock; each nonce once per "
                                          "consumer."},
                "integrationBearer": {"type": "http", "scheme": "bearer",
                                      "description": "Magento's integration access token used as a bearer token."}},
            "responses": {
                "BulkBadRequest": {
                    "description": "Every item failed and one with 400, or the request is not the documented "
                                   "structure / has too many items (one result without an id; nothing stored)",
                    "content": {"application/json": {"schema": {"$ref": "bulk-response.schema.json"}}}},
                "BulkNotFound": {
                    "description": "Every item failed with 404 (bulk envelope)",
                    "content": {"application/json": {"schema": {"$ref": "bulk-response.schema.json"}}}},
                **{name: {"description": text, "content": {"application/json": {"schema": {
                    "$ref": "error.schema.json"}}}} for name, text in (
                    ("BadRequest", "The request cannot be read (Magento error body)"),
                    ("Unauthorized", "Missing or invalid OAuth signature or token (Magento error body)"),
                    ("OAuthFailed", "The OAuth request failed verification (Magento error body)"),
                    ("TooLarge", "Body over the size limit (Magento error body)"),
                    ("TooManyRequests", "Rate limited (scenario; Magento error body)"),
                    ("ServerError", "Server error (scenario; Magento error body)"))}}},
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors: plain, diffable YAML
        return True


def render() -> dict[str, str]:
    """file name -> text, exactly as committed."""
    out = {f"{name}.schema.json": json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
           for name, schema in schemas().items()}
    out["openapi.yaml"] = ("# Generated from mocks/printxpand/contract.py (python -m tools.contracts printxpand); "
                           "edit that, not this.\n" + yaml.dump(openapi(), Dumper=_Dumper, sort_keys=False,
                                                                width=120, allow_unicode=True))
    return out
