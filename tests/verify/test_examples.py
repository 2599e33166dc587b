"""The example storefronts in examples/, run as users run them (`python examples/X.py --port N`),
checked with `commerce-sandbox verify click2sync`: the correct one passes, every bug of the buggy
one is reported by name."""
from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from mocks.cli import main
from tests.conftest import free_port

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY = "example-key"


@pytest.fixture
def storefront() -> Iterator[Any]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> str:
        port = free_port()
        proc = subprocess.Popen([sys.executable, str(EXAMPLES / name), "--port", str(port), "--key", KEY],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until it listens (a process start, not a behaviour)
            try:
                requests.get(base + "/product", headers={"C2SKey": KEY}, timeout=1)
                return base
            except requests.ConnectionError:
                assert proc.poll() is None, f"{name} exited with {proc.returncode}"
                time.sleep(0.05)
        pytest.fail(f"{name} did not start listening on {port}")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_correct_storefront_passes(storefront, tmp_path, capsys):
    base = storefront("click2sync_store.py")
    junit = tmp_path / "junit.xml"
    code = main(["verify", "click2sync", "--base-url", base, "--key", KEY, "--max-examples", "5",
                 "--stateful-runs", "3", "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    names = {tc.get("name") for tc in suite.iter("testcase")}
    assert {"C2SKey enforced", "product paging", "order paging", "partial update", "schemathesis",
            "stateful (links)"} <= names


def test_every_bug_of_the_buggy_storefront_is_reported(storefront, tmp_path, capsys):
    base = storefront("click2sync_store_buggy.py")
    junit = tmp_path / "junit.xml"
    code = main(["verify", "click2sync", "--base-url", base, "--key", KEY, "--max-examples", "5",
                 "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1, out
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    # one <testcase> per finding, named "check: rule", under the check's class name
    assert all(len(tc.findall("failure")) <= 1 for tc in cases)
    assert len({(tc.get("classname"), tc.get("name")) for tc in cases}) == len(cases)
    failures = [(tc.get("classname").removeprefix("verify.click2sync."), f.get("message"), f.text or "")
                for tc in cases for f in tc.findall("failure")]
    assert all(tc.get("name").startswith(f"{check}: {message.split(':')[0]}")
               for tc, (check, message, _) in zip([t for t in cases if t.find("failure") is not None], failures))

    def reported(check: str, rule: str, *words: str) -> bool:
        return any(name == check and message.startswith(rule) and all(w in text for w in words)
                   for name, message, text in failures)

    # 1. wrong itemsTotal (the order listing counts what is left from offset on)
    assert reported("order paging", "itemsTotal is stable across pages", "itemsTotal was 25, then 5 at offset 20"), out
    # 2. missing key check (order hooks)
    assert reported("C2SKey enforced", "C2SKey is enforced", "GET /order without C2SKey answered 200"), out
    assert reported("C2SKey enforced", "C2SKey is enforced", "GET /order with a wrong C2SKey answered 200"), out
    assert not reported("C2SKey enforced", "C2SKey is enforced", "GET /product"), out
    # 3. partial update dropping fields
    for field in ("title", "brand", "tags", "variations"):
        assert reported("partial update", "a partial update keeps the fields it did not send", f"{field} changed"), out
    # 4. numbers where the contract has strings
    assert reported("product paging", "pages have the documented shape and types", "prices/0/number",
                    "is not of type 'string'"), out
    assert reported("schemathesis", "response_schema_conformance", "is not of type \"string\""), out
    # 5. offset off by one (1-based offsets repeat the last item of each page)
    assert reported("product paging", "no item is repeated across pages", "repeated _id: ['1020']"), out
    assert reported("product paging", "each page holds min(pageSize, itemsTotal - offset) items",
                    "offset=40: 6 items, expected 5"), out
    # every finding carries the request as a curl line
    assert "curl -X GET" in out and f"{base}/order?offset=0" in out


def test_read_only_changes_nothing(storefront, capsys):
    base = storefront("click2sync_store.py")

    def totals() -> tuple[int, int]:
        get = lambda what: requests.get(f"{base}/{what}", params={"offset": 0}, headers={"C2SKey": KEY},  # noqa: E731
                                        timeout=10).json()["paging"]["itemsTotal"]
        return get("product"), get("order")

    before = totals()
    code = main(["verify", "click2sync", "--base-url", base, "--key", KEY, "--max-examples", "3", "--read-only"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "partial update" not in out and "stateful" not in out
    assert totals() == before == (45, 25)
