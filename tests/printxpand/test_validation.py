"""The field tables' rules, item by item: each failure is the item's own result in the envelope, in
input order, and the failed item is not stored; the other items of the batch are."""
from __future__ import annotations

from typing import Any

import pytest
import yaml

from mocks.core.contracts import schemas_root
from mocks.printxpand import contract
from tests.printxpand.conftest import items

OPTIONS_BAD = "Please pass vaild custom_options: "


def products(client: Any, tenant: str) -> dict[str, Any]:
    rows = client.get(f"/__sandbox/data/printxpand/products?tenant={tenant}").json["tenants"].get(tenant, [])
    return {r["id"]: r for r in rows}


def simple(pid: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "name": f"P{pid}", "type": "simple", **extra}


def one(call: Any, product: dict[str, Any]) -> dict[str, Any]:
    r = call("POST", "/rest/V1/product/create/", {"product": {"k": product}})
    (result,) = items(r)
    return result


# -- custom options, every documented type -------------------------------------------------------
@pytest.mark.parametrize("option", [
    {"title": "Text", "type": "field", "max_characters": 100},
    {"title": "Long text", "type": "area", "max_characters": "500", "is_require": "1"},
    {"title": "Upload", "type": "file", "file_extension": "png, jpg,.gif", "image_size_x": "100", "image_size_y": 20},
    *({"title": kind, "type": kind, "values": [{"title": "A", "price": "1.5", "price_type": "percent"},
                                               {"title": "B", "sort_order": "2", "sku": "b", "is_delete": 0}]}
      for kind in ("drop_down", "radio", "checkbox", "multiple")),
    {"title": "When", "type": "date"}, {"title": "When exactly", "type": "date_time"}, {"title": "At", "type": "time"},
])
def test_every_documented_option_type_is_stored(call, client, creds, option):
    result = one(call, simple("61001", custom_options=[option]))
    assert result["code"] == "200", result
    stored = products(client, creds["tenant"])["61001"]["custom_options"][0]
    assert stored["type"] == option["type"] and stored["title"] == option["title"]
    if option["type"] == "file":
        assert (stored["file_extension"], stored["image_size_x"], stored["image_size_y"]) == ("png,jpg,.gif", "100", "20")
    if "values" in option:
        assert [v["title"] for v in stored["values"]] == ["A", "B"] and stored["values"][0]["price_type"] == "percent"


@pytest.mark.parametrize("option,reason", [
    ({"type": "field"}, 'custom_options[0] needs a title'),
    ({"title": "T"}, 'custom_options[0] ("T") has type ""'),
    ({"title": "T", "type": "select"}, 'has type "select"; use one of field, area, file, drop_down'),
    ({"title": "T", "type": "text"}, 'has type "text"'),
    ({"title": "T", "type": "drop_down"}, "of type drop_down needs a non-empty values list"),
    ({"title": "T", "type": "radio", "values": []}, "of type radio needs a non-empty values list"),
    ({"title": "T", "type": "checkbox", "values": [{"price": 1}]}, "values[0] needs a title"),
    ({"title": "T", "type": "multiple", "values": [{"title": "x", "price": "cheap"}]}, "values[0] price must be a decimal"),
    ({"title": "T", "type": "drop_down", "values": [{"title": "x", "is_delete": 5}]}, "values[0] is_delete must be 0 or 1"),
    ({"title": "T", "type": "file", "file_extension": "png;exe"}, "file_extension must be extensions"),
    ({"title": "T", "type": "file", "image_size_x": "wide"}, "image_size_x must be a whole number of pixels"),
    ({"title": "T", "type": "field", "max_characters": -1}, "max_characters must be a whole number"),
    ({"title": "T", "type": "date", "is_require": 2}, "is_require must be 0 or 1"),
    ({"title": "T", "type": "time", "price_type": "weird"}, "price_type must be fixed or percent"),
    ({"title": "T", "type": "area", "sort_order": "first"}, "sort_order must be a whole number"),
    ({"title": "T", "type": "field", "price": "abc"}, "price must be a decimal"),
    ("just text", "custom_options[0] must be an object"),
])
def test_bad_custom_options_fail_their_item(call, client, creds, option, reason):
    r = call("POST", "/rest/V1/product/create/", {"product": {
        "a": simple("61002", custom_options=[option]), "b": simple("61003")}})
    assert r.status_code == 201
    bad, good = items(r)
    assert bad["id"] == "61002" and bad["code"] == 404 and bad["status"] == "error"
    assert bad["message"].startswith(OPTIONS_BAD) and reason in bad["message"], bad["message"]
    assert good == {"id": "61003", "code": 200, "status": "success", "message": "Product Created Successfully!"}
    assert "61002" not in products(client, creds["tenant"])


