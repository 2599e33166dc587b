"""Soak: many concurrent clients, mixed reads and writes across the five APIs, for a bounded time.

    python -m bench.soak [--clients 200] [--duration 60] [--requests N] [--state sqlite]
                         [--workers 2] [--base-url URL] [--scenario NAME] [--max-rss-growth-mb 64]

Starts ``python -m mocks serve`` on loopback (unless ``--base-url`` names a running sandbox),
drives it with ``--clients`` keep-alive connections (asyncio, one coroutine per client) and
prints p50/p95/p99 latency overall and per API. Exit 1 when any request failed other than the
ones a scenario injected (answers carrying ``X-Sandbox-Scenario``), when the journal outgrew its
capacity, or when the server's resident memory grew by more than ``--max-rss-growth-mb`` between
half-way through the run and its end (a leak keeps growing; caches and the journal have filled by then).

An error is: no answer (connection reset, timeout), a 5xx, or a status the operation does not
expect (each operation lists its own; e.g. an API2Cart call must answer ``return_code`` 0).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit

import requests


# -- a small keep-alive HTTP/1.1 client ---------------------------------------------------------------
class Conn:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (OSError, ConnectionError):
                pass
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        for attempt in (0, 1):   # a keep-alive connection the server closed is reopened once
            if self.writer is None:
                self.reader, self.writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), self.timeout)
                fresh = True
            else:
                fresh = False
            try:
                return await asyncio.wait_for(self._exchange(method, path, headers, body), self.timeout)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                await self.close()
                if fresh or attempt:
                    raise ConnectionError(str(exc) or type(exc).__name__) from None
            except asyncio.TimeoutError:
                await self.close()
                raise
        raise ConnectionError("unreachable")

    async def _exchange(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        got: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            got[name.strip().lower()] = value.strip()
        if got.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readline()).strip() or b"0", 16)
                if size == 0:
                    await self.reader.readline()
                    break
                data += await self.reader.readexactly(size)
                await self.reader.readline()
        else:
            data = await self.reader.readexactly(int(got.get("content-length", "0")))
        if got.get("connection", "").lower() == "close":
            await self.close()
        return status, got, data


# -- the operations ---------------------------------------------------------------------------------
@dataclass
class Op:
    api: str
    name: str
    weight: int
    build: Callable[[int], tuple[str, str, dict[str, str], Any]]   # n -> method, path, headers, json body
    ok: Callable[[int, bytes], bool]
    write: bool = False


def status_in(*codes: int) -> Callable[[int, bytes], bool]:
    return lambda status, body: status in codes


def a2c_ok(status: int, body: bytes) -> bool:
    return status == 200 and json.loads(body).get("return_code") == 0


def bounded_writes(ops: list[Op], creds: dict[str, Any], keys: int, first_c2s_id: str, xtnd_hook: str) -> list[Op]:
    """``--key-space N``: the writes update a fixed set of records instead of creating new ones,
    so the stored data stays the same size and memory growth can only come from the server.
    (Stock2Shop queued products reuse N product codes; the queue itself keeps at most
    ``queue_keep`` finished items per client.)"""
    c2s = {"C2SKey": creds["click2sync"]["key"]}
    xt = {"Authorization": f"Bearer {creds['xtnd']['api_key']}"}
    px = {"Authorization": f"Bearer {creds['printxpand']['bearer_token']}"}
    acc = creds["api2cart"]["accounts"][0]
    a2c = {"api_key": acc["api_key"], "store_key": acc["stores"][0]["store_key"]}
    replace = {
        ("click2sync", "create product"): Op("click2sync", "update product", 3, lambda n: (
            "POST", f"/click2sync/api/product/{first_c2s_id}", c2s, {"title": f"Soak {n % keys}"}), status_in(200), True),
        ("xtnd", "create order"): Op("xtnd", "update webhook", 2, lambda n: (
            "PUT", f"/xtnd/api/v1/Webhooks/{xtnd_hook}", xt, {
                "name": f"soak {n % keys}", "callbackUrl": "http://127.0.0.1:9/soak", "triggers": ["OrderCreated"]}),
            status_in(200), True),
        ("printxpand", "create customer"): Op("printxpand", "upsert customer", 3, lambda n: (
            "POST", "/printxpand/rest/V1/customer/create/", px, {"customer": {str(n % keys): {
                "id": f"soak{n % keys}", "first_name": "Soak", "last_name": "K",
                "email": f"soak.k{n % keys}@example.com"}}}), status_in(200, 201), True),
        ("api2cart", "product.add"): Op("api2cart", "product.update", 2, lambda n: (
            "PUT", "/api2cart/v1.1/product.update.json?" + urlencode(a2c), {},
            {"id": str(1 + n % min(keys, 20)), "price": 1 + n % 100}), a2c_ok, True),
    }
    s2s = next((o for o in ops if (o.api, o.name) == ("stock2shop", "queue product")), None)
    if s2s is not None:
        # the same N product codes, queued over and over
        replace[("stock2shop", "queue product")] = Op("stock2shop", "queue product (bounded)", s2s.weight,
                                                      lambda n, make=s2s.build: make(n % keys), s2s.ok, True)
    return [replace.get((o.api, o.name), o) for o in ops]


def xtnd_webhook(base: str, creds: dict[str, Any]) -> str:
    """A subscription the bounded XTND writes update (no order is created, so nothing is sent)."""
    r = requests.post(base + "/xtnd/api/v1/Webhooks", timeout=30, headers={
        "Authorization": f"Bearer {creds['xtnd']['api_key']}"},
        json={"name": "soak", "callbackUrl": "http://127.0.0.1:9/soak", "triggers": ["OrderCreated"]})
    r.raise_for_status()
    return r.json()["id"]


def operations(creds: dict[str, Any], s2s_token: str, run: str) -> list[Op]:
    c2s = {"C2SKey": creds["click2sync"]["key"]}
    xt = {"Authorization": f"Bearer {creds['xtnd']['api_key']}"}
    px = {"Authorization": f"Bearer {creds['printxpand']['bearer_token']}"}
    acc = creds["api2cart"]["accounts"][0]
    a2c = {"api_key": acc["api_key"], "store_key": acc["stores"][0]["store_key"]}
    tok = urlencode({"token": s2s_token})
    return [
        Op("click2sync", "list products", 6, lambda n: ("GET", f"/click2sync/api/product?offset={n % 50}", c2s, None),
           status_in(200)),
        Op("click2sync", "list orders", 3, lambda n: ("GET", "/click2sync/api/order?offset=0", c2s, None), status_in(200)),
        Op("click2sync", "create product", 3, lambda n: ("POST", "/click2sync/api/product", c2s,
                                                         {"sku": f"soak-{run}-{n}", "title": f"Soak {n}"}),
           status_in(200), True),
        Op("xtnd", "list orders", 4, lambda n: ("GET", "/xtnd/api/v1/CustomerOrders?pageSize=20", xt, None), status_in(200)),
        Op("xtnd", "availability", 3, lambda n: ("GET", "/xtnd/api/v1/ProductAvailability?pageSize=20", xt, None),
           status_in(200)),
        Op("xtnd", "create order", 2, lambda n: ("POST", "/xtnd/api/v1/CustomerOrders", xt,
                                                  {"orderNumber": f"S{run}-{n}", "customerNumber": "10001",
                                                   "rows": [{"itemNumber": "100002", "quantity": 1, "price": 9.5}]}),
           status_in(201), True),
        Op("printxpand", "create customer", 3, lambda n: ("POST", "/printxpand/rest/V1/customer/create/", px, {
            "customer": {str(n): {"id": f"{run}{n}", "first_name": "Soak", "last_name": f"N{n}",
                                  "email": f"soak.{run}.{n}@example.com"}}}), status_in(200, 201), True),
        Op("printxpand", "delete missing product", 2, lambda n: ("POST", "/printxpand/rest/V1/product/delete/", px,
                                                                  {"product": [f"missing-{n}"]}), status_in(404)),
        Op("stock2shop", "search products", 4, lambda n: ("POST", f"/stock2shop/v1/products/elastic_search?{tok}", {},
                                                          {"query": {"match_all": {}}, "size": 10}), status_in(200)),
        Op("stock2shop", "queue product", 2, lambda n: ("POST", f"/stock2shop/v1/products/queue?{tok}", {}, {
            "system_products": [{"source": {"source_id": "57", "product_active": "true",
                                            "source_product_code": f"soak-{run}-{n}", "sync_token": "0", "fetch_token": "0"},
                                 "product": {"title": "Soak", "variants": {"source_variant_code": f"soak-{run}-{n}",
                                                                          "sku": f"soak-{run}-{n}"}}}]}),
           status_in(200), True),
        Op("stock2shop", "queue summary", 2, lambda n: ("GET", f"/stock2shop/v1/queue/summary?{tok}", {}, None),
           status_in(200)),
        Op("api2cart", "product.list", 4, lambda n: ("GET", "/api2cart/v1.1/product.list.json?" + urlencode(
            {**a2c, "count": 10, "start": n % 20}), {}, None), a2c_ok),
        Op("api2cart", "order.count", 2, lambda n: ("GET", "/api2cart/v1.1/order.count.json?" + urlencode(a2c), {}, None),
           a2c_ok),
        Op("api2cart", "product.add", 2, lambda n: ("POST", "/api2cart/v1.1/product.add.json?" + urlencode(a2c), {},
                                                     {"name": "Soak", "model": f"soak-{run}-{n}", "description": "d",
                                                      "price": 1}), a2c_ok, True),
    ]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    injected: int = 0
    done: int = 0
    writes: int = 0


async def client_loop(idx: int, host: str, port: int, ops: list[Op], weights: list[int], stats: Stats,
                      stop_at: float, budget: list[int], timeout: float, seed: int) -> None:
    rng = random.Random(seed * 1_000_003 + idx)
    conn = Conn(host, port, timeout)
    n = idx * 10_000_000
    try:
        while time.monotonic() < stop_at and budget[0] > 0:
            budget[0] -= 1
            op = rng.choices(ops, weights)[0]
            n += 1
            method, path, headers, body = op.build(n)
            raw = None if body is None else json.dumps(body).encode()
            hdrs = {**headers, **({"Content-Type": "application/json"} if raw is not None else {})}
            started = time.perf_counter()
            try:
                status, got, data = await conn.request(method, path, hdrs, raw)
            except (ConnectionError, OSError, asyncio.TimeoutError, ValueError) as exc:
                stats.errors[f"{op.api}: {op.name}: {type(exc).__name__}"] += 1
                if len(stats.error_samples) < 10:
                    stats.error_samples.append(f"{op.api} {op.name}: {type(exc).__name__}: {exc}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            stats.done += 1
            if "x-sandbox-scenario" in got:
                stats.injected += 1
                continue
            stats.latencies[op.api].append(elapsed)
            try:
                good = op.ok(status, data)
            except ValueError:
                good = False
            if not good:
                stats.errors[f"{op.api}: {op.name}: HTTP {status}"] += 1
                if len(stats.error_samples) < 10:
                    stats.error_samples.append(f"{op.api} {op.name}: {method} {path[:80]} -> {status} {data[:200]!r}")
            elif op.write:
                stats.writes += 1
    finally:
        await conn.close()


# -- the server under test --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    children[int(fh.read().rsplit(")", 1)[1].split()[1])].append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def start_server(args: argparse.Namespace, folder: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    state = args.state
    if state == "sqlite":
        state = f"sqlite:///{folder}/soak.db"
    cmd = [sys.executable, "-m", "mocks", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(args.workers), "--threads", str(args.threads), "--state", state, "--quiet",
           "--journal-size", str(args.journal_size)]
    for name in args.scenario:
        cmd += ["--scenario", name]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(f"{folder}/server.log", "wb"),
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(base + "/__sandbox/health", timeout=1).status_code == 200:
                return proc, base
        except requests.RequestException:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit(f"soak: the server did not start; see {folder}/server.log")


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def drive(args: argparse.Namespace, base: str, creds: dict[str, Any], token: str, seconds: float,
                requests_budget: int, stats: Stats, pid: int | None) -> tuple[float, list[tuple[float, int, int]]]:
    """Run the clients; sample the server's RSS every second: [(elapsed, requests done, rss kB)]."""
    parts = urlsplit(base)
    ops = operations(creds, token, args.run_id)
    if args.key_space:
        ops = bounded_writes(ops, creds, args.key_space, args.first_c2s_id, args.xtnd_hook)
    weights = [o.weight for o in ops]
    stop_at = time.monotonic() + seconds
    budget = [requests_budget]
    started = time.perf_counter()
    samples: list[tuple[float, int, int]] = []
    finished = asyncio.Event()

    async def sampler() -> None:
        while not finished.is_set():
            if pid is not None:
                samples.append((time.perf_counter() - started, stats.done, tree_rss_kb(pid)))
            try:
                await asyncio.wait_for(finished.wait(), 1.0)
            except asyncio.TimeoutError:
                pass

    async def clients() -> None:
        await asyncio.gather(*(client_loop(i, parts.hostname or "127.0.0.1", parts.port or 80, ops, weights, stats,
                                           stop_at, budget, args.timeout, args.seed) for i in range(args.clients)))
        finished.set()

    await asyncio.gather(sampler(), clients())
    if pid is not None:
        samples.append((time.perf_counter() - started, stats.done, tree_rss_kb(pid)))
    return time.perf_counter() - started, samples


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--duration", type=float, default=60.0, help="seconds (the run stops at this or --requests)")
    p.add_argument("--requests", type=int, default=0, help="stop after this many requests (0: no limit)")
    p.add_argument("--state", default="sqlite", help="memory | sqlite | redis://... (default: a temporary sqlite file)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--journal-size", type=int, default=10_000)
    p.add_argument("--scenario", action="append", default=[])
    p.add_argument("--base-url", default=None, help="drive a running sandbox instead of starting one")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--key-space", type=int, default=0, metavar="N",
                   help="writes update N fixed records instead of creating new ones (stored data stays bounded; "
                        "use it with --requests for the memory-flatness run)")
    p.add_argument("--max-rss-growth-mb", type=float, default=64.0,
                   help="allowed RSS growth of the server from half-way through the run to its end")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    args.run_id = f"{int(time.time()) % 100000}"
    folder = tempfile.mkdtemp(prefix="soak-")
    proc = None
    if args.base_url:
        base = args.base_url.rstrip("/")
    else:
        proc, base = start_server(args, folder)
    try:
        creds = requests.get(base + "/__sandbox/credentials", timeout=30).json()
        token = requests.post(base + "/stock2shop/v1/users/authenticate", timeout=30, json={
            "system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}}).json()["system_user"]["token"]
        args.first_c2s_id = requests.get(base + "/click2sync/api/product", timeout=30, headers={
            "C2SKey": creds["click2sync"]["key"]}).json()["products"][0]["_id"]
        args.xtnd_hook = xtnd_webhook(base, creds) if args.key_space else ""
        total_budget = args.requests or 10 ** 12
        stats = Stats()
        seconds = args.duration if not args.requests else 10 ** 9
        wall, samples = asyncio.run(drive(args, base, creds, token, seconds, total_budget, stats,
                                          proc.pid if proc else None))
        # flat memory: compare the end with the sample half-way through the run (caches, pools and
        # the journal have filled by then; a leak keeps growing)
        half = next((rss for t, done, rss in samples if (done >= stats.done / 2 if args.requests else t >= wall / 2)),
                    samples[0][2] if samples else 0)
        rss_start, rss_end = half, (samples[-1][2] if samples else 0)
        rss_peak = max((rss for _, _, rss in samples), default=0)
        journal = requests.get(base + "/__sandbox/requests?limit=1", timeout=60).json()
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    every = [v for vals in stats.latencies.values() for v in vals]
    figures = {
        "clients": args.clients, "seconds": round(wall, 1), "requests": stats.done,
        "measured_requests": len(every), "rps": round(len(every) / wall, 1) if wall else 0,
        "writes_acknowledged": stats.writes, "injected": stats.injected,
        "errors": sum(stats.errors.values()),
        "p50_ms": round(pct(every, 50), 1), "p95_ms": round(pct(every, 95), 1), "p99_ms": round(pct(every, 99), 1),
        "per_api": {api: {"requests": len(v), "p50_ms": round(pct(v, 50), 1), "p95_ms": round(pct(v, 95), 1),
                          "p99_ms": round(pct(v, 99), 1)} for api, v in sorted(stats.latencies.items())},
        "journal": {"total": journal.get("total"), "capacity": journal.get("capacity")},
        "rss_mb": {"half_way": round(rss_start / 1024, 1), "end": round(rss_end / 1024, 1),
                   "peak": round(rss_peak / 1024, 1), "growth": round((rss_end - rss_start) / 1024, 1)},
    }
    print(f"soak: {figures['clients']} clients, {figures['seconds']} s, {figures['requests']} requests "
          f"({figures['rps']}/s measured), {figures['writes_acknowledged']} writes acknowledged, "
          f"{figures['injected']} injected faults")
    print(f"latency ms: p50 {figures['p50_ms']}  p95 {figures['p95_ms']}  p99 {figures['p99_ms']}")
    for api, f in figures["per_api"].items():
        print(f"  {api:<11} {f['requests']:>8} req  p50 {f['p50_ms']:>7}  p95 {f['p95_ms']:>7}  p99 {f['p99_ms']:>7}")
    print(f"journal: {figures['journal']['total']} entries kept of capacity {figures['journal']['capacity']}")
    if proc is not None:
        print(f"server RSS (master + workers): {figures['rss_mb']['half_way']} MB half-way -> "
              f"{figures['rss_mb']['end']} MB at the end (growth {figures['rss_mb']['growth']} MB, "
              f"bound {args.max_rss_growth_mb} MB; peak {figures['rss_mb']['peak']} MB)")
    print(f"errors (not injected): {figures['errors']}")
    for name, count in stats.errors.most_common(10):
        print(f"  {count:>6}  {name}")
    for sample in stats.error_samples[:5]:
        print(f"  e.g. {sample}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=1)
    failed = figures["errors"] > 0
    cap = figures["journal"]["capacity"]
    if cap is not None and (figures["journal"]["total"] or 0) > cap:
        print("FAIL: the journal holds more than its capacity")
        failed = True
    if proc is not None and figures["rss_mb"]["growth"] > args.max_rss_growth_mb:
        print("FAIL: server memory grew beyond the bound")
        failed = True
    print("soak: FAIL" if failed else "soak: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
