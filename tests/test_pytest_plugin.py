"""The pytest plugin (entry point pytest11): small connector test suites written as a user would,
run with pytester, and their outcomes checked."""
from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONNECTOR = '''
import requests


def all_products(base_url, key):
    """A connector's paging loop over a Click2Sync storefront."""
    products, offset = [], 0
    while True:
        r = requests.get(base_url + "/api/product", params={"offset": offset}, headers={"C2SKey": key}, timeout=10)
        r.raise_for_status()
        body = r.json()
        products += body["products"]
        offset += body["paging"]["pageSize"]
        if offset >= body["paging"]["itemsTotal"]:
            return products, body["paging"]["itemsTotal"]
'''


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(connector=CONNECTOR)
    return pytester


def test_the_plugin_is_registered_by_its_entry_point(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["plugins: *commerce-sandbox*"])
    for name in ("sandbox", "sandbox_server", "sandbox_server_factory", "sandbox_scenario"):
        result.stdout.fnmatch_lines([f"{name} -- *mocks/pytest_plugin.py:*"])


def test_in_process_sandbox_and_strict_marker(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_inprocess='''
import pytest


@pytest.mark.sandbox(apis=["click2sync"])
def test_list_products(sandbox):
    key = sandbox.credentials["click2sync"]["key"]
    r = sandbox.client.get(sandbox.api_path("click2sync") + "/api/product?offset=0", headers={"C2SKey": key})
    assert r.status_code == 200
    assert r.get_json()["paging"]["itemsTotal"] > 0
    assert sandbox.violations() == []


@pytest.mark.sandbox(apis=["click2sync"], strict=True)
def test_a_connector_sending_a_number_for_a_string(sandbox):
    r = sandbox.client.post("/click2sync/api/product", json={"sku": 5, "title": "x"},
                            headers={"C2SKey": "c2s-demo-key"})
    assert r.status_code == 400  # the connector's test passes; the strict marker fails it at teardown


@pytest.mark.sandbox(apis=["xtnd"], seed=5)
def test_marker_picks_the_apis(sandbox):
    assert list(sandbox.state.apis) == ["xtnd"]
    assert sandbox.state.config.seed == 5
''')
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*1 contract violation(s)*", "*request POST /click2sync/api/product (createProduct)*"
                                 "/body/sku*"])


def test_live_server_scenario_and_factory(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_live='''
import pytest
import requests

from connector import all_products


@pytest.mark.sandbox(apis=["click2sync"])
def test_paging_over_http(sandbox_server):
    key = sandbox_server.credentials["click2sync"]["key"]
    products, total = all_products(sandbox_server.api_url("click2sync"), key)
    assert len(products) == total == len({p["_id"] for p in products})
    assert sandbox_server.requests(api="click2sync", method="GET")


FAIL_READS = {"name": "c2s-down", "rules": [{"match": {"api": "click2sync", "method": "GET"},
                                             "when": {"always": True}, "action": {"status": 503}}]}


@pytest.mark.sandbox(apis=["click2sync"])
def test_the_connector_sees_the_outage_only_inside_the_block(sandbox_server, sandbox_scenario):
    key = sandbox_server.credentials["click2sync"]["key"]
    with sandbox_scenario(FAIL_READS):
        with pytest.raises(requests.HTTPError) as info:
            all_products(sandbox_server.api_url("click2sync"), key)
        assert info.value.response.status_code == 503
    products, total = all_products(sandbox_server.api_url("click2sync"), key)
    assert len(products) == total
    assert sandbox_server.violations() == []


def test_factory_with_sqlite_state(sandbox_server_factory):
    one = sandbox_server_factory(apis=["click2sync"], state="sqlite")
    two = sandbox_server_factory(apis=["click2sync"])
    headers = {"C2SKey": "c2s-demo-key"}
    before = all_products(one.api_url("click2sync"), "c2s-demo-key")[1]
    r = requests.post(one.api_url("click2sync") + "/api/product", headers=headers,
                      json={"sku": "plugin-test-1", "title": "Mug"}, timeout=10)
    assert r.status_code == 200, r.text
    assert all_products(one.api_url("click2sync"), "c2s-demo-key")[1] == before + 1
    assert all_products(two.api_url("click2sync"), "c2s-demo-key")[1] == before  # its own state
    assert one.state.store.describe().startswith("sqlite")


@pytest.mark.sandbox(apis=["click2sync"])
def test_clock_moves_without_sleeping(sandbox):
    before = sandbox.state.clock.now()
    sandbox.advance_clock(3600)
    assert sandbox.state.clock.now() - before >= 3600
''')
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_scenario_without_a_sandbox_is_a_usage_error(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_misuse='''
def test_no_sandbox(sandbox_scenario):
    with sandbox_scenario("flaky-5xx"):
        pass
''')
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*sandbox_scenario needs the sandbox or sandbox_server fixture*"])
