"""End to end as a user runs it: `commerce-sandbox proxy` (a real process) in front of the stand-in
records a session to --output on SIGTERM; `diff` against a sandbox finds the stand-in's differences;
`seed-from` loads its records into the sandbox, read back through the API."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import requests

from mocks import cli
from tests.conftest import free_port
from tests.drift import standin

pytestmark = pytest.mark.slow


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the proxy exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            requests.get(url + "/__sandbox/health", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("the proxy did not start")


def test_proxy_process_records_then_diff_and_seed_from(real, sandbox_url, tmp_path, capsys):
    app, upstream = real
    inner = app.extensions["real"]
    creds = inner.extensions["sandbox"].credentials()["api2cart"]
    auth = {"api_key": creds["api_key"], "store_key": creds["stores"][0]["store_key"]}
    added = inner.test_client().post("/api2cart/v1.1/product.add.json", query_string=auth, json={
        "name": "Canoe", "model": "CANOE-1", "description": "Red", "price": 900.0}).get_json()["result"]["product_id"]
    port = free_port()
    session = tmp_path / "real.har"
    proc = subprocess.Popen([sys.executable, "-m", "mocks", "proxy", "--api", "api2cart", "--upstream", upstream,
                             "--port", str(port), "--output", str(session), "--format", "har", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc)
        api = base + "/api2cart/v1.1/"
        assert requests.get(api + "product.list.json", params={**auth, "count": 50}, timeout=10).json()["return_code"] == 0
        assert requests.get(api + "product.info.json", params={**auth, "id": 99999}, timeout=10).json()["return_code"] == 113
        assert requests.get(api + "customer.list.json", params=auth, timeout=10).status_code == 200
        r = requests.get(api + "order.list.json", params=auth, timeout=10)
        assert r.headers["X-RateLimit-Limit"] == "100"
        live = requests.get(base + "/__sandbox/export", timeout=10).json()
        assert len(live["requests"]) == 4
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    har = json.loads(session.read_text())
    assert len(har["log"]["entries"]) == 4
    assert creds["api_key"] not in session.read_text()  # masked

    code = cli.main(["diff", str(session), "--target", sandbox_url, "--quiet", "--report-md", str(tmp_path / "d.md")])
    assert code == 1
    out = capsys.readouterr().out
    assert "DIFF #2 GET /api2cart/v1.1/product.info.json (ProductInfo): errors: $.return_code: recorded ['113']" in out
    assert "CustomerList" in out and "x-ratelimit-limit" in out
    assert out.count("DIFF ") == 3

    assert cli.main(["seed-from", str(session), "--target", sandbox_url]) == 0
    target = requests.get(sandbox_url + "/__sandbox/credentials", timeout=10).json()["api2cart"]
    got = requests.get(sandbox_url + "/api2cart/v1.1/product.info.json", timeout=10, params={
        "api_key": target["api_key"], "store_key": target["stores"][0]["store_key"], "id": added}).json()
    assert got["return_code"] == 0 and got["result"]["name"] == "Canoe"
