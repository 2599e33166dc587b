"""``commerce-sandbox seed-from``: a recorded session's records become a tenant's data.

The records a session's responses carried (products, orders, customers: :data:`SOURCES` says which
operation answers with which records, where in the body and under which id) are collected, the last
answer about an id winning, and loaded into a running sandbox with
``POST /__sandbox/data/{api}/{collection}?tenant=ID``: additions only (an id the tenant already has
is skipped and left as it is), records completed with the fields the sandbox's own records have.

Only answers the journal kept whole are read: a body longer than the journal's limit was cut, and a
cut body is skipped (``proxy --body-limit`` records longer ones). PrintXpand is a push API (the
connector sends the catalogue; nothing lists it back), so its sessions carry no records to load.
"""
from __future__ import annotations

from typing import Any

import requests

from mocks.drift.diff import CannotRun
from mocks.drift.session import body_json, json_values, operation_of, parse_path

#: api -> [(operation ids, where the records are, collection, id field)]
SOURCES: dict[str, list[tuple[tuple[str, ...], str, str, str]]] = {
    "click2sync": [(("listProducts",), "$.products[*]", "products", "_id"),
                   (("listOrders",), "$.orders[*]", "orders", "_id")],
    "stock2shop": [(("elasticSearchProducts", "elasticSearchProductsAlias"), "$.hits.hits[*]._source", "products", "id"),
                   (("elasticSearchOrders", "elasticSearchOrdersAlias"), "$.hits.hits[*]._source", "orders", "id"),
                   (("elasticSearchCustomers",), "$.hits.hits[*]._source", "customers", "id")],
    "api2cart": [(("ProductList",), "$.result.product[*]", "products", "id"),
                 (("ProductInfo",), "$.result", "products", "id"),
                 (("OrderList",), "$.result.order[*]", "orders", "id"),
                 (("OrderInfo",), "$.result", "orders", "id"),
                 (("CustomerList",), "$.result.customer[*]", "customers", "id"),
                 (("CustomerInfo",), "$.result", "customers", "id")],
    "xtnd": [(("getProduct",), "$", "products", "itemNumber"),
             (("getCustomer",), "$", "customers", "customerNumber"),
             (("getCustomerOrder",), "$", "orders", "orderNumber")],
}


def records(data: dict[str, Any]) -> dict[tuple[str, str], tuple[str, dict[str, dict[str, Any]]]]:
    """{(api, collection): (id field, {id: record})} from a session's successful JSON answers."""
    out: dict[tuple[str, str], tuple[str, dict[str, dict[str, Any]]]] = {}
    for entry in data.get("requests") or []:
        api = entry.get("api") or ""
        status = entry.get("status") or 0
        if api not in SOURCES or not 200 <= status < 300:
            continue
        body = body_json((entry.get("response") or {}).get("body"))
        if body is None:
            continue
        _, operation, _ = operation_of(api, str(entry.get("method", "GET")).upper(), entry["path"])
        for operations, where, collection, key in SOURCES[api]:
            if operation not in operations:
                continue
            found = out.setdefault((api, collection), (key, {}))[1]
            for record in json_values(body, parse_path(where)):
                if isinstance(record, dict) and isinstance(record.get(key), (str, int)) \
                        and not isinstance(record.get(key), bool) and record.get(key) != "":
                    found[str(record[key])] = record
    return {k: v for k, v in out.items() if v[1]}


def default_tenant(credentials: dict[str, Any], api: str) -> str | None:
    """The tenant of the API's first demo credential (what a client using the demo credentials sees)."""
    creds = credentials.get(api) or {}
    for node in (creds, *(creds.get("users") or []), *(creds.get("stores") or [])):
        if isinstance(node, dict) and node.get("tenant") is not None:
            return str(node["tenant"])
    return None


def load(data: dict[str, Any], target: str, tenant: str | None = None, *, timeout: float = 30.0,
         http: Any = None, log_line: Any = None) -> dict[str, Any]:
    """Load the session's records into ``target``; returns {"api/collection": {"added": n, "skipped": n}}."""
    http = http or requests.Session()
    target = target.rstrip("/")
    found = records(data)
    try:
        credentials = http.get(target + "/__sandbox/credentials", timeout=timeout).json()
    except (requests.RequestException, ValueError) as exc:
        raise CannotRun(f"{target} is not a running sandbox: {exc}") from None
    summary: dict[str, Any] = {}
    for (api, collection), (key, by_id) in found.items():
        who = tenant or default_tenant(credentials, api)
        if who is None:
            raise CannotRun(f"no tenant for {api}: name one with --tenant")
        try:
            r = http.post(f"{target}/__sandbox/data/{api}/{collection}", params={"tenant": who},
                          json={"records": list(by_id.values()), "key": key}, timeout=timeout)
        except requests.RequestException as exc:
            raise CannotRun(f"{target} does not answer: {exc}") from None
        if r.status_code not in (200, 201):
            raise CannotRun(f"{target} refused {api}/{collection}: {r.status_code} {r.text[:300]}")
        answer = r.json()
        summary[f"{api}/{collection}"] = {"tenant": who, "added": len(answer["added"]),
                                          "skipped": len(answer["skipped"])}
        if log_line:
            log_line(f"{api}/{collection} (tenant {who}): {len(answer['added'])} added, "
                     f"{len(answer['skipped'])} already there")
    return summary
