"""Every API's bundled OpenAPI document is a complete contract (issue 8).

For each API in ``mocks.registry.PACKAGES``: the document validates with openapi-spec-validator;
it declares a security scheme and every security requirement names one; every operation documents
429 and 5XX (scenarios inject them, so an injected fault is never a violation); every documented
response, request body and parameter has a schema whose references resolve; and where the API
creates things, OpenAPI ``links`` lead from the create operation to the read, update and delete
operations of the same resource that can address one item (the stateful phase of the contract
suites walks them). Operations are grouped by the noun of their operationId (``createCustomerOrder``,
``getCustomerOrder``, ``advanceCustomerOrder``); any one of a resource's create operations (path
aliases) may carry the links, directly or through the operations they lead to.
"""
from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mocks.registry import PACKAGES as API_MODULES
from mocks.core.contracts import load_document, schemas_root
from tests.conftest import validate_openapi_document

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
APIS = sorted(API_MODULES)


def present(api: str) -> bool:
    return (schemas_root() / api / "openapi.yaml").is_file()


@lru_cache(maxsize=None)
def bundled(api: str) -> dict[str, Any]:
    return load_document(api)  # the tests only read it


@pytest.fixture(params=APIS)
def doc(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    api = request.param
    assert present(api), f"schemas/{api}/openapi.yaml is missing"
    return api, copy.deepcopy(bundled(api)) if request.function.__name__ == "test_the_document_validates" \
        else bundled(api)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path, item in (document.get("paths") or {}).items():
        for method, op in item.items():
            if method in METHODS:
                out.append((method, path, op))
    return out


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow ``#/components/...`` references (responses, parameters, request bodies)."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
        node = pointer(document, node["$ref"])
        seen += 1
    return node


def pointer(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#"), f"external reference left in the bundled document: {ref}"
    target: Any = document
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, list):
            target = target[int(part)]
        else:
            assert isinstance(target, dict) and part in target, f"unresolvable reference {ref}"
            target = target[part]
    return target


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for key, value in node.items():
            if key not in ("example", "examples", "const", "enum", "default"):
                out += refs(value)
        return out
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


# ---------------------------------------------------------------------------------------------
def test_the_document_validates(doc: tuple[str, dict[str, Any]]) -> None:
    api, document = doc
    assert str(document.get("openapi", "")).startswith("3.1"), f"{api}: not an OpenAPI 3.1 document"
    validate_openapi_document(api)  # the bundled document, as the doc fixture's


def test_it_declares_its_security_scheme(doc: tuple[str, dict[str, Any]]) -> None:
    api, document = doc
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    assert schemes, f"{api}: components.securitySchemes is empty"
    requirements = list(document.get("security") or [])
    for method, path, op in operations(document):
        requirements += op.get("security") or []
        if "security" not in op:
            assert document.get("security"), f"{api}: {method.upper()} {path} has no security and no global one"
    assert any(req for req in requirements), f"{api}: no operation requires its security scheme"
    for req in requirements:
        for name in req:
            assert name in schemes, f"{api}: security requirement {name!r} names no declared scheme"


def test_every_operation_documents_429_and_5xx(doc: tuple[str, dict[str, Any]]) -> None:
    api, document = doc
    missing = []
    for method, path, op in operations(document):
        codes = {str(code).upper() for code in (op.get("responses") or {})}
        if "429" not in codes:
            missing.append(f"{method.upper()} {path}: 429")
        if "5XX" not in codes and not {"500", "503"} <= codes:
            missing.append(f"{method.upper()} {path}: 5XX (or 500 and 503)")
    assert not missing, f"{api}: undocumented fault statuses:\n" + "\n".join(missing)


def test_every_response_body_and_parameter_has_a_schema(doc: tuple[str, dict[str, Any]]) -> None:
    api, document = doc
    problems = []
    for method, path, op in operations(document):
        where = f"{method.upper()} {path}"
        responses = op.get("responses") or {}
        if not responses:
            problems.append(f"{where}: no responses")
        for status, response in responses.items():
            response = resolve(document, response)
            for ctype, media in (response.get("content") or {}).items():
                if "json" in ctype and "schema" not in media:
                    problems.append(f"{where} {status} {ctype}: no schema")
        body = resolve(document, op.get("requestBody") or {})
        for ctype, media in (body.get("content") or {}).items():
            if "schema" not in media:
                problems.append(f"{where} request body {ctype}: no schema")
        shared = document["paths"][path].get("parameters") or []
        for param in [*shared, *(op.get("parameters") or [])]:
            param = resolve(document, param)
            if "schema" not in param and "content" not in param:
                problems.append(f"{where} parameter {param.get('name')}: no schema")
    assert not problems, f"{api}:\n" + "\n".join(problems)


def test_every_reference_resolves_and_every_schema_is_valid(doc: tuple[str, dict[str, Any]]) -> None:
    api, document = doc
    for ref in sorted(set(refs(document))):
        pointer(document, ref)
    for name, schema in ((document.get("components") or {}).get("schemas") or {}).items():
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as exc:  # noqa: BLE001 - the message names the broken keyword
            pytest.fail(f"{api}: components.schemas.{name} is not a valid 2020-12 schema: {exc}")


# -- links -------------------------------------------------------------------------------------
VERBS = {
    "create": "create", "add": "create",
    "get": "read", "list": "read", "info": "read",
    "update": "update", "set": "update", "advance": "update", "patch": "update", "put": "update",
    "delete": "delete", "remove": "delete",
}
NOISE = {"by", "no", "slash", "short", "count"}


def words(operation_id: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", operation_id)]


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def classify(operation_id: str, method: str) -> tuple[str | None, str]:
    """(kind, resource): ``createCustomerOrder`` -> ("create", "customerorder")."""
    parts = words(operation_id)
    kind = next((VERBS[w] for w in parts if w in VERBS), None)
    if kind == "read" and method != "get":
        kind = None
    if "count" in parts:  # a count is not a read of the created thing
        kind = None
    noun = "".join(singular(w) for w in parts if w not in VERBS and w not in NOISE)
    return kind, noun


def takes_an_id(document: dict[str, Any], path: str, op: dict[str, Any]) -> bool:
    """Whether an operation can be pointed at one created thing: a path parameter, or a query
    parameter named like an identifier (``id``, ``ids``, ``*_id``, ``*Id``, ``*_key``). API2Cart's
    ``store_id`` selects a store, never the created item, so it does not count."""
    shared = (document["paths"][path].get("parameters") or [])
    for param in [*shared, *(op.get("parameters") or [])]:
        param = resolve(document, param)
        name = str(param.get("name", ""))
        if param.get("in") == "path":
            return True
        if name == "store_id":
            continue
        if name in ("id", "ids") or re.search(r"(_ids?|Ids?|_key)$", name):
            return True
    return False


def link_graph(document: dict[str, Any]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    by_path = {}
    for method, path, op in operations(document):
        by_path[(path, method)] = op.get("operationId")
    for method, path, op in operations(document):
        targets: set[str] = set()
        for response in (op.get("responses") or {}).values():
            for link in (resolve(document, response).get("links") or {}).values():
                link = resolve(document, link)
                if "operationId" in link:
                    targets.add(link["operationId"])
                elif "operationRef" in link:
                    ref = link["operationRef"]
                    parts = ref.lstrip("#/").split("/")
                    if len(parts) == 3 and parts[0] == "paths":
                        targets.add(by_path.get((parts[1].replace("~1", "/").replace("~0", "~"), parts[2]), ref))
                    else:
                        targets.add(ref)
        graph[op.get("operationId", f"{method} {path}")] = targets
    return graph


def test_links_point_at_existing_operations(doc: tuple[str, dict[str, Any]]) -> None:
    api, document = doc
    graph = link_graph(document)
    dangling = [f"{source} -> {target}" for source, targets in graph.items() for target in targets
                if target not in graph]
    assert not dangling, f"{api}: links to unknown operations:\n" + "\n".join(dangling)


def test_create_operations_link_to_read_update_delete(doc: tuple[str, dict[str, Any]]) -> None:
    api, document = doc
    graph = link_graph(document)
    kinds: dict[str, tuple[str | None, str]] = {
        op.get("operationId", f"{method} {path}"): classify(op.get("operationId", ""), method)
        for method, path, op in operations(document)
    }
    addressable = {op.get("operationId", f"{method} {path}") for method, path, op in operations(document)
                   if takes_an_id(document, path, op)}
    creators: dict[str, list[str]] = {}
    for op_id, (kind, noun) in kinds.items():
        if kind == "create":
            creators.setdefault(noun, []).append(op_id)
    problems = []
    for noun, ops in sorted(creators.items()):
        wanted = {kind for op_id, (kind, n) in kinds.items()
                  if n == noun and kind in ("read", "update", "delete") and op_id in addressable}
        if not wanted:
            continue  # the API offers nothing to do with one thing it created
        best: set[str] = set()
        for start in ops:  # any one of the create operations (path aliases) may carry the links
            seen, todo = set(), [start]
            while todo:
                for target in graph.get(todo.pop(), ()):
                    if target not in seen:
                        seen.add(target)
                        todo.append(target)
            reached = {kinds[t][0] for t in seen if t in kinds and kinds[t][1] == noun}
            if len(reached & wanted) > len(best):
                best = reached & wanted
        if wanted - best:
            problems.append(f"{'/'.join(ops[:2])}: no links to the {', '.join(sorted(wanted - best))} "
                            f"operation(s) of {noun}")
    assert not problems, f"{api}: create operations without links (stateful flows):\n" + "\n".join(problems)