def test_is_delete_drops_a_value(call, client, creds):
    option = {"title": "Color", "type": "drop_down", "values": [{"title": "Red"}, {"title": "Old", "is_delete": 1}]}
    assert one(call, simple("61004", custom_options=[option]))["code"] == "200"
    assert [v["title"] for v in products(client, creds["tenant"])["61004"]["custom_options"][0]["values"]] == ["Red"]


# -- tier prices, images, status flags -------------------------------------------------------------
@pytest.mark.parametrize("change,message", [
    ({"tier_price": [{"price": "50"}]}, "Please pass vaild tier_price"),
    ({"tier_price": [{"price": "x", "qty": "1"}]}, "Please pass vaild tier_price"),
    ({"tier_price": [{"price": "5", "qty": "0"}]}, "Please pass vaild tier_price"),
    ({"tier_price": {"price": "5", "qty": "1"}}, "Please pass vaild tier_price"),
    ({"images": [{"url": "x"}]}, "Please pass vaild images"),
    ({"images": ["image_src"]}, "Please pass vaild images"),
    ({"images": [{"src": " "}]}, "Please pass vaild images"),
    ({"status": 3}, "Please pass vaild status: 0 or 1."),
    ({"enable_product_designer": "yes"}, "Please pass vaild enable_product_designer: 0 or 1."),
    ({"name": {"en": "x"}}, "Please pass the proper product data like id,name and type."),
    ({"type": "bundle"}, "Please pass the proper product data like id,name and type."),
])
def test_product_field_rules(call, change, message):
    result = one(call, simple("61010", **change))
    assert result["code"] == 404 and result["id"] == "61010" and result["message"].startswith(message), result


def test_tier_prices_and_images_are_stored_as_sent(call, client, creds):
    tiers = [{"price": "50", "qty": "15"}, {"price": 40, "qty": 20}]
    assert one(call, simple("61011", tier_price=tiers, images=[{"src": "https://x/y.png"}]))["code"] == "200"
    stored = products(client, creds["tenant"])["61011"]
    assert stored["tier_price"] == [{"price": "50", "qty": "15"}, {"price": "40", "qty": "20"}]
    assert stored["images"] == [{"src": "https://x/y.png"}]


# -- sync category first ---------------------------------------------------------------------------
def test_a_product_in_a_category_that_does_not_exist_is_saved_but_not_assigned_to_it(call, client, creds):
    """The document: "sync category first either product is not assigned in the category"."""
    r = call("POST", "/rest/V1/product/create/", {"product": {
        "a": simple("61020", category_id="102,777,778"), "b": simple("61021", category_ids="102, 1001")}})
    assert items(r) == [
        {"id": "61020", "code": "200", "status": "success", "message": "Product Created Successfully!"},
        {"id": "61021", "code": "200", "status": "success", "message": "Product Created Successfully!"}]
    stored = products(client, creds["tenant"])
    assert stored["61020"]["category_ids"] == ["102"] and stored["61021"]["category_ids"] == ["102", "1001"]
    # after the categories are synced, sending the product again assigns it
    call("POST", "/rest/V1/category/create/", {"category": {"777": {"id": "777", "name": "New"},
                                                            "778": {"id": "778", "name": "Newer", "parent_id": "777"}}})
    assert one(call, simple("61020", category_id="102,777,778"))["message"] == "Product Updated Successfully!"
    assert products(client, creds["tenant"])["61020"]["category_ids"] == ["102", "777", "778"]


# -- configurable variations -------------------------------------------------------------------------
def configurable(**variation_change: Any) -> dict[str, Any]:
    return {"id": "61030", "name": "Cfg", "type": "configurable", "attribute_names": "Size,Color",
            "variations": {"1": {"id": "1", "attributes": [{"name": "Size", "option": "M"},
                                                           {"name": "Color", "option": "Red"}], **variation_change}}}


@pytest.mark.parametrize("change,message", [
    ({"attributes": [{"name": "Size", "option": "M"}, {"name": "Size", "option": "L"}, {"name": "Color", "option": "R"}]},
     "Configurable product and its sub-products must have proper attribute values."),
    ({"attributes": [{"name": "size", "option": "M"}, {"name": "Color", "option": ""}]},
     "Configurable product and its sub-products must have proper attribute values."),
    ({"status": "on"}, "Please pass vaild status: 0 or 1."),
    ({"special_price": "cheap"}, "Please pass vaild special_price."),
    ({"tier_price": [{"qty": 1}]}, "Please pass vaild tier_price"),
    ({"images": "image_src"}, "Please pass vaild images"),
    ({"custom_options": [{"title": "x", "type": "radio"}]}, OPTIONS_BAD),
])
def test_variation_rules(call, change, message):
    assert one(call, configurable(**change))["message"].startswith(message)


