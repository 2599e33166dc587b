"""The product as its users get it: a wheel built from this checkout, installed (not editable) into
a fresh virtualenv, run from a temporary working directory that holds nothing of the repository.

Every command here is a command the README shows (the README section is named beside each step).
Nothing in this module imports the project: the installed package must stand on its own.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import venv
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
KEY = "example-key"
# what the wheel is built from: everything but what a clone does not have or the wheel does not need
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", ".sandbox", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".hypothesis", "tests", "bench", "contract_tests", "tools")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Installed:
    """A fresh virtualenv holding the built wheel (and pytest), and a working directory outside the repo."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "venv" / "bin"
        self.work = root / "work"
        self.work.mkdir()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONPATH", "VIRTUAL_ENV", "SANDBOX_SCENARIOS", "COMMERCE_SANDBOX_SCHEMAS",
                                 "SANDBOX_ADMIN_TOKEN", "PYTEST_ADDOPTS")}
        self.env["PATH"] = f"{self.bin}{os.pathsep}{self.env.get('PATH', '')}"

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 300, check: int | None = 0,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(list(args), cwd=cwd or self.work, env={**self.env, **(env or {})}, text=True,
                                capture_output=True, timeout=timeout)
        if check is not None:
            assert result.returncode == check, (f"{' '.join(args)} exited {result.returncode}, expected {check}\n"
                                                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def cli(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.bin / "commerce-sandbox"), *args, **kw)

    def start(self, *args: str, name: str, ready: str) -> "Process":
        log = open(self.root / f"{name}.log", "w+")
        proc = subprocess.Popen(list(args), cwd=self.work, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        handle = Process(proc, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # waits for a process to listen, not for a behaviour
            try:
                requests.get(ready, timeout=10)
                return handle
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a worker still booting
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        handle.stop()
        pytest.fail(f"{name} did not start:\n{handle.output()[-3000:]}")


class Process:
    def __init__(self, proc: subprocess.Popen[bytes], log: Any) -> None:
        self.proc, self.log = proc, log

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    timings = {}
    started = time.monotonic()
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES)
    dist = root / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
                   check=True, capture_output=True, timeout=600)
    wheels = list(dist.glob("commerce_sandbox-*.whl"))
    assert len(wheels) == 1, wheels
    timings["build the wheel"] = time.monotonic() - started
    started = time.monotonic()
    venv.EnvBuilder(with_pip=True, clear=True).create(root / "venv")
    handle = Installed(root)
    handle.run(str(handle.bin / "python"), "-m", "pip", "install", "-q", str(wheels[0]), "pytest", timeout=900)
    timings["install into a fresh venv"] = time.monotonic() - started
    print("installed-package timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    shutil.rmtree(source)
    # what the installed test needs from the repository is copied, never imported
    for name in ("click2sync_store.py", "click2sync_store_buggy.py"):
        shutil.copy(REPO / "examples" / name, handle.work / name)
    return handle


@pytest.fixture(scope="module")
def server(installed: Installed) -> Iterator[tuple[str, Process]]:
    """README "Quick start": `commerce-sandbox serve` (default state: SQLite under ./.sandbox/)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = installed.start(str(installed.bin / "commerce-sandbox"), "serve", "--port", str(port), name="serve",
                           ready=base + "/__sandbox/health")
    yield base, proc
    proc.stop()


def test_it_is_the_installed_package_not_the_checkout(installed: Installed) -> None:
    out = installed.run(str(installed.bin / "python"), "-c",
                        "import mocks, mocks.resources as r; print(mocks.__file__); print(r.schemas())").stdout
    site = str(installed.root / "venv")
    assert all(line.startswith(site) for line in out.split()), out
    assert str(REPO) not in out
    assert installed.cli("--version").stdout.strip().startswith("commerce-sandbox ")
    top = installed.cli("--help").stdout
    for command in ("serve", "verify", "scenarios", "record", "replay", "violations"):
        assert f"    {command}" in top, top


def test_serve_answers_on_all_five_apis(installed: Installed, server: tuple[str, Process]) -> None:
    base, proc = server
    banner = proc.output()
    assert "Demo credentials" in banner and "c2s-demo-key" in banner and '{"' not in banner, banner
    assert (installed.work / ".sandbox" / "state.db").is_file()  # the default state, in the working directory
    health = requests.get(base + "/__sandbox/health", timeout=10).json()
    assert health["apis"] == ["click2sync", "printxpand", "stock2shop", "api2cart", "xtnd"]
    for api in health["apis"]:
        doc = requests.get(f"{base}/{api}/openapi.json", timeout=10)
        assert doc.status_code == 200 and doc.json()["openapi"].startswith("3.1"), api
        assert doc.json()["paths"] and doc.json()["components"]["schemas"], api
        docs = requests.get(f"{base}/{api}/docs", timeout=10)  # the browsable reference, assets from the wheel
        assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html"), api
        assert f'data-openapi="/{api}/openapi.json"' in docs.text, api
        for asset, ctype in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
                             ("apidocs.js", "text/javascript")):
            r = requests.get(f"{base}/{api}/docs/{asset}", timeout=10)
            assert r.status_code == 200 and r.headers["Content-Type"].startswith(ctype) and r.content, (api, asset)
    creds = requests.get(base + "/__sandbox/credentials", timeout=10).json()
    r = requests.get(base + "/click2sync/api/product", params={"offset": 0}, headers={"C2SKey": "c2s-demo-key"},
                     timeout=10)
    assert r.status_code == 200 and r.json()["paging"]["itemsTotal"] > 0
    r = requests.post(base + "/printxpand/rest/V1/product/delete/", json={"product": []}, timeout=10,
                      headers={"Authorization": f"Bearer {creds['printxpand']['bearer_token']}"})
    assert r.status_code in (200, 400) and r.headers["Content-Type"].startswith("application/json"), r.text
    user = creds["stock2shop"]["users"][0]
    r = requests.post(base + "/stock2shop/v1/users/authenticate", params={"format": "json"}, timeout=10,
                      json={"system_user_auth": {"username": user["username"], "password": user["password"]}})
    assert r.status_code == 200 and r.json()["system_user"]["token"]
    store = creds["api2cart"]["stores"][0]["store_key"]
    r = requests.get(base + "/api2cart/v1.1/product.list.json", timeout=10,
                     params={"api_key": creds["api2cart"]["api_key"], "store_key": store, "start": 0, "count": 5})
    assert r.status_code == 200 and r.json()["return_code"] == 0, r.text
    r = requests.get(base + "/xtnd/api/v1/customerorders", headers={"Authorization": "Bearer xtnd-demo-key"},
                     timeout=10)
    assert r.status_code == 200, r.text


def test_console_and_scenarios(installed: Installed, server: tuple[str, Process]) -> None:
    base, _ = server
    page = requests.get(base + "/__sandbox/ui/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'href="/click2sync/docs"' in page.text
    for asset in ("console.js", "console.css"):
        assert requests.get(f"{base}/__sandbox/ui/{asset}", timeout=10).status_code == 200, asset
    assert requests.get(base + "/__sandbox/ui/../../etc/passwd", timeout=10).status_code == 404
    listed = installed.cli("scenarios", "list").stdout
    assert "flaky-5xx" in listed and "stock2shop-rate-limit" in listed
    assert "rules:" in installed.cli("scenarios", "show", "flaky-5xx").stdout
    available = requests.get(base + "/__sandbox/scenarios", timeout=10).json()
    assert "flaky-5xx" in json.dumps(available)
    # README "QA": your own scenario files; a name clash is reported and yours wins
    mine = installed.work / "my-scenarios"
    mine.mkdir()
    (mine / "flaky.yaml").write_text("name: flaky-5xx\ndescription: my own flaky\nrules:\n"
                                     "  - when: {always: true}\n    action: {status: 503}\n")
    result = installed.cli("scenarios", "--scenarios-dir", str(mine), "list")
    assert "my own flaky" in result.stdout and "replaces scenarios/flaky-5xx.yaml" in result.stderr
    assert installed.cli("scenarios", "validate", str(mine / "flaky.yaml")).stdout.startswith("ok")
    port = free_port()
    other = installed.start(str(installed.bin / "commerce-sandbox"), "serve", "--port", str(port), "--state", "memory",
                            "--scenarios-dir", str(mine), "--scenario", "flaky-5xx", name="serve-mine",
                            ready=f"http://127.0.0.1:{port}/__sandbox/health")
    try:
        r = requests.get(f"http://127.0.0.1:{port}/click2sync/api/product?offset=0", timeout=10,
                         headers={"C2SKey": "c2s-demo-key"})
        assert r.status_code == 503  # the user's flaky-5xx (always 503), not the built-in one
        assert "replaces scenarios/flaky-5xx.yaml" in other.output()
    finally:
        other.stop()


def test_record_and_replay(installed: Installed, server: tuple[str, Process]) -> None:
    """README "QA": export a session, replay it; replay leaves the target as it is unless --reset."""
    base, _ = server
    assert requests.post(base + "/__sandbox/reset", json={}, timeout=30).status_code == 200  # a clean journal
    for offset in (0, 20):
        requests.get(base + "/click2sync/api/product", params={"offset": offset},
                     headers={"C2SKey": "c2s-demo-key"}, timeout=10)
    session = installed.work / "session.json"
    out = installed.cli("record", "--base-url", base, "-o", str(session)).stdout
    assert out.startswith("recorded ") and json.loads(session.read_text())["requests"]
    before = requests.get(base + "/__sandbox/requests", timeout=10).json()["requests"]
    result = installed.cli("replay", str(session), "--target", base)
    assert "no differences" in result.stdout, result.stdout
    after = requests.get(base + "/__sandbox/requests", timeout=10).json()["requests"]
    assert len(after) > len(before)  # no reset: the journal still holds what was there
    result = installed.cli("replay", str(session), "--target", base, "--reset")
    assert "no differences" in result.stdout, result.stdout


def test_serve_refuses_before_the_banner(installed: Installed, server: tuple[str, Process]) -> None:
    base, _ = server
    port = base.rsplit(":", 1)[1]
    for args, words in ((("--port", port), "already in use"),
                        (("--port", str(free_port()), "--state", "memory", "--workers", "2"), "one worker"),
                        (("--port", str(free_port()), "--state", "redis://127.0.0.1:1/0"), "Redis does not answer"),
                        (("--port", str(free_port()), "--state", "sqlite:///" + str(installed.work)), "directory"),
                        (("--port", str(free_port()), "--state", "postgres://x"), "not a state backend")):
        result = installed.cli("serve", *args, check=2, timeout=60)
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result
        assert words in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.fixture(scope="module")
def storefronts(installed: Installed) -> Iterator[Any]:
    started: list[Process] = []

    def start(name: str) -> str:
        port = free_port()
        proc = installed.start(str(installed.bin / "python"), name, "--port", str(port), "--key", KEY,
                               name=name, ready=f"http://127.0.0.1:{port}/product")
        started.append(proc)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in started:
        proc.stop()


def test_verify_exit_codes_and_junit(installed: Installed, storefronts: Any) -> None:
    """README "CI": verify with JUnit; 0 conforms, 1 violations, 2 could not run."""
    good, buggy = storefronts("click2sync_store.py"), storefronts("click2sync_store_buggy.py")
    junit = installed.work / "verify.xml"
    installed.cli("verify", "click2sync", "--base-url", good, "--key", KEY, "--report-junit", str(junit), check=0)
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("errors") == "0"
    result = installed.cli("verify", "click2sync", "--base-url", buggy, "--key", KEY, "--report-junit", str(junit),
                           check=1)
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) >= 5 and all(len(c.findall("failure")) <= 1 for c in cases), result.stdout
    assert len({c.get("name") for c in cases}) == len(cases)
    result = installed.cli("verify", "click2sync", "--base-url", f"http://127.0.0.1:{free_port()}", "--key", KEY,
                           check=2)
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot connect" in result.stderr, result.stderr
    result = installed.cli("verify", "click2sync", "--base-url", good, check=2)
    assert "--key" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


PLUGIN_TEST = '''
import requests


def test_my_connector_pages_through_products(sandbox_server):
    base = sandbox_server.api_url("click2sync")
    key = sandbox_server.credentials["click2sync"]["key"]
    r = requests.get(base + "/api/product", params={"offset": 0}, headers={"C2SKey": key})
    assert r.status_code == 200
    assert r.json()["paging"]["itemsTotal"] > 0
    sandbox_server.assert_no_violations()


def test_a_flaky_storefront(sandbox_server, sandbox_scenario):
    with sandbox_scenario({"name": "down", "rules": [{"action": {"status": 503}}]}):
        r = requests.get(sandbox_server.api_url("click2sync") + "/api/product?offset=0",
                         headers={"C2SKey": "c2s-demo-key"})
    assert r.status_code == 503
'''


def test_a_separate_pytest_project_uses_the_plugin(installed: Installed) -> None:
    """README "Connector developers": the plugin's fixtures in another project's test suite."""
    project = installed.root / "my-connector"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_connector.py").write_text(PLUGIN_TEST)
    result = installed.run(str(installed.bin / "python"), "-m", "pytest", "-q", cwd=project)
    assert "2 passed" in result.stdout, result.stdout
