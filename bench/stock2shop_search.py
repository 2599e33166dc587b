"""Stock2Shop ``elastic_search`` over 100,000 products, in-process (issue 3 and issue 9 figures).

``.venv/bin/python -m bench.stock2shop_search`` runs, for the memory store and the SQLite store
(each in a fresh child process, so RSS figures are its own):

1. seed 100,000 products for client 21 (Faker data, the documents' example included);
2. the connectors' query through the whole Flask stack (gateway, validation, JSON), repeated with
   varying bounds: ``range`` on ``modified`` + ``term`` on ``source_id`` + sort ``modified`` desc,
   ``size`` 100: p50 / p95 / max;
3. the documented "consuming product feed" tutorial: page the whole catalogue by modified date
   (``range modified gte <last modified seen>``, sort ``modified`` asc, ``size`` 50 as in the
   tutorial, ids already seen at the boundary skipped), counting every product exactly once;
4. the cost of the first search after a write (the per-version index is rebuilt) and RSS.

The gateway validates every response against the contract by default; a page of 100 full
products takes far longer to validate (jsonschema) than to find, so the HTTP figures are given
both ways and the paging runs with response validation off (``validate_responses`` = False).

Writes ``bench/stock2shop_search.json``. Targets: p95 < 50 ms, whole paging < 60 s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "stock2shop_search.json"
P = "/stock2shop"


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def child(store: str, products: int, iterations: int, page_size: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from mocks import create_app
    from mocks.stock2shop import models as M

    tmp = tempfile.mkdtemp(prefix="s2s-bench-")
    state = "memory" if store == "memory" else f"sqlite:///{tmp}/state.db"
    base_rss = rss_mb()
    t0 = time.perf_counter()
    app = create_app({"state": state, "testing": True, "seed": 1, "apis": ["stock2shop"],
                      "options": {"stock2shop": {"products_21": products, "products_91": 10, "orders": 10,
                                                 "customers": 10, "token_ttl_seconds": 10 ** 9}}})
    seed_s = time.perf_counter() - t0
    c = app.test_client()
    r = c.post(f"{P}/v1/users/authenticate?format=json",
               json={"system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}})
    token = r.json["system_user"]["token"]
    url = f"{P}/v1/products/elastic_search?token={token}"

    sb = app.extensions["sandbox"]
    st = sb.state("stock2shop", "21")
    live = [p for p in st.collection("products").values() if p["active"]]
    stamps = sorted(p["modified"] for p in live)

    def query(bound: str) -> dict[str, Any]:
        return {"query": {"bool": {"filter": [{"range": {"modified": {"gt": bound}}},
                                              {"term": {"source_id": 57}}]}},
                "size": 100, "from": 0, "sort": {"modified": {"unmapped_type": "date", "order": "desc"}}}

    t = time.perf_counter()
    first = c.post(url, json=query(stamps[0]))
    cold_ms = (time.perf_counter() - t) * 1000
    assert first.status_code == 200, first.json
    rss_after_index = rss_mb()

    def timed(n: int) -> list[float]:
        out = []
        for i in range(n):
            bound = stamps[(i * 7919) % len(stamps)]      # bounds all over the catalogue
            t = time.perf_counter()
            r = c.post(url, json=query(bound))
            r.get_data()
            out.append((time.perf_counter() - t) * 1000)   # the client's own JSON parsing is not timed
            assert r.status_code == 200 and len(r.json["hits"]["hits"]) <= 100
        return out

    # the gateway checks every response against the contract (jsonschema): measured on and off
    validated = timed(max(iterations // 4, 10))
    sb.config.validate_responses = False
    times = timed(iterations)
    model_times = []
    for i in range(iterations):
        bound = stamps[(i * 7919) % len(stamps)]
        t = time.perf_counter()
        M.elastic_search(st, "products", query(bound))
        model_times.append((time.perf_counter() - t) * 1000)

    # the tutorial: page by modified date, remembering the last modified value seen
    t = time.perf_counter()
    seen: set[int] = set()
    last = "2000-01-01 00:00:00"
    at_last: set[int] = set()
    requests = 0
    while True:
        body = {"query": {"bool": {"filter": [{"range": {"modified": {"gte": last}}}]}},
                "size": page_size, "from": 0, "sort": {"modified": {"unmapped_type": "date", "order": "asc"}}}
        skip = 0
        new = []
        while True:
            body["from"] = skip
            r = c.post(url, json=body)
            requests += 1
            assert r.status_code == 200, r.json
            page = r.json["system_products"]
            fresh = [p for p in page if p["id"] not in at_last]
            if page and not fresh and len(page) == page_size:
                skip += page_size          # a page of one modified time already seen: look further
                continue
            new = fresh
            break
        if not new:
            break
        for p in new:
            seen.add(p["id"])
        top = new[-1]["modified"]
        at_last = {p["id"] for p in new if p["modified"] == top} | (at_last if top == last else set())
        last = top
    paging_s = time.perf_counter() - t
    complete = len(seen) == len(live)

    # a write, then the first search: the index of the new version is built again
    c.post(f"{P}/v1/products/queue?token={token}", json={"system_products": [
        {"source": {"source_id": 57, "source_product_code": "BENCH-1"},
         "product": {"title": "bench", "variants": {"source_variant_code": "BENCH-1", "sku": "BENCH-1"}}}]})
    t = time.perf_counter()
    r = c.post(url, json=query(stamps[len(stamps) // 2]))
    after_write_ms = (time.perf_counter() - t) * 1000
    assert r.status_code == 200

    return {
        "store": store, "products": products, "active_products": len(live), "seed_s": round(seed_s, 2),
        "query": "bool.filter[range modified gt X, term source_id 57], sort modified desc, size 100",
        "iterations": iterations,
        "http_ms": {"p50": round(pct(times, 0.5), 2), "p95": round(pct(times, 0.95), 2), "max": round(max(times), 2),
                    "note": "whole Flask stack, response validation off"},
        "http_validated_ms": {"p50": round(pct(validated, 0.5), 2), "p95": round(pct(validated, 0.95), 2),
                              "max": round(max(validated), 2), "iterations": len(validated),
                              "note": "whole Flask stack with the gateway's jsonschema response validation (default)"},
        "model_ms": {"p50": round(pct(model_times, 0.5), 2), "p95": round(pct(model_times, 0.95), 2),
                     "max": round(max(model_times), 2)},
        "first_search_after_seed_ms": round(cold_ms, 1),
        "first_search_after_a_write_ms": round(after_write_ms, 1),
        "paging": {"page_size": page_size, "response_validation": False, "requests": requests, "seconds": round(paging_s, 2),
                   "products_seen": len(seen), "complete": complete},
        "rss_mb": {"before_app": round(base_rss, 1), "after_first_search": round(rss_after_index, 1),
                   "end": round(rss_mb(), 1), "peak": round(peak_rss_mb(), 1)},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.stock2shop_search", description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--page-size", type=int, default=50, help="the tutorial's size (50)")
    ap.add_argument("--stores", default="memory,sqlite")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.products, args.iterations, args.page_size)))
        return 0
    results = []
    for store in args.stores.split(","):
        cmd = [sys.executable, "-m", "bench.stock2shop_search", "--child", store, "--products", str(args.products),
               "--iterations", str(args.iterations), "--page-size", str(args.page_size)]
        print(f"[{store}] seeding {args.products:,} products and searching ...", file=sys.stderr, flush=True)
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        res = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(res)
        print(f"[{store}] seed {res['seed_s']} s; http p50 {res['http_ms']['p50']} ms p95 {res['http_ms']['p95']} ms "
              f"(validated p95 {res['http_validated_ms']['p95']} ms) "
              f"(model p95 {res['model_ms']['p95']} ms); paging {res['paging']['requests']} requests in "
              f"{res['paging']['seconds']} s (complete: {res['paging']['complete']}); first search after a write "
              f"{res['first_search_after_a_write_ms']} ms; RSS {res['rss_mb']['end']} MB (peak {res['rss_mb']['peak']})",
              file=sys.stderr, flush=True)
    report = {"benchmark": "stock2shop elastic_search", "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
              "targets": {"p95_ms": 50, "paging_s": 60}, "results": results,
              "met": {r["store"]: {"p95": r["http_ms"]["p95"] < 50, "paging": r["paging"]["seconds"] < 60}
                      for r in results}}
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["met"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