def test_variations_are_stored_with_their_own_fields(call, client, creds):
    product = configurable(price="9.5", tier_price=[{"price": "8", "qty": "10"}], images=[{"src": "v.png"}])
    assert one(call, product)["code"] == "200"
    (variation,) = products(client, creds["tenant"])["61030"]["variations"]
    assert variation["price"] == "9.5" and variation["tier_price"] == [{"price": "8", "qty": "10"}]
    assert variation["attributes"] == [{"name": "Size", "option": "M"}, {"name": "Color", "option": "Red"}]


# -- customers, categories, orders ---------------------------------------------------------------------
def test_customer_fields_are_strings(call):
    r = call("POST", "/rest/V1/customer/create/", {"customer": {
        "a": {"id": "71001", "first_name": ["Ann"]}, "b": {"id": "71002", "email": 5, "first_name": "Bo"}}})
    bad, good = items(r)
    assert bad == {"id": "71001", "code": 404, "status": "error",
                   "message": "Please pass valid customer data: first_name must be a string."}
    assert good["code"] == 200  # a number where the table says String is taken as its text


@pytest.mark.parametrize("item", [
    {"id": "72001", "name": "X", "status": 2}, {"id": "72001", "name": "X", "status": "yes"},
    {"id": "72001", "name": "X", "parent_id": "404404"}, {"id": "72001", "name": ""},
    {"id": "72001", "name": "X", "parent_id": {"id": 1}}, {"id": "72001", "name": "X", "parent_id": "72001"},
])
def test_category_rules(call, item):
    r = call("POST", "/rest/V1/category/create/", {"category": {"k": item}})
    assert r.status_code == 404
    assert items(r) == [{"id": "72001", "code": 404, "status": "error",
                         "message": "Please send proper data like id, name and parent id of Category!"}]


def order(**change: Any) -> dict[str, Any]:
    base = {"order_id": "81001", "sub_total": "44.00", "design_id": ["1", "2"], "item_price": ["22", "22"],
            "item_qty": [1, "1"], "shipping_address": {"name": "Ann"}}
    base.update(change)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("change,missing", [
    ({"sub_total": None}, "sub_total"), ({"sub_total": ""}, "sub_total"), ({"sub_total": "lots"}, "sub_total"),
    ({"design_id": None}, "design_id"), ({"item_price": []}, "item_price"), ({"item_qty": "1"}, "item_qty"),
    ({"shipping_address": None}, "shipping_address"), ({"shipping_address": {"city": "X"}}, "shipping_address.name"),
    ({"shipping_address": {"name": "A", "zip": {"code": 1}}}, "shipping_address.zip"),
    ({"item_qty": [1, 0]}, "item_qty[1]"), ({"item_price": ["22", "free"]}, "item_price[1]"),
    ({"design_id": ["1", ""]}, "design_id[1]"), ({"status": ["Open"]}, "status"),
])
def test_order_fields(call, change, missing):
    (result,) = items(call("POST", "/rest/V1/order/create/", {"order": {"k": order(**change)}}))
    assert result["id"] == "81001" and result["code"] == 404
    assert result["message"] == ("Please pass proper order data like order_id, sub_total, design_id, item_price, "
                                 f"item_qty and shipping_address. (missing or invalid: {missing})")


def test_order_without_id_has_no_id_in_its_result(call):
    (result,) = items(call("POST", "/rest/V1/order/create/", {"order": {"k": order(order_id="")}}))
    assert "id" not in result and result["message"].endswith("(missing or invalid: order_id)")


def test_items_that_are_not_objects_fail_in_place(call):
    r = call("POST", "/rest/V1/product/create/", {"product": {"a": "text", "b": simple("61040"), "c": [1], "d": None}})
    assert r.status_code == 201
    assert [(i.get("id"), i["code"]) for i in items(r)] == [(None, 404), ("61040", 200), (None, 404), (None, 404)]


# -- the contract (that the committed files are what contract.py renders: tests/test_contracts.py) ----
def test_openapi_document_is_valid_and_complete():
    from openapi_spec_validator import validate

    path = schemas_root() / contract.SCHEMAS / "openapi.yaml"
    doc = yaml.safe_load(path.read_text())
    validate(doc, base_uri=path.as_uri())
    for route, ops in doc["paths"].items():
        for method, op in ops.items():
            assert {"429", "5XX", "401"} <= set(op["responses"]), (route, method)
    links = doc["paths"]["/rest/V1/product/create/"]["post"]["responses"]["200"]["links"]
    assert links["DeleteProduct"]["operationId"] == "deleteProducts"


