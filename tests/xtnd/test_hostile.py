"""Hostile input never gets a 500 and never changes data: every answer is documented and every
error uses the one XTND error shape."""
from __future__ import annotations

import pytest

from tests.xtnd.conftest import KEY, V1

ODD = ["", " ", "%00", "x" * 5000, "-1", "0", "1e9", "null", "[]", "{}", "' OR 1=1 --", "ü", "😀", "..%2F..",
       "2024-02-30", "2024-01-01T25:00:00Z", "0001-01-01", "9999-12-31T23:59:59+14:00"]
QUERY_PATHS = ["/CustomerOrders?changedSince={v}", "/CustomerOrders?status={v}", "/CustomerOrders?customerNumber={v}",
               "/CustomerOrders?page={v}", "/Products?pageSize={v}", "/Products?active={v}",
               "/Products?itemNumbers={v}", "/ProductAvailability?warehouses={v}",
               "/ProductAvailability?changedSince={v}", "/ProductPrices?customerNumber={v}",
               "/Customers?changedSince={v}", "/CustomerOrders/{v}", "/Products/{v}", "/Customers/{v}",
               "/Webhooks/{v}", "/Webhooks?trigger={v}", "/Warehouses?page={v}"]
BODIES = [None, "", "null", "[]", "{}", '{"orderNumber": 1}', '{"rows": "x"}', "\"text\"", "1e999999",
          '{"orderNumber":"A","customerNumber":"10001","rows":[{"itemNumber":"100002","quantity":1.5,"price":1}]}',
          '{"orderNumber":"A/B","customerNumber":"10001","rows":[{"itemNumber":"100002","quantity":1,"price":1}]}',
          '{"orderNumber":"A","customerNumber":"10001","rows":[{"itemNumber":"100002","quantity":1,"price":-1}]}',
          '{"orderNumber":"A","customerNumber":"10001","rows":[],"extra":1}',
          '{"name": "n", "callbackUrl": "http://x", "triggers": []}',
          '{"name": "n", "callbackUrl": "http://127.0.0.1/x", "triggers": ["OrderCreated"], "warehouse": "99"}',
          '{"name": " ", "callbackUrl": "http://127.0.0.1/x", "triggers": ["OrderCreated"]}',
          '{"name": "n", "callbackUrl": "ftp://x", "triggers": ["OrderCreated"]}',
          '{"customerNumber": "C1", "name": "N", "priceList": "NOPE"}']
WRITES = [("POST", "/CustomerOrders"), ("POST", "/Customers"), ("POST", "/Webhooks"), ("PUT", "/Webhooks/wh-0001")]


def check(r):
    assert r.status_code < 500, r.get_data(as_text=True)
    if r.status_code >= 400:
        body = r.json
        assert set(body) == {"errorType", "status", "message", "errors"} and body["status"] == r.status_code


@pytest.mark.parametrize("template", QUERY_PATHS)
def test_odd_parameters(xc, template):
    for value in ODD:
        check(xc.get(V1 + template.format(v=value), headers=KEY))


@pytest.mark.parametrize("method,path", WRITES)
def test_odd_bodies_change_nothing(xc, method, path):
    xc.post(V1 + "/Webhooks", headers=KEY, json={"name": "kept", "callbackUrl": "http://127.0.0.1:9/x",
                                                 "triggers": ["OrderCreated"]})
    snapshot = {p: xc.get(V1 + p, headers=KEY).json for p in
                ("/CustomerOrders?pageSize=1000", "/Customers?pageSize=1000", "/Webhooks",
                 "/ProductAvailability?pageSize=1000", "/CustomerOrders/WS500001")}
    for raw in BODIES:
        kwargs = {} if raw is None else {"data": raw, "content_type": "application/json"}
        check(xc.open(V1 + path, method=method, headers=KEY, **kwargs))
    check(xc.open(V1 + path, method=method, headers=KEY, data="<xml/>", content_type="application/xml"))
    after = {p: xc.get(V1 + p, headers=KEY).json for p in snapshot}
    assert after == snapshot
