"""State at scale (issue 16): a real server (gunicorn, SQLite, 2 workers) with a big Stock2Shop catalogue.

``.venv/bin/python -m bench.state_scale`` (also run by ``make bench``) measures:

``scale`` (``--products`` per client, default 100,000; both clients):
  1. start to first answer: spawn of ``commerce-sandbox serve`` to the first Stock2Shop answer
     (authenticate), and to the first search answer;
  2. search p95: ``range`` on ``modified`` + ``term`` on ``source_id`` + sort ``modified`` desc,
     ``size`` 100, bounds all over the catalogue, until both workers have answered many;
  3. RSS per worker after searching;
  4. first search after a write, on each worker (a product queued and applied, then one search
     answered by each worker);
  5. paging the whole catalogue by modified date (the documented feed tutorial, size 50).

``contention`` (at the default seed and at ``--products``): two writers queue products flat
out while one client searches every 0.5 s for ``--duration`` seconds: search p50 / p95 / max,
how many searches took over 1 s, timeouts (client timeout ``--timeout``), writes done.

``--src DIR`` measures another checkout (e.g. ``git worktree add /tmp/main main`` for the
figures before a change). Writes ``bench/state_scale.json``.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.procs import _TICK, Proc, cpu_seconds, free_port, rss_mb

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "state_scale.json"
P = "/stock2shop"


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))], 2)


class Client:
    """One keep-alive HTTP connection (reconnects when the server closes it)."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, (json.loads(raw) if raw else None), dict(resp.getheaders())
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


