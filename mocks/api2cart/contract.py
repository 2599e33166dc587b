"""The API2Cart contract: ``openapi.yaml`` and ``api2cart.schema.json`` built from the vendor's
official document (``envelope.schema.json`` is written by hand).

Every API's contract.py says the same two things (see ``tools/contracts.py``): :data:`SCHEMAS`,
its folder under ``schemas/`` (found by :func:`mocks.core.contracts.schemas_root`), and
:func:`render`, the files it generates there.

    .venv/bin/python -m tools.contracts api2cart

Source: ``schemas/api2cart/official/api2cart-openapi.json`` (the vendor's OpenAPI 3.1 document,
copied verbatim).
For every method the sandbox emulates (:data:`METHODS`), the operation is taken unchanged (HTTP
method, parameters, request body, result schema) with these additions, all the sandbox's own:

- ``deprecated: true`` where the vendor marks a method deprecated;
- paths are ``/v1.1/{method}.json`` (the vendor's server URL ends in ``/v1.1``), and
  ``/v1.1/bridge.download.file`` for the one method the vendor serves as a file (its
  ``application/zip`` answer is documented without the vendor's ``format: binary`` schema, which a
  JSON validator cannot apply, and with the envelope for errors);
- ``start``/``count`` get ``minimum: 0`` (the vendor answers 109 "unsigned integer" below 0);
- the 200 answer is ``allOf`` [the sandbox envelope (``envelope.schema.json``), the vendor's
  response schema], so an error answer (``result: {}``) is documented too;
- every operation documents 429 and 5XX (injected faults, the envelope with an error code);
- query-parameter twins of the vendor's header security schemes (``api_key``/``store_key``);
- OpenAPI ``links`` for the create -> read -> update -> delete flows (:data:`LINKS`);
- the forms the FAQ documents where they differ from the official schema, accepted too
  (:func:`faq_forms`: ``"verify": "false"`` as a string, ``hybris_websites`` as a JSON string,
  the flat ``order_item_name_1`` form of ``order.add``, Amazon SP-API's ``product.add`` offer
  without name/model/description, ``cart.create`` without ``store_id``).

Component schemas reachable from those operations go to ``api2cart.schema.json`` under ``$defs``.
``tests/test_contracts.py`` checks that both files are what :func:`render` makes.
"""
from __future__ import annotations

import copy
import json
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from mocks.core.contracts import schemas_root

#: the contract's folder under ``schemas/``
SCHEMAS = "api2cart"


def official_document() -> Traversable:
    """The vendor's document, kept next to the contract it is the source of (package data)."""
    return schemas_root() / SCHEMAS / "official" / "api2cart-openapi.json"

#: the emulated methods, in the order of the document
METHODS = [
    "account.failed_webhooks", "account.supported_platforms", "account.cart.add", "account.cart.list",
    "account.config.update",
    "cart.info", "cart.list", "cart.bridge", "cart.create", "cart.delete", "bridge.download",
    "product.list", "product.info", "product.count", "product.find", "product.add", "product.update",
    "product.delete", "product.manufacturer.add", "product.tax.add", "product.image.add", "product.image.update",
    "product.option.add", "product.option.assign", "product.option.value.add", "product.option.value.assign",
    "product.option.value.update",
    "product.variant.add", "product.variant.list", "product.variant.info", "product.variant.count",
    "product.variant.update", "product.variant.delete",
    "category.list", "category.info", "category.count", "category.find", "category.add", "category.update",
    "category.delete", "category.assign",
    "customer.list", "customer.info", "customer.count", "customer.find", "customer.add", "customer.update",
    "customer.delete",
    "order.list", "order.info", "order.count", "order.find", "order.add", "order.update", "order.status.list",
    "order.shipment.list", "order.shipment.add",
    "order.return.add", "order.return.update", "order.return.delete",
    "return.list", "return.info", "return.count", "return.reason.list", "return.status.list",
    "return.action.list",
    "webhook.create", "webhook.list", "webhook.delete", "webhook.events", "webhook.count", "webhook.update",
    "basket.live_shipping_service.create", "basket.live_shipping_service.list",
    "basket.live_shipping_service.delete",
]

