"""The console end to end: a real ``serve`` process, the page in headless Chromium (Debian's package,
driven by playwright-core from npm), a scenario activated through the page, requests sent with
``requests``, seen live in the journal with the rule that fired, a detail opened, the session exported;
then the header's link to Click2Sync's API reference (``/click2sync/docs``) followed and "Try it out"
run there.

Installs what it needs (``apt-get install chromium``; ``npm install playwright-core`` into the
gitignored ``tests/console/.node/``) and skips, saying why, only if that is impossible. Also writes
the screenshot ``docs/console.png``.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NODE_DIR = HERE / ".node"
PLAYWRIGHT = "playwright-core@1.65.1"
KEY = {"C2SKey": "c2s-demo-key"}
PRODUCTS = "/click2sync/api/product"
#: what the test sends once the page is open with the scenario active: (method, headers, body)
REQUESTS = [("GET", KEY, None), ("GET", KEY, None), ("GET", {"C2SKey": "wrong"}, None),
            ("POST", KEY, {"sku": "console-e2e"})]  # the last one has no title: a contract violation


def _run(cmd: list[str], timeout: float, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def _chromium() -> str:
    found = shutil.which("chromium") or (os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium")
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip("Chromium is not installed and there is no apt-get to install Debian's chromium")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if sudo and shutil.which("sudo") is None:
        pytest.skip("Chromium is not installed, and installing it needs root (no sudo)")
    try:
        done = _run([*sudo, "apt-get", "install", "-y", "-q", "chromium"], timeout=900)
        if done.returncode != 0:
            _run([*sudo, "apt-get", "update", "-q"], timeout=300)
            done = _run([*sudo, "apt-get", "install", "-y", "-q", "chromium"], timeout=900)
    except subprocess.TimeoutExpired:
        pytest.skip("apt-get install chromium timed out")
    found = shutil.which("chromium")
    if not found:
        pytest.skip(f"could not install Debian's chromium: {done.stderr.strip()[-500:]}")
    return found


def _playwright() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to drive Chromium with playwright-core")
    modules = NODE_DIR / "node_modules"
    if not (modules / "playwright-core" / "package.json").exists():
        NODE_DIR.mkdir(exist_ok=True)
        (NODE_DIR / "package.json").write_text('{"name": "console-e2e", "private": true}\n')
        try:
            done = _run(["npm", "install", "--no-audit", "--no-fund", "--no-save", PLAYWRIGHT], timeout=300, cwd=NODE_DIR)
        except subprocess.TimeoutExpired:
            pytest.skip("npm install playwright-core timed out")
        if done.returncode != 0:
            pytest.skip(f"could not npm install {PLAYWRIGHT}: {done.stderr.strip()[-500:]}")
    return modules


@pytest.fixture(scope="module")
def browser_tools() -> tuple[str, Path]:
    return _chromium(), _playwright()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    state = tmp_path_factory.mktemp("console") / "state.db"
    # click2sync alone: the console does not depend on which APIs are mounted
    cmd = [sys.executable, "-m", "mocks", "serve", "--workers", "1", "--port", str(port),
           "--state", f"sqlite:///{state}", "--api", "click2sync", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(base + "/__sandbox/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise AssertionError("the sandbox did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
            time.sleep(0.1)
        yield base
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def run(server, browser_tools, tmp_path_factory):
    """One browser session over the whole story; the tests below check its parts."""
    chromium, modules = browser_tools
    shot = tmp_path_factory.mktemp("shot") / "console.png"
    env = {**os.environ, "BASE": server, "SCREENSHOT": str(shot), "NODE_MODULES": str(modules), "CHROMIUM": chromium}
    driver = subprocess.Popen(["node", str(HERE / "e2e.cjs")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    statuses: list[int] = []
    try:
        line = driver.stdout.readline()
        if line.strip() != "READY":
            driver.wait(timeout=30)
            raise AssertionError(f"the browser run failed before sending: {line!r}\n{driver.stderr.read()}")
        # the page is open with the scenario active: now the client under test talks to the API
        for method, headers, body in REQUESTS:
            url = server + PRODUCTS + ("?offset=0" if method == "GET" else "")
            statuses.append(requests.request(method, url, headers=headers, json=body, timeout=10).status_code)
        driver.stdin.write(f"{len(REQUESTS)}\n")
        driver.stdin.flush()
        out, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == 0, f"the browser run failed:\n{err}"
    result = json.loads(next(ln for ln in out.splitlines() if ln.startswith("RESULT "))[len("RESULT "):])
    if os.environ.get("CONSOLE_SCREENSHOT"):  # CONSOLE_SCREENSHOT=docs/console.png refreshes the docs' picture
        shutil.copyfile(shot, ROOT / os.environ["CONSOLE_SCREENSHOT"])
    return {"server": server, "statuses": statuses, **result}


def test_page_runs_without_errors_and_talks_only_to_the_sandbox(run):
    assert run["pageErrors"] == [] and run["elsewhere"] == []
    assert "reset" in run["steps"]


def test_new_requests_appear_live_and_filter(run):
    # the journal rows, newest first: #, time, API, tenant, method, path, status, ms, scenario / rule
    rows = run["rows"]
    assert [r[6] for r in rows] == [str(s) for s in reversed(run["statuses"])]
    assert all(r[2] == "click2sync" and PRODUCTS in r[5] for r in rows)
    # each tenant beside the public part of its credential: a key prefix, never the key
    tenants = {r[3] for r in rows if r[3]}
    assert tenants and all(t.startswith("c2s-") and "key c2s-de… #" in t for t in tenants), tenants
    assert [r[4] for r in rows] == [m for m, _, _ in reversed(REQUESTS)]
    assert "1 violation" in rows[0][8]
    if not run["scenarioEngine"]:
        assert sorted(r[6] for r in run["filtered"]) == ["400", "401"]


def test_detail_shows_violations_and_copies_curl(run):
    detail = run["details"]["400"]
    assert detail["title"] == f"POST {PRODUCTS}" and detail["response"].startswith("400")
    assert "/body" in detail["violations"] and "title" in detail["violations"]
    curl = detail["curl"]
    assert curl.startswith("curl ") and f"'{run['server']}{PRODUCTS}'" in curl and "-X POST" in curl
    assert "c2skey: ***" in curl.lower() and "--data-raw '{\"sku\": \"console-e2e\"}'" in curl
    assert run["clipboard"] == curl
    assert "c2s-demo-key" not in json.dumps(run)
    assert any(v[1] == "request" and PRODUCTS in v[4] and "/body" in v[6] for v in run["violations"])


def test_data_browser_shows_what_is_stored(run):
    assert "products" in run["collections"] and run["products"] > 0


def test_scenario_activated_through_the_page_fires_and_is_shown(run):
    if not run["scenarioEngine"]:
        assert run["statuses"][:2] == [200, 200]
        pytest.skip("the scenario engine (/__sandbox/scenarios) is not on this sandbox: the page said so")
    assert "flaky-5xx" not in run["library"] or \
        "library scenario activated for a tenant with seed 7, then deactivated" in run["steps"]
    assert run["statuses"] == [200, 503, 401, 400], "the rule activated through the page answered the second read"
    assert "console-e2e / second-read-503" in run["rows"][2][8]
    assert [r[6] for r in run["filtered"]] == ["503"]
    detail = run["details"]["503"]
    assert "console-e2e" in detail["fault"] and "second-read-503" in detail["fault"]
    assert detail["title"] == f"GET {PRODUCTS}" and detail["response"].startswith("503")


def test_session_export_downloads(run):
    if not run["exportAvailable"]:
        pytest.skip("session export (/__sandbox/export) is not on this sandbox: the page greyed its buttons out")
    session = json.dumps(run["export_json"])
    assert PRODUCTS in session and "c2s-demo-key" not in session
    urls = [e["request"]["url"] for e in run["export_har"]["log"]["entries"]]
    assert any(PRODUCTS in u for u in urls)


def test_api_reference_from_the_header_renders_and_tries_a_call(run):
    """The page is Swagger UI over the API's own contract, all of it from the sandbox (the run's
    ``elsewhere`` is empty); "Try it out" is a real call, journaled like any other; the page is not."""
    assert run["docsLinks"] == ["/click2sync/docs"]
    docs = run["docs"]
    assert docs["title"].startswith("Click2Sync") and docs["failed"] == [] and docs["warnings"] == []
    assert {"listProducts", "createProduct", "updateProduct", "listOrders", "createOrder"} <= set(docs["operations"])
    tried = docs["tryItOut"]
    assert tried["status"] == "200" and tried["url"] == f"{run['server']}{PRODUCTS}?offset=0"
    assert '"products"' in tried["body"]
    journal = requests.get(run["server"] + "/__sandbox/requests", timeout=10).json()["requests"]
    paths = [(e["method"], e["path"], e["status"]) for e in journal]
    assert ("GET", PRODUCTS, 200) in paths
    assert not [p for p in paths if "/docs" in p[1] or p[1].endswith("/openapi.json")], paths