# -- blank text: the contract's pattern and the model agree (mocks.core.coerce.NOT_BLANK / is_blank) --
BLANKS = ["", " ", "\x1f", " \x1c\t", "\x1d\x1e", "\x85", "\ufeff", "\ufeff \u3000", "\xa0\u2028\u205f", "\r\n\x0b\x0c"]
NOT_BLANKS = ["A", " a\x1f", "\x1fé\x85", "\ufeff.", "名"]
CATEGORY_BAD = "Please send proper data like id, name and parent id of Category!"
# each documented field with the non-blank pattern: (schema file, $def, item with the value, endpoint, message)
BLANK_FIELDS = {
    "category name": ("category", "category", lambda v: {"id": "72101", "name": v}, CATEGORY_BAD),
    "product name": ("product", "product", lambda v: simple("61101", name=v), None),
    "image src": ("product", "product", lambda v: simple("61101", images=[{"src": v}]), None),
    "option title": ("product", "product", lambda v: simple("61101", custom_options=[{"title": v, "type": "field"}]),
                     "custom_options[0] needs a title"),
    "option value title": ("product", "product", lambda v: simple("61101", custom_options=[
        {"title": "T", "type": "drop_down", "values": [{"title": v}]}]), "values[0] needs a title"),
    "order shipping name": ("order", "order", lambda v: order(shipping_address={"name": v}), "shipping_address.name"),
}


def documented(entity: str, ref: str) -> Any:
    """A validator of the documented item (the create schema lets anything else through to the model)."""
    import json

    from jsonschema import Draft202012Validator

    schema = json.loads((schemas_root() / contract.SCHEMAS / f"{entity}-create.schema.json").read_text())
    return Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{ref}"})


@pytest.mark.parametrize("field", BLANK_FIELDS)
def test_a_blank_value_is_refused_by_the_contract_and_by_the_model_alike(call, field):
    """A value made only of blank characters (Python's whitespace, U+001C-U+001F and U+0085 among
    them, and U+FEFF) fails the documented item's pattern *and* the model; a value with anything
    else in it passes both. A contract-suite finding: ``\\S`` let "\\x1f" through outside Python."""
    entity, ref, make, message = BLANK_FIELDS[field]
    validator = documented(entity, ref)
    for value in BLANKS:
        item = make(value)
        assert not validator.is_valid(item), (field, value)
        (result,) = items(call("POST", f"/rest/V1/{entity}/create/", {entity: {"k": item}}))
        assert result["code"] in (404, "404"), (field, value, result)
        assert message is None or message in result["message"], (field, value, result)
    for value in NOT_BLANKS:
        item = make(value)
        assert validator.is_valid(item), (field, value, [e.message for e in validator.iter_errors(item)])
        (result,) = items(call("POST", f"/rest/V1/{entity}/create/", {entity: {"k": item}}))
        assert result["code"] in (200, "200"), (field, value, result)


def test_the_contracts_number_patterns_take_the_whitespace_the_model_takes():
    """Around a number the model takes ASCII whitespace only (fields.SPACE); the contract's decimal
    patterns say the same, spelled out: with ``\\s`` they took U+3000, U+001F... in Python (the
    model refused "\\u30005") and another set in ECMAScript. A blank decimal is "" only."""
    import json
    import re

    from jsonschema import Draft202012Validator

    from mocks.printxpand.models.fields import check_custom_options, check_tier_prices, number_or_blank

    schema = json.loads((schemas_root() / contract.SCHEMAS / "product-create.schema.json").read_text())
    product = schema["$defs"]["product"]["properties"]
    optional = Draft202012Validator(product["price"])
    required = Draft202012Validator(product["tier_price"]["items"]["properties"]["price"])
    odd = [chr(c) for c in range(0x3001) if chr(c).isspace()] + ["\ufeff", "\x00", "\u3000"]
    for c in ("", *odd):
        for value in (c, f"{c}5", f"5{c}", f"{c}.5{c}", f"{c}{c}+1.5"):
            assert optional.is_valid(value) is number_or_blank(value), repr(value)
            assert required.is_valid(value) is (value != "" and number_or_blank(value)), repr(value)
    # qty and file_extension: what the contract takes, the model takes (the model takes more whitespace)
    qty = Draft202012Validator(product["tier_price"]["items"]["properties"]["qty"])
    extensions = Draft202012Validator(schema["$defs"]["customOption"]["oneOf"][1]["properties"]["file_extension"])
    for c in ("", *odd):
        for value in (f"{c}2{c}", f"{c}{c}1.5"):
            assert not qty.is_valid(value) or check_tier_prices([{"price": "1", "qty": value}]), repr(value)
        for value in (f"png{c},{c}jpg", f"png,{c}.gif"):
            assert not extensions.is_valid(value) or check_custom_options(
                [{"title": "T", "type": "file", "file_extension": value}]), repr(value)
    for name in ("product", "order", "category"):
        text = (schemas_root() / contract.SCHEMAS / f"{name}-create.schema.json").read_text()
        assert "\\\\s" not in text.lower(), name  # no \\s or \\S: its meaning differs by regex dialect
