"""`serve`'s start-up: the app built once in the master, the seeding in children, the workers forked."""
from __future__ import annotations

import gc
import json
import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from mocks import cli
from mocks.app import create_app
from mocks.core.sandbox import SEEDED
from mocks.serve import prepare_app
from tests.conftest import free_port


@pytest.fixture(autouse=True)
def _unfreeze():
    """prepare_app readies a master for the fork (gc.freeze): this test process goes on after it."""
    yield
    gc.unfreeze()


def _args(state: str, *extra: str):
    argv = ["serve", "--state", state, "--port", str(free_port()), "--quiet", *extra]
    return cli.build_parser("serve").parse_args(argv)


def test_a_cold_start_seeds_in_children_exactly_what_seeding_in_process_gives(tmp_path):
    args = _args(f"sqlite:///{tmp_path}/state.db")
    app, text = prepare_app(args, cli.config_from_args(args))
    sandbox = app.extensions["sandbox"]
    assert text == "" and sandbox.unseeded() == []
    statuses = {v["status"] for _, v in sandbox.store.items(SEEDED)}
    assert statuses == {"seeded"}  # every tenant, none left half done
    reference = create_app({"state": "memory", "testing": True}).extensions["sandbox"].store
    with sqlite3.connect(f"{tmp_path}/state.db") as db:
        namespaces = [ns for (ns,) in db.execute("SELECT DISTINCT ns FROM kv")]
    data = [ns for ns in namespaces if ns.split("/")[0] in sandbox.apis]
    assert len(data) > 20
    for ns in data:
        assert dict(sandbox.store.items(ns)) == dict(reference.items(ns)), ns
    sandbox.store.close()


def test_a_restart_seeds_nothing_and_leaves_the_master_without_threads_or_heavy_imports(tmp_path):
    """On a seeded state the master builds the app and nothing else: no seeding child, no thread
    running when gunicorn forks the workers, and none of what serving never needs imported."""
    state = f"sqlite:///{tmp_path}/state.db"
    args = _args(state)
    app, _ = prepare_app(args, cli.config_from_args(args))  # seeds
    app.extensions["sandbox"].store.close()
    script = f"""
import json, sys, threading
from mocks import cli
from mocks.serve import prepare_app
args = cli.build_parser("serve").parse_args(["serve", "--state", {state!r}, "--port", "{free_port()}", "--quiet"])
app, _ = prepare_app(args, cli.config_from_args(args))
heavy = ("faker", "requests", "mocks.verify", "schemathesis", "hypothesis", "cryptography", "rich")
print(json.dumps({{"threads": [t.name for t in threading.enumerate()],
                  "imported": [m for m in heavy if m in sys.modules],
                  "unseeded": app.extensions["sandbox"].unseeded()}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"threads": ["MainThread"], "imported": [], "unseeded": []}


def test_after_a_fork_a_sandbox_has_a_scheduler_of_its_own(tmp_path):
    app = create_app({"state": f"sqlite:///{tmp_path}/s.db", "testing": True, "apis": ["click2sync"]},
                     start=False)
    sandbox = app.extensions["sandbox"]
    before = sandbox.scheduler
    sandbox.before_fork()
    sandbox.after_fork()  # (as a worker does; here in the same process)
    try:
        assert sandbox.scheduler is not before and sandbox.scheduler.holder != before.holder
        assert not sandbox.scheduler.running  # testing: no thread unless asked
        assert gc.get_freeze_count() > 0  # what was built before the fork is out of the collector's way
    finally:
        sandbox.scheduler.stop()
        sandbox.store.close()


@pytest.mark.slow
def test_workers_forked_from_one_master_hold_the_lease_once(tmp_path):
    from tests.core.test_server import Server

    server = Server(f"sqlite:///{tmp_path}/state.db", workers=2)
    try:
        seen: dict[str, dict] = {}
        deadline = time.time() + 30
        while time.time() < deadline:
            r = requests.get(server.base + "/__sandbox/scheduler", headers={"Connection": "close"}, timeout=5)
            seen[r.headers["X-Sandbox-Worker"]] = r.json()
            if len(seen) == 2 and sum(s["holding"] for s in seen.values()) == 1:
                break
            time.sleep(0.05)
        assert len(seen) == 2, "one worker answered every request"
        assert all(s["running"] for s in seen.values())
        holders = {s["holder"] for s in seen.values()}
        assert len(holders) == 2, f"the workers share a lease holder name: {holders}"
        assert sum(s["holding"] for s in seen.values()) == 1
    finally:
        server.stop()


def test_a_fresh_state_starts_from_the_kept_seeded_state_and_holds_the_same(tmp_path, monkeypatch):
    """serve keeps the state it seeded from nothing (mocks.core.seedcache); the next start on a new
    state file with the same seed, APIs, options and code starts from a copy of it: the same data,
    no seeding. Another seed is another state."""
    monkeypatch.setenv("COMMERCE_SANDBOX_CACHE", str(tmp_path / "cache"))

    def start(name: str, *extra: str):
        args = _args(f"sqlite:///{tmp_path}/{name}.db", *extra)
        app, _ = prepare_app(args, cli.config_from_args(args), keep_seeds=True)
        with sqlite3.connect(f"{tmp_path}/{name}.db") as db:
            rows = sorted(db.execute("SELECT ns, key, value FROM kv"))
        app.extensions["sandbox"].store.close()
        return rows

    first = start("first")
    kept = list((tmp_path / "cache" / "seeds").glob("*.db"))
    assert len(kept) == 1
    with sqlite3.connect(kept[0]) as db:  # taken before anything else wrote: no scenario, no request
        assert sorted(db.execute("SELECT ns, key, value FROM kv")) == [
            r for r in first if not r[0].startswith("__sandbox__/scenarios")]
    second = start("second")
    assert second == first
    other = start("other", "--seed", "2")
    assert other != first and len(list((tmp_path / "cache" / "seeds").glob("*.db"))) == 2
    # without keep_seeds (and with the cache off) nothing is read or kept
    monkeypatch.setenv("COMMERCE_SANDBOX_CACHE", "")
    assert start("third") == first