#: (from method, link name, to method, {target parameter or "body.<field>": runtime expression})
LINKS: list[tuple[str, str, str, dict[str, str]]] = [
    ("account.cart.add", "AccountCartList", "account.cart.list", {"store_key": "$response.body#/result/store_key"}),
    ("product.variant.add", "ProductVariantDelete", "product.variant.delete",
     {"id": "$response.body#/result/product_variant_id", "product_id": "$request.body#/product_id"}),
    ("order.shipment.add", "OrderShipmentList", "order.shipment.list", {"order_id": "$request.body#/order_id"}),
    ("order.return.add", "ReturnDelete", "order.return.delete",
     {"return_id": "$response.body#/result/return_id", "order_id": "$request.body#/order_id"}),
    ("webhook.create", "WebhookList", "webhook.list", {"ids": "$response.body#/result/id"}),
    ("product.add", "ProductInfo", "product.info", {"id": "$response.body#/result/product_id"}),
    ("product.add", "ProductUpdate", "product.update", {"body.id": "$response.body#/result/product_id"}),
    ("product.add", "ProductDelete", "product.delete", {"id": "$response.body#/result/product_id"}),
    ("product.add", "ProductVariantAdd", "product.variant.add", {"body.product_id": "$response.body#/result/product_id"}),
    ("product.variant.add", "ProductVariantInfo", "product.variant.info", {"id": "$response.body#/result/product_variant_id"}),
    ("product.variant.add", "ProductVariantUpdate", "product.variant.update",
     {"body.id": "$response.body#/result/product_variant_id"}),
    ("category.add", "CategoryInfo", "category.info", {"id": "$response.body#/result/category_id"}),
    ("category.add", "CategoryUpdate", "category.update", {"id": "$response.body#/result/category_id"}),
    ("category.add", "CategoryDelete", "category.delete", {"id": "$response.body#/result/category_id"}),
    ("customer.add", "CustomerInfo", "customer.info", {"id": "$response.body#/result/customer_id"}),
    ("customer.add", "CustomerUpdate", "customer.update", {"body.id": "$response.body#/result/customer_id"}),
    ("customer.add", "CustomerDelete", "customer.delete", {"id": "$response.body#/result/customer_id"}),
    ("product.image.add", "ProductImageUpdate", "product.image.update",
     {"id": "$response.body#/result/id", "product_id": "$request.body#/product_id"}),
    ("product.option.value.add", "ProductOptionValueUpdate", "product.option.value.update",
     {"option_value_id": "$response.body#/result/option_value_id", "product_id": "$request.query.product_id",
      "option_id": "$request.query.option_id"}),
    ("order.add", "OrderInfo", "order.info", {"id": "$response.body#/result/order_id"}),
    ("order.add", "OrderUpdate", "order.update", {"order_id": "$response.body#/result/order_id"}),
    ("order.add", "OrderShipmentList", "order.shipment.list", {"order_id": "$response.body#/result/order_id"}),
    ("order.return.add", "ReturnInfo", "return.info", {"id": "$response.body#/result/return_id"}),
    ("order.return.add", "ReturnUpdate", "order.return.update", {"body.return_id": "$response.body#/result/return_id"}),
    ("webhook.create", "WebhookUpdate", "webhook.update", {"body.id": "$response.body#/result/id"}),
    ("webhook.create", "WebhookDelete", "webhook.delete", {"id": "$response.body#/result/id"}),
    ("basket.live_shipping_service.create", "LiveShippingServiceDelete", "basket.live_shipping_service.delete",
     {"id": "$response.body#/result/id"}),
]

ACCOUNT_SECURITY = [{"ApiKeyAuth": []}, {"ApiKeyQuery": []}]
STORE_SECURITY = [{"ApiKeyAuth": [], "StoreKeyAuth": []}, {"ApiKeyQuery": [], "StoreKeyQuery": []}]


