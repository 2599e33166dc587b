"""`commerce-sandbox violations`: what a connector sent that broke the contract, readable, and a CI gate."""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest
import requests

from mocks.cli import main
from tests.conftest import free_port

KEY = {"C2SKey": "c2s-demo-key"}


@pytest.fixture
def live(shared_app: Any, serve: Any) -> Callable[..., tuple[Any, str]]:
    """``live(**config) -> (app, base URL)``: Click2Sync and XTND on a loopback port."""
    def start(**config: Any) -> tuple[Any, str]:
        app = shared_app(apis=["click2sync", "xtnd"], **config)
        return app, serve(app)

    return start


def connector_mistake(base: str) -> requests.Response:
    """A connector that sends a number where the contract has a string."""
    r = requests.post(f"{base}/click2sync/api/product", headers=KEY, json={"sku": 12345, "title": "Mug"}, timeout=10)
    assert r.status_code == 400
    return r


def test_no_violations_passes_even_with_fail_on_any(live, capsys):
    _, base = live()
    requests.get(f"{base}/click2sync/api/product", params={"offset": 0}, headers=KEY, timeout=10).raise_for_status()
    assert main(["violations", "--base-url", base, "--fail-on-any"]) == 0
    assert "no contract violations" in capsys.readouterr().out


def test_a_violation_is_printed_with_its_rule_and_curl_and_fails_ci(live, capsys):
    _, base = live()
    connector_mistake(base)
    assert main(["violations", "--base-url", base]) == 0  # reporting alone does not fail
    capsys.readouterr()
    assert main(["violations", "--base-url", base, "--fail-on-any"]) == 1
    out = capsys.readouterr().out
    assert "click2sync POST /click2sync/api/product: request (the client broke the contract)" in out
    assert "operation createProduct" in out
    assert "broken rule: /body/sku: 12345 is not of type 'string'" in out
    assert f"curl -X POST {base}/click2sync/api/product" in out
    assert "--data-raw '{\"sku\": 12345" in out
    assert "1 contract violation(s)" in out


def test_filter_by_api_json_output_and_clear(live, capsys):
    app, base = live()
    connector_mistake(base)
    requests.get(f"{base}/xtnd/api/v1/Products", params={"page": "zero"},
                 headers={"Authorization": "Bearer xtnd-demo-key"}, timeout=10)
    assert main(["violations", "--base-url", base, "--api", "click2sync", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 1 and data["violations"][0]["api"] == "click2sync"
    assert data["violations"][0]["curl"].startswith("curl -X POST")
    assert main(["violations", "--base-url", base, "--fail-on-any", "--clear"]) == 1
    capsys.readouterr()
    assert main(["violations", "--base-url", base, "--fail-on-any"]) == 0
    assert app.extensions["sandbox"].store.values("__sandbox__/violations") == []


def test_admin_token_is_sent(live, capsys):
    _, base = live(admin_token="s3cret")
    connector_mistake(base)
    assert main(["violations", "--base-url", base]) == 2  # the control plane refuses without the token
    capsys.readouterr()
    assert main(["violations", "--base-url", base, "--admin-token", "s3cret", "--fail-on-any"]) == 1
    assert "broken rule" in capsys.readouterr().out


def test_unreachable_sandbox_exits_2(capsys):
    assert main(["violations", "--base-url", f"http://127.0.0.1:{free_port()}", "--timeout", "2"]) == 2
    assert "could not read the violations" in capsys.readouterr().err
