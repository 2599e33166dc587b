"""Faults over real sockets: a real `commerce-sandbox serve` (gunicorn gthread) and `requests`."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.conftest import free_port

pytestmark = pytest.mark.slow
KEY = {"C2SKey": "c2s-demo-key"}
PRODUCTS = "/click2sync/api/product?offset=0"

QA_SCENARIO = """
name: qa-faults
description: one rule per action, chosen by the X-Fault header
seed: 9
rules:
  - match: {headers: {X-Fault: reset}}
    action: {reset: true}
  - match: {headers: {X-Fault: timeout}}
    action: {timeout: {seconds: 3}}
  - match: {headers: {X-Fault: hold}}
    action: {timeout: {seconds: 4}}
  - match: {headers: {X-Fault: malformed}}
    action: {malformed: true}
  - match: {headers: {X-Fault: bytes}}
    action: {malformed: bytes}
  - match: {headers: {X-Fault: dribble}}
    action: {dribble: {chunks: 4, seconds: 1.2}}
  - match: {headers: {X-Fault: close}}
    action: {empty: close}
  - match: {headers: {X-Fault: empty}}
    action: {empty: true}
  - match: {headers: {X-Fault: slow-503}}
    action: {delay: {fixed_ms: 300}, status: 503, headers: {Retry-After: "5"}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    (folder / "qa-faults.yaml").write_text(QA_SCENARIO)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SANDBOX_SCENARIOS": str(folder)}
    cmd = [sys.executable, "-m", "mocks", "serve", "--port", str(port), "--workers", "2", "--threads", "32",
           "--state", f"sqlite:///{folder}/state.db", "--api", "click2sync", "--scenario", "qa-faults", "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if requests.get(base + "/__sandbox/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(proc.stdout.read().decode(errors="replace"))
    yield base
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def get(server, fault=None, **kw):
    headers = {**KEY, "Connection": "close"}
    if fault:
        headers["X-Fault"] = fault
    kw.setdefault("timeout", 10)
    return requests.get(server + PRODUCTS, headers=headers, **kw)


def test_serve_scenario_flag_activates_it(server):
    listing = requests.get(server + "/__sandbox/scenarios", timeout=5).json()
    assert [a["name"] for a in listing["active"]] == ["qa-faults"]
    assert get(server).status_code == 200


def test_reset_is_a_connection_error(server):
    with pytest.raises(requests.ConnectionError) as info:
        get(server, "reset")
    assert "reset" in str(info.value).lower() or "aborted" in str(info.value).lower()


def test_timeout_is_a_read_timeout(server):
    started = time.perf_counter()
    with pytest.raises(requests.ReadTimeout):
        get(server, "timeout", timeout=1)
    assert time.perf_counter() - started < 2.5


def journal_entry(server, fault):
    """The newest journal entry of a request with this fault (written once the server let it go)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = requests.get(server + "/__sandbox/requests", params={"path": "/click2sync/api/product"},
                            timeout=5).json()["requests"]
        found = [e for e in rows if e["request"]["headers"].get("X-Fault") == fault]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no journal entry for X-Fault: {fault}")


def test_the_journal_records_how_long_a_held_request_really_took(server):
    with pytest.raises(requests.ReadTimeout):
        get(server, "timeout", timeout=1)  # the client gives up after 1 s; the server holds it 3 s
    entry = journal_entry(server, "timeout")
    assert entry["status"] is None and entry["fault"]["no_answer"] == "timeout"
    assert entry["duration_ms"] >= 3000
    get(server, "dribble").json()  # the body streamed over 1.2 s
    assert journal_entry(server, "dribble")["duration_ms"] >= 1000


def test_close_without_answer(server):
    with pytest.raises(requests.ConnectionError):
        get(server, "close")


def test_malformed_body_breaks_the_clients_json_decoder(server):
    for fault in ("malformed", "bytes"):
        r = get(server, fault)
        assert r.status_code == 200
        with pytest.raises(requests.exceptions.JSONDecodeError):
            r.json()


def test_empty_body(server):
    r = get(server, "empty")
    assert r.status_code == 200 and r.content == b""


def test_delay_then_status_stack(server):
    started = time.perf_counter()
    r = get(server, "slow-503")
    assert time.perf_counter() - started >= 0.3
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.json()["success"] is False  # Click2Sync's own error shape


def test_dribble_streams_the_real_body_in_chunks(server):
    whole = get(server).json()
    started = time.perf_counter()
    r = get(server, "dribble", stream=True)
    arrivals, pieces = [], []
    while True:
        piece = r.raw.read1(1 << 20)  # whatever has arrived
        if not piece:
            break
        arrivals.append(time.perf_counter() - started)
        pieces.append(piece)
    assert len(pieces) >= 3
    assert arrivals[-1] - arrivals[0] >= 0.8
    assert json.loads(b"".join(pieces)) == whole


def test_held_requests_do_not_block_other_clients(server):
    outcomes: list[str] = []

    def held() -> None:
        try:
            get(server, "hold", timeout=15)
            outcomes.append("answered")
        except requests.ConnectionError:
            outcomes.append("closed")
        except requests.RequestException as exc:  # pragma: no cover - reported by the assertion
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=held) for _ in range(20)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(0.5)  # the 20 are in and held
    latencies = []
    for _ in range(20):
        t0 = time.perf_counter()
        assert get(server, timeout=5).status_code == 200
        latencies.append(time.perf_counter() - t0)
    assert time.perf_counter() - started < 3.5, "the others were answered only after the held ones"
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.25 and latencies[-1] < 1.0, latencies
    for t in threads:
        t.join(timeout=20)
    assert outcomes == ["closed"] * 20
    journal = requests.get(server + "/__sandbox/requests?limit=500", timeout=5).json()["requests"]
    held_entries = [e for e in journal if (e.get("fault") or {}).get("rule") == 2]
    assert len(held_entries) == 20 and all(e["status"] is None and e["scenario"] == "qa-faults" for e in held_entries)


def test_rule_counters_are_shared_by_the_workers(server):
    every3 = {"name": "every-third", "seed": 1,
              "rules": [{"match": {"headers": {"X-Fault": "count"}}, "when": {"every": 3}, "action": {"status": 503}}]}
    assert requests.post(server + "/__sandbox/scenarios", json=every3, timeout=5).status_code == 201
    got, workers = [], set()
    while len(got) < 30 or (len(workers) < 2 and len(got) < 300):  # until both workers took some
        r = get(server, "count")
        got.append(r.status_code)
        workers.add(r.headers["X-Sandbox-Worker"])
    requests.delete(server + "/__sandbox/scenarios/every-third", timeout=5)
    assert len(workers) == 2, "every request landed on one worker"
    assert [i + 1 for i, s in enumerate(got) if s == 503] == list(range(3, len(got) + 1, 3))


def test_record_then_replay_over_http(server, tmp_path, capsys):
    """Last in the module: it resets the server."""
    from mocks import cli

    assert requests.post(server + "/__sandbox/reset", json={}, timeout=10).status_code == 200
    flaky = {"name": "flaky", "seed": 3, "rules": [{"when": {"probability": 0.5}, "action": {"status": 503}}]}
    assert requests.post(server + "/__sandbox/scenarios", json=flaky, timeout=5).status_code == 201
    for fault in (None, "slow-503", "malformed", "empty", None, None):
        try:
            get(server, fault)
        except requests.RequestException:
            pass
    for _ in range(3):
        with pytest.raises(requests.ConnectionError):
            get(server, "reset")
    path = tmp_path / "session.json"
    assert cli.main(["record", "--base-url", server, "-o", str(path)]) == 0
    data = json.loads(path.read_text())
    assert len(data["requests"]) == 9 and {s["name"] for s in data["scenarios"]} == {"qa-faults", "flaky"}
    har = tmp_path / "session.har"
    assert cli.main(["record", "--base-url", server, "-o", str(har), "--format", "har"]) == 0
    assert len(json.loads(har.read_text())["log"]["entries"]) == 9
    capsys.readouterr()
    assert cli.main(["replay", str(path), "--target", server, "--reset"]) == 0, capsys.readouterr().out
    assert "no differences" in capsys.readouterr().out
    data["requests"][0]["status"] = 299
    path.write_text(json.dumps(data))
    assert cli.main(["replay", str(path), "--target", server, "--reset", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"DIFF #\d+ GET /click2sync/api/product: status 299 != (200|503)", out), out
    assert "replayed 9 requests: 1 with differences" in out
    assert cli.main(["replay", str(tmp_path / "missing.json"), "--target", server]) == 2
