"""The console end to end: a real ``serve`` process, the page in headless Chromium (Debian's package,
driven by playwright-core from npm), a scenario activated through the page, requests sent with
``requests``, seen live in the journal with the rule that fired, a detail opened, the session exported.

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


@pytest.fixture
def server(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # click2sync alone: the console does not depend on which APIs are mounted
    cmd = [sys.executable, "-m", "mocks", "serve", "--workers", "1", "--port", str(port),
           "--state", f"sqlite:///{tmp_path / 'state.db'}", "--api", "click2sync", "--quiet"]
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


def test_console_end_to_end(server, browser_tools, tmp_path):
    chromium, modules = browser_tools
    shot = tmp_path / "console.png"
    env = {**os.environ, "BASE": server, "SCREENSHOT": str(shot), "NODE_MODULES": str(modules), "CHROMIUM": chromium}
    driver = subprocess.Popen(["node", str(HERE / "e2e.cjs")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = driver.stdout.readline()
        assert line.strip() == "READY", f"driver: {line!r} {driver.stderr.read() if driver.poll() is not None else ''}"
        # the page is open with the scenario active: now the client under test talks to the API
        statuses = []
        for headers in (KEY, KEY, {"C2SKey": "wrong"}):
            statuses.append(requests.get(server + "/click2sync/api/product?offset=0", headers=headers, timeout=10).status_code)
        driver.stdin.write("sent\n")
        driver.stdin.flush()
        out, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == 0, f"the browser run failed:\n{err}"
    result = json.loads(next(ln for ln in out.splitlines() if ln.startswith("RESULT "))[len("RESULT "):])

    assert result["pageErrors"] == [] and result["elsewhere"] == [], result
    # the journal rows, newest first: #, time, API, tenant, method, path, status, ms, scenario / rule
    newest = result["rows"]
    assert [r[6] for r in newest] == [str(s) for s in reversed(statuses)]
    assert all(r[2] == "click2sync" and r[4] == "GET" and "/click2sync/api/product?offset=0" in r[5] for r in newest)
    detail = result["detail"]
    assert "curl" in detail["curl"] and "c2skey: ***" in detail["curl"].lower() and "c2s-demo-key" not in json.dumps(result)
    assert f"'{server}/click2sync/api/product?offset=0'" in detail["curl"]
    assert result["clipboard"] == detail["curl"]
    assert "products" in result["collections"] and result["products"] > 0

    if result["scenarioEngine"]:
        assert statuses == [200, 503, 401], "the scenario activated through the page fired on the second read"
        assert "console-e2e / second-read-503" in newest[1][8]
        assert [r[6] for r in result["filtered5xx"]] == ["503"]
        assert "console-e2e" in detail["fault"] and "second-read-503" in detail["fault"]
        assert detail["title"] == "GET /click2sync/api/product" and detail["response"].startswith("503")
    else:
        assert statuses == [200, 200, 401]
        pytest.skip("the scenario engine (/__sandbox/scenarios) is not there: the page said so; "
                    "the journal, detail, curl, data browser and reset were checked")

    if os.environ.get("CONSOLE_SCREENSHOT"):  # CONSOLE_SCREENSHOT=docs/console.png refreshes the docs' picture
        shutil.copyfile(shot, ROOT / os.environ["CONSOLE_SCREENSHOT"])

    if not result["exportAvailable"]:
        pytest.skip("session export (/__sandbox/export) is not available yet: the buttons were disabled; "
                    "everything else was checked")
    session = json.dumps(result["export_json"])
    assert "/click2sync/api/product" in session and "c2s-demo-key" not in session
    har = result["export_har"]
    urls = [e["request"]["url"] for e in har["log"]["entries"]]
    assert any("/click2sync/api/product" in u for u in urls)
