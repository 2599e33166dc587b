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
               "/Webhooks/{v}"]
BODIES = [None, "", "null", "[]", "{}", '{"orderNumber": 1}', '{"rows": "x"}', "\"text\"", "1e999999",
          '{"orderNumber":"A","customerNumber":"10001","rows":[{"itemNumber":"100002","quantity":1.5,"price":1}]}',
          '{"orderNumber":"A/B","customerNumber":"10001","rows":[{"itemNumber":"100002","quantity":1,"price":1}]}',
          '{"orderNumber":"A","customerNumber":"10001","rows":[{"itemNumber":"100002","quantity":1,"price":-1}]}',
          '{"orderNumber":"A","customerNumber":"10001","rows":[],"extra":1}',
          '{"availableBalance": 1.5}', '{"status": "reserved", "x": 1}', '{"url": "http://x", "events": []}']
WRITES = [("POST", "/CustomerOrders"), ("POST", "/Customers"), ("POST", "/Webhooks"),
          ("PUT", "/ProductAvailability/100002/01"), ("POST", "/CustomerOrders/WS500001/advance")]


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
    snapshot = {p: xc.get(V1 + p, headers=KEY).json for p in
                ("/CustomerOrders?pageSize=1000", "/Customers?pageSize=1000", "/Webhooks",
                 "/ProductAvailability?pageSize=1000", "/CustomerOrders/WS500001")}
    for raw in BODIES:
        kwargs = {} if raw is None else {"data": raw, "content_type": "application/json"}
        check(xc.open(V1 + path, method=method, headers=KEY, **kwargs))
    check(xc.open(V1 + path, method=method, headers=KEY, data="<xml/>", content_type="application/xml"))
    after = {p: xc.get(V1 + p, headers=KEY).json for p in snapshot}
    if path.endswith("/advance"):  # an empty body is a valid request to move the order on
        for moved in ("/CustomerOrders/WS500001", "/CustomerOrders?pageSize=1000", "/ProductAvailability?pageSize=1000"):
            after.pop(moved), snapshot.pop(moved)
    assert after == snapshot
