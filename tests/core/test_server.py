"""`commerce-sandbox serve` as a real process: workers share state; kill -9 loses nothing acknowledged."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.conftest import free_port

pytestmark = pytest.mark.slow
KEY = {"C2SKey": "c2s-demo-key"}


class Server:
    def __init__(self, state: str, workers: int = 2, cwd: str | None = None, extra: list[str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "mocks", "serve", "--port", str(self.port), "--workers", str(workers),
               "--threads", "8", "--state", state, "--quiet", *(extra or [])]
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(self.base + "/__sandbox/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        self.kill()
        raise AssertionError(f"server did not start: {self.proc.stdout.read().decode(errors='replace')}")

    def kill(self) -> None:
        """kill -9 of the master and every worker."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()


@pytest.fixture(params=["sqlite", "redis"])
def state_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + f"/{5 + len(str(tmp_path)) % 8}"
    import redis
    redis.Redis.from_url(url).flushdb()
    return url


def test_a_write_through_one_worker_is_read_through_the_other(state_url):
    server = Server(state_url, workers=2)
    try:
        created = requests.post(server.base + "/click2sync/api/product", headers=KEY,
                                json={"sku": "shared-1", "title": "t"}, timeout=5)
        assert created.status_code == 200
        writer = created.headers["X-Sandbox-Worker"]
        readers = set()
        for _ in range(300):  # fresh connections until the other worker answers
            r = requests.get(server.base + f"/click2sync/api/product?id={created.json()['_id']}",
                             headers={**KEY, "Connection": "close"}, timeout=5)
            assert r.status_code == 200 and r.json()["products"][0]["sku"] == "shared-1"
            readers.add(r.headers["X-Sandbox-Worker"])
            if readers - {writer}:
                break
        assert readers - {writer}, "every read landed on the writing worker"
        # the journal shows requests of both workers
        journal = requests.get(server.base + "/__sandbox/requests?limit=500", timeout=5).json()["requests"]
        assert {r["path"] for r in journal} >= {"/click2sync/api/product"}
    finally:
        server.stop()


def test_kill_9_mid_write_burst_loses_no_acknowledged_write(state_url, tmp_path):
    server = Server(state_url, workers=2)
    acknowledged: list[tuple[str, str]] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        session = requests.Session()
        i = 0
        while not stop.is_set():
            sku = f"burst-{n}-{i}"
            i += 1
            try:
                r = session.post(server.base + "/click2sync/api/product", headers=KEY,
                                 json={"sku": sku, "title": "t"}, timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 200:
                acknowledged.append((r.json()["_id"], sku))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    deadline = time.time() + 20
    while len(acknowledged) < 150 and time.time() < deadline:
        time.sleep(0.05)
    server.kill()  # in the middle of the burst
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert len(acknowledged) >= 50

    if state_url.startswith("sqlite"):
        path = state_url[len("sqlite:///"):]
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restarted = Server(state_url, workers=1)
    try:
        stored = requests.get(restarted.base + "/__sandbox/data/click2sync/products", timeout=10).json()
        by_id = {p["_id"]: p["sku"] for rows in stored["tenants"].values() for p in rows}
        missing = [(i, s) for i, s in acknowledged if by_id.get(i) != s]
        assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}"
        # the restart kept the data instead of seeding over it
        total = requests.get(restarted.base + "/click2sync/api/product", headers=KEY, timeout=5).json()
        assert total["paging"]["itemsTotal"] >= 60 + len(acknowledged)
    finally:
        restarted.stop()


def test_serve_prints_urls_and_credentials(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mocks", "serve", "--port", str(port), "--workers", "1",
                             "--state", f"sqlite:///{tmp_path}/s.db"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out = b""
        deadline = time.time() + 20
        while b"Demo credentials" not in out and time.time() < deadline:
            out += proc.stdout.readline()
        text = out.decode()
        while "c2s-demo-key" not in text and time.time() < deadline:  # the credentials table
            text += proc.stdout.readline().decode()
        assert f"http://127.0.0.1:{port}/click2sync" in text
        assert "c2s-demo-key" in text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