def _rewrite(node: Any, prefix: str, seen: set[str]) -> Any:
    """Copy ``node`` with ``#/components/schemas/X`` refs pointing at ``prefix + X``; collect X."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[-1]
                seen.add(name)
                out[key] = prefix + name
            else:
                out[key] = _rewrite(value, prefix, seen)
        return out
    if isinstance(node, list):
        return [_rewrite(v, prefix, seen) for v in node]
    return node


#: methods the vendor serves as a file at ``/{method}.file`` instead of ``/{method}.json``
FILE_METHODS = {"bridge.download"}


def official_path(name: str) -> str:
    """The vendor document's path of a method (``/bridge.download.file``, ``/product.list.json``)."""
    return f"/{name}.file" if name in FILE_METHODS else f"/{name}.json"


def operation_ids(official: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """method name -> (HTTP method, operationId) in the official document."""
    out = {}
    for path, item in official["paths"].items():
        for http, op in item.items():
            if http in ("get", "post", "put", "delete"):
                out[path[1:-5]] = (http, op["operationId"])
    return out


def build(official: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    seen: set[str] = set()
    prefix = "api2cart.schema.json#/$defs/"
    ids = operation_ids(official)
    paths: dict[str, Any] = {}
    fault = {"$ref": "#/components/responses/Fault"}
    for name in METHODS:
        http, _ = ids[name]
        op = copy.deepcopy(official["paths"][official_path(name)][http])
        new: dict[str, Any] = {"operationId": op["operationId"], "summary": op.get("summary", name),
                               "tags": op.get("tags", []), "description": op.get("description", "")}
        if op.get("deprecated"):  # the vendor's mark, kept (cart.list, order.find, product.variant.info/list/count)
            new["deprecated"] = True
        vendor_security = op.get("security") or [{"ApiKeyAuth": [], "StoreKeyAuth": []}]
        new["security"] = STORE_SECURITY if any("StoreKeyAuth" in s for s in vendor_security) else ACCOUNT_SECURITY
        params = []
        for param in op.get("parameters", []):
            param = _rewrite(param, prefix, seen)
            if param["name"] in ("start", "count") and param.get("schema", {}).get("type") == "integer":
                param["schema"]["minimum"] = 0
            params.append(param)
        if params:
            new["parameters"] = params
        if "requestBody" in op:
            new["requestBody"] = _rewrite(op["requestBody"], prefix, seen)
        content = op["responses"]["200"]["content"]
        if "application/json" in content:
            vendor = content["application/json"]["schema"]
            answer = {"description": "The envelope: return_code 0 with the result, or an error return_code with result {}",
                      "content": {"application/json": {"schema": {
                          "allOf": [{"$ref": "envelope.schema.json"}, _rewrite(vendor, prefix, seen)]}}}}
        else:  # a file (bridge.download: application/zip); an error is still the envelope
            answer = {"description": "The file, or the envelope with an error return_code and result {}",
                      "content": {**{ctype: {} for ctype in content},  # binary: the gateway validates JSON only
                                  "application/json": {"schema": {"$ref": "envelope.schema.json"}}}}
        new["responses"] = {"200": answer, "429": fault, "5XX": fault}
        paths["/v1.1" + official_path(name)] = {http: new}
    for src, link, dst, values in LINKS:
        src_op = next(iter(paths[f"/v1.1/{src}.json"].values()))
        dst_op = next(iter(paths[f"/v1.1/{dst}.json"].values()))
        entry: dict[str, Any] = {"operationId": dst_op["operationId"]}
        params = {k: v for k, v in values.items() if not k.startswith("body.")}
        body = {k[5:]: v for k, v in values.items() if k.startswith("body.")}
        declared = {p["name"] for p in dst_op.get("parameters", [])}
        missing = set(params) - declared
        assert not missing, f"link {link}: {dst} has no parameter {missing}"
        if params:
            entry["parameters"] = params
        if body:
            entry["requestBody"] = body
        src_op["responses"]["200"].setdefault("links", {})[link] = entry
    # every schema reachable from the operations
    schemas = official["components"]["schemas"]
    defs: dict[str, Any] = {}
    todo = sorted(seen)
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        found: set[str] = set()
        defs[name] = _rewrite(schemas[name], "#/$defs/", found)
        todo.extend(sorted(found - set(defs)))
    faq_forms(defs)
    bundle = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "https://commerce-sandbox.invalid/schemas/api2cart/api2cart.schema.json",
              "title": "API2Cart component schemas (the vendor's; the FAQ's forms accepted too, see contract.faq_forms)",
              "$defs": dict(sorted(defs.items()))}
    document = {
        "openapi": "3.1.0",
        # the served text stays as it was ("generate.py" was this module's name before it moved here)
        "info": {"title": "API2Cart (commerce-sandbox)", "version": "1.1", "description": (
            "The API2Cart methods the sandbox emulates: GET|POST|PUT|DELETE /v1.1/{method}.json. Every answer is "
            "HTTP 200 with the envelope {return_code, return_message, result[, pagination]}; 429 and 5XX only come "
            "from injected faults. Shapes are the vendor's own (api2cart.schema.json, generated from "
            "official/api2cart-openapi.json by generate.py).")},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "security": STORE_SECURITY,
        "paths": paths,
        "components": {
            "securitySchemes": {
                "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "StoreKeyAuth": {"type": "apiKey", "in": "header", "name": "x-store-key"},
                "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
                "StoreKeyQuery": {"type": "apiKey", "in": "query", "name": "store_key"},
            },
            "responses": {"Fault": {
                "description": "Injected fault (scenario): the envelope with an error return_code",
                "content": {"application/json": {"schema": {"$ref": "envelope.schema.json"}}}}},
        },
    }
    return document, bundle


def faq_forms(defs: dict[str, Any]) -> None:
    """Widen the vendor's schemas to the forms the FAQ's own examples send (docs/api2cart.md,
    "Fidelity decisions"): both forms are accepted; the models read either."""
    cart_add = defs["AccountCartAdd"]["properties"]
    # FAQ: 'verify' => 'false' (a string); official: boolean
    cart_add["verify"] = {"description": cart_add["verify"].get("description", ""), "default": True,
                          "anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}]}
    # FAQ: "hybris_websites is an array of objects in a JSON string"; official: an array
    hybris = cart_add["hybris_websites"]
    cart_add["hybris_websites"] = {"description": hybris.get("description", ""),
                                   "anyOf": [{k: v for k, v in hybris.items() if k != "description"},
                                             {"type": "string", "minLength": 2}]}
    # FAQ: order_item_id_1, order_item_name_1, ... (the flat form); official: the order_item array
    # FAQ (Amazon SP-API product.add): sku, price, quantity and an identifier are the required
    # parameters there; the other platforms' name/model/description are the model's check
    defs["ProductAdd"]["required"] = [r for r in defs["ProductAdd"]["required"] if r == "price"]
    # FAQ: "Call cart_create method and paste previously generated store_url" (no store_id); official
    # CartCreate requires store_id, a property of a few marketplaces: optional, as in AccountCartAdd
    defs["CartCreate"]["required"] = [r for r in defs["CartCreate"]["required"] if r != "store_id"]
    order_add = defs["OrderAdd"]
    order_add["required"] = [r for r in order_add["required"] if r != "order_item"]
    # FAQ: 'total_price' => '23.56' (a string); official: a number
    total = order_add["properties"]["total_price"]
    order_add["properties"]["total_price"] = {
        "description": total.get("description", ""),
        "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}]}


def render() -> dict[str, str]:
    """Generated files (name -> text, exactly as committed)."""
    official = json.loads(official_document().read_text(encoding="utf-8"))
    document, bundle = build(official)

    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    text = yaml.dump(document, Dumper=NoAliases, sort_keys=False, allow_unicode=True, width=120)
    return {"openapi.yaml": text, "api2cart.schema.json": json.dumps(bundle, indent=1, ensure_ascii=False) + "\n"}