class Server:
    def __init__(self, python: str, src: Path, work: Path, options: list[str], workers: int) -> None:
        self.port = free_port()
        state = work / "state.db"
        cmd = [python, "-m", "mocks", "serve", "--port", str(self.port), "--quiet", "--workers", str(workers),
               "--threads", "8", "--state", f"sqlite:///{state}", "--api", "stock2shop"]
        for opt in options:
            cmd += ["--option", opt]
        self.proc = Proc(cmd, work / "server.log", env={"PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}, cwd=str(src))

    def wait(self, timeout: float) -> float:
        deadline = time.perf_counter() + timeout
        body = {"system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}}
        while time.perf_counter() < deadline:
            if not self.proc.alive():
                raise RuntimeError(f"server exited:\n{self.proc.tail()}")
            try:
                status, data, _ = Client(self.port, 5).call("POST", f"{P}/v1/users/authenticate?format=json", body)
                if status == 200:
                    self.token = data["system_user"]["token"]
                    return time.perf_counter() - self.proc.started
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"no answer within {timeout:.0f}s:\n{self.proc.tail()}")

    def cpu(self) -> float:
        """CPU seconds used by the server's processes so far, children it waited for included
        (the seeding child): on a loaded machine this moves far less than wall time does."""
        own = cpu_seconds(self.proc.tree())
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            own += (int(fields[13]) + int(fields[14])) / _TICK   # cutime, cstime
        except OSError:
            pass
        return own

    def workers_rss(self) -> list[float]:
        return [round(v, 1) for v in (rss_mb(p) for p in self.proc.children()) if v is not None]

    def stop(self) -> None:
        self.proc.stop()


def search_body(bound: str, desc: bool = True) -> dict[str, Any]:
    return {"query": {"bool": {"filter": [{"range": {"modified": {"gt": bound}}}, {"term": {"source_id": 57}}]}},
            "size": 100, "from": 0, "sort": {"modified": {"unmapped_type": "date", "order": "desc" if desc else "asc"}}}


def queue_body(code: str) -> dict[str, Any]:
    return {"system_products": [{"source": {"source_id": 57, "source_product_code": code},
                                 "product": {"title": f"bench {code}",
                                             "variants": {"source_variant_code": code, "sku": code}}}]}


def paging(c: Client, url: str, page_size: int = 50) -> dict[str, Any]:
    """The tutorial: page by modified, remembering the last modified value seen."""
    t = time.perf_counter()
    seen: set[int] = set()
    last, at_last, requests = "2000-01-01 00:00:00", set(), 0
    while True:
        body = {"query": {"bool": {"filter": [{"range": {"modified": {"gte": last}}}]}},
                "size": page_size, "from": 0, "sort": {"modified": {"unmapped_type": "date", "order": "asc"}}}
        skip, new = 0, []
        while True:
            body["from"] = skip
            status, data, _ = c.call("POST", url, body)
            requests += 1
            assert status == 200, data
            page = data["system_products"]
            fresh = [p for p in page if p["id"] not in at_last]
            if page and not fresh and len(page) == page_size:
                skip += page_size
                continue
            new = fresh
            break
        if not new:
            break
        seen.update(p["id"] for p in new)
        top = new[-1]["modified"]
        at_last = {p["id"] for p in new if p["modified"] == top} | (at_last if top == last else set())
        last = top
    return {"seconds": round(time.perf_counter() - t, 2), "requests": requests, "products_seen": len(seen)}


def scale(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    n = args.products
    (work / "scale").mkdir(parents=True, exist_ok=True)
    srv = Server(args.python, args.src, work / "scale", [f"stock2shop.products={n}", "stock2shop.queue_delay_seconds=0"],
                 args.workers)
    try:
        first_answer = srv.wait(args.start_timeout)
        start_cpu = srv.cpu()
        c = Client(srv.port, args.timeout)
        url = f"{P}/v1/products/elastic_search?token={srv.token}"
        status, data, _ = c.call("POST", url, {"size": 1, "sort": {"modified": {"order": "asc"}},
                                               "query": {"match_all": {}}})
        first_search = time.perf_counter() - srv.proc.started
        assert status == 200, data
        lo = data["system_products"][0]["modified"]
        _, data, _ = c.call("POST", url, {"size": 1, "sort": {"modified": {"order": "desc"}}, "query": {"match_all": {}}})
        hi = data["system_products"][0]["modified"]
        t0, t1 = time.mktime(time.strptime(lo, "%Y-%m-%d %H:%M:%S")), time.mktime(time.strptime(hi, "%Y-%m-%d %H:%M:%S"))

        def bound(i: int) -> str:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t0 + (t1 - t0) * ((i * 7919) % 1000) / 1000))

        times, per_worker = [], {}
        cpu0 = srv.cpu()
        for i in range(args.iterations):
            cl = Client(srv.port, args.timeout) if i % 2 else c   # new connections spread over the workers
            t = time.perf_counter()
            status, data, headers = cl.call("POST", url, search_body(bound(i)))
            times.append((time.perf_counter() - t) * 1000)
            assert status == 200, data
            w = headers.get("X-Sandbox-Worker") or headers.get("x-sandbox-worker") or "?"
            per_worker[w] = per_worker.get(w, 0) + 1
        search_cpu_ms = (srv.cpu() - cpu0) * 1000 / args.iterations
        rss = srv.workers_rss()

        # one write, applied (the queue runs when due: delay 0), then the first search on each worker
        code = f"BENCH-{int(time.time())}"
        status, data, _ = c.call("POST", f"{P}/v1/products/queue?token={srv.token}", queue_body(code))
        assert status == 200, data
        c.call("GET", f"{P}/v1/queue/summary?token={srv.token}")  # applies the due item
        after: dict[str, float] = {}
        cpu0 = srv.cpu()
        for i in range(40):
            cl = Client(srv.port, args.timeout)
            t = time.perf_counter()
            status, data, headers = cl.call("POST", url, search_body(bound(i)))
            ms = (time.perf_counter() - t) * 1000
            w = headers.get("X-Sandbox-Worker") or headers.get("x-sandbox-worker") or "?"
            after.setdefault(w, round(ms, 1))
            if len(after) >= args.workers:
                break
        after_cpu_ms = (srv.cpu() - cpu0) * 1000 / max(len(after), 1)
        cpu0 = srv.cpu()
        page = paging(Client(srv.port, args.timeout), url)
        page["server_cpu_s"] = round(srv.cpu() - cpu0, 2)
        return {"products_per_client": n, "workers": args.workers,
                "start_to_first_answer_s": round(first_answer, 2), "start_to_first_search_s": round(first_search, 2),
                "start_cpu_s": round(start_cpu, 2),
                "search_server_cpu_ms_per_request": round(search_cpu_ms, 2),
                "first_search_after_a_write_server_cpu_ms": round(after_cpu_ms, 1),
                "search_ms": {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "max": pct(times, 1.0),
                              "n": len(times), "per_worker": per_worker},
                "rss_per_worker_mb_after_searching": rss,
                "first_search_after_a_write_ms_per_worker": after,
                "paging": page, "rss_per_worker_mb_end": srv.workers_rss()}
    finally:
        srv.stop()


def contention(args: argparse.Namespace, work: Path, products: int | None) -> dict[str, Any]:
    name = f"contention-{products or 'default'}"
    (work / name).mkdir(parents=True, exist_ok=True)
    opts = ["stock2shop.queue_delay_seconds=0"] + ([f"stock2shop.products={products}"] if products else [])
    srv = Server(args.python, args.src, work / name, opts, args.workers)
    try:
        srv.wait(args.start_timeout)
        url = f"{P}/v1/products/elastic_search?token={srv.token}"
        warm = Client(srv.port, args.timeout)
        # every worker has answered a search (its index built) before the clock starts: what is
        # measured here is searching beside writers, not a worker's cold start (that is ``scale``)
        seen: set[str] = set()
        warm_until = time.perf_counter() + args.start_timeout
        while len(seen) < args.workers and time.perf_counter() < warm_until:
            _, _, headers = Client(srv.port, args.timeout).call("POST", url, search_body("2000-01-01 00:00:00"))
            seen.add(headers.get("X-Sandbox-Worker") or headers.get("x-sandbox-worker") or "?")
        stop = threading.Event()
        writes = [0, 0]
        errors: list[str] = []

        def writer(w: int) -> None:
            c = Client(srv.port, args.timeout)
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    status, data, _ = c.call("POST", f"{P}/v1/products/queue?token={srv.token}",
                                             queue_body(f"W{w}-{i % 500}"))
                    if status == 200:
                        writes[w] += 1
                    else:
                        errors.append(f"write {status}")
                except OSError as exc:
                    errors.append(f"write {exc.__class__.__name__}")
                    c = Client(srv.port, args.timeout)

        threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(2)]
        for t in threads:
            t.start()
        times, slow, timeouts, failed = [], 0, 0, 0
        slow_at: list[float] = []  # seconds into the run of each search over 1 s
        end = time.perf_counter() + args.duration
        i = 0
        while time.perf_counter() < end:
            i += 1
            started = time.perf_counter()
            try:
                status, data, _ = warm.call("POST", url, search_body("2000-01-01 00:00:00"))
                ms = (time.perf_counter() - started) * 1000
                times.append(ms)
                if ms > 1000:
                    slow += 1
                    slow_at.append(round(args.duration - (end - started), 1))
                failed += status != 200
            except TimeoutError:
                timeouts += 1
                warm = Client(srv.port, args.timeout)
            except OSError as exc:
                failed += 1
                errors.append(f"search {exc.__class__.__name__}")
                warm = Client(srv.port, args.timeout)
            time.sleep(max(0.0, 0.5 - (time.perf_counter() - started)))
        stop.set()
        for t in threads:
            t.join(args.timeout + 5)
        return {"products_per_client": products or "default", "duration_s": args.duration,
                "loadavg": os.getloadavg(),
                "searches": len(times), "search_ms": {"p50": pct(times, 0.5), "p95": pct(times, 0.95),
                                                      "max": pct(times, 1.0)},
                "over_1s": slow, "over_1s_at_s": slow_at, "timeouts": timeouts, "failed": failed, "writes": sum(writes),
                "errors": sorted(set(errors))[:5]}
    finally:
        srv.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.state_scale", description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100_000, help="products per client (default 100,000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=200, help="searches for the p95")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of the contention runs")
    ap.add_argument("--timeout", type=float, default=40.0, help="client timeout per request")
    ap.add_argument("--start-timeout", type=float, default=300.0)
    ap.add_argument("--only", default="scale,contention-default,contention-big")
    ap.add_argument("--src", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    work = Path(tempfile.mkdtemp(prefix="state-bench-"))
    results: dict[str, Any] = {"src": str(args.src), "machine": {"cpus": os.cpu_count(),
                                                                  "loadavg": os.getloadavg()}}
    for name in only:
        print(f"[state] {name} ...", file=sys.stderr, flush=True)
        if name == "scale":
            results[name] = scale(args, work)
        elif name == "contention-default":
            results[name] = contention(args, work, None)
        elif name == "contention-big":
            results[name] = contention(args, work, args.products)
        else:
            ap.error(f"unknown part {name}")
        print(f"[state] {name}: {json.dumps(results[name])}", file=sys.stderr, flush=True)
    results["machine"]["loadavg_end"] = os.getloadavg()
    s = results.get("scale")
    if s:
        results["targets_met"] = {
            "start_to_first_answer_lt_20s": s["start_to_first_search_s"] < 20,
            "rss_per_worker_lt_300mb": max(s["rss_per_worker_mb_after_searching"] or [0]) < 300,
            "search_p95_lt_50ms": (s["search_ms"]["p95"] or 0) < 50,
            "first_search_after_write_lt_50ms": max(s["first_search_after_a_write_ms_per_worker"].values() or [0]) < 50,
            "paging_lt_30s": s["paging"]["seconds"] < 30,
        }
    for key in ("contention-default", "contention-big"):
        r = results.get(key)
        if r:
            results.setdefault("targets_met", {})[key] = ((r["search_ms"]["p95"] or 0) < 100 and r["over_1s"] == 0
                                                          and r["timeouts"] == 0)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results.get("targets_met", {})))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
