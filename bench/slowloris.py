"""Slowloris: do slow clients starve the others?

    python -m bench.slowloris [--slow 200] [--clients 16] [--duration 60] [--workers 2] [--threads 8]
                              [--base-url URL]

Starts ``python -m mocks serve`` (SQLite, the serve defaults) unless ``--base-url`` names a
running sandbox. Phase 1: ``--clients`` normal keep-alive clients (Click2Sync reads and writes)
for ``--duration`` seconds, no slow clients: their p95. Phase 2: the same clients for the same
time while ``--slow`` connections send a request head one header line every few seconds and never
finish it (reopened when the server closes them, so that many are always held). Prints both
p95s, the ratio, the timeouts and how many slow connections the server closed; exit 1 if phase
2's p95 is over 2x phase 1's, or any normal request timed out or failed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

from bench.soak import Conn, pct, start_server

KEY = {"C2SKey": "c2s-demo-key"}


async def normal_client(idx: int, host: str, port: int, until: float, times: list[float], errors: list[str]) -> None:
    conn = Conn(host, port, timeout=10.0)
    n = 0
    try:
        while time.monotonic() < until:
            n += 1
            if n % 5 == 0:
                method, path = "POST", "/click2sync/api/product"
                body = json.dumps({"sku": f"SL-{idx}-{n % 50}", "title": "slowloris bench"}).encode()
                headers = {**KEY, "Content-Type": "application/json"}
            else:
                method, path, body, headers = "GET", f"/click2sync/api/product?limit=10&offset={n % 40}", None, KEY
            started = time.monotonic()
            try:
                status, _, _ = await conn.request(method, path, headers, body)
            except (asyncio.TimeoutError, TimeoutError):
                errors.append("timeout")
                await conn.close()
                continue
            except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
                errors.append(type(exc).__name__)
                await conn.close()
                continue
            times.append(time.monotonic() - started)
            if status >= 500:
                errors.append(str(status))
    finally:
        await conn.close()


async def slow_client(host: str, port: int, until: float, closed: list[int]) -> None:
    """Hold a connection by sending a request head one header line every 3 s; reopen when closed."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        try:
            writer.write(b"GET /click2sync/api/product HTTP/1.1\r\nHost: x\r\n")
            await writer.drain()
            n = 0
            while time.monotonic() < until:
                try:
                    data = await asyncio.wait_for(reader.read(1024), 3.0)
                except (asyncio.TimeoutError, TimeoutError):
                    n += 1
                    writer.write(f"X-Slow-{n}: {'a' * 10}\r\n".encode())
                    await writer.drain()
                    continue
                if not data:  # the server closed it
                    closed[0] += 1
                    break
        except (OSError, ConnectionError):
            closed[0] += 1
        finally:
            writer.close()


async def phase(host: str, port: int, clients: int, slow: int, seconds: float) -> dict:
    until = time.monotonic() + seconds
    times: list[float] = []
    errors: list[str] = []
    closed = [0]
    slow_tasks = [asyncio.create_task(slow_client(host, port, until, closed)) for _ in range(slow)]
    if slow:
        await asyncio.sleep(2.0)  # let them take their places first
        until = time.monotonic() + seconds
        for t in slow_tasks:
            t.cancel()
        slow_tasks = [asyncio.create_task(slow_client(host, port, until + 1, closed)) for _ in range(slow)]
    await asyncio.gather(*(normal_client(i, host, port, until, times, errors) for i in range(clients)))
    for t in slow_tasks:
        t.cancel()
    await asyncio.gather(*slow_tasks, return_exceptions=True)
    return {"requests": len(times), "p50": pct(times, 50), "p95": pct(times, 95), "p99": pct(times, 99),
            "timeouts": errors.count("timeout"), "errors": len(errors), "slow_closed": closed[0]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.slowloris", description=__doc__.splitlines()[0])
    p.add_argument("--slow", type=int, default=200)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--base-url", default=None)
    args = p.parse_args(argv)
    proc = None
    if args.base_url:
        base = args.base_url
    else:
        folder = tempfile.mkdtemp(prefix="slowloris-")
        ns = SimpleNamespace(state="sqlite", workers=args.workers, threads=args.threads, journal_size=10_000, scenario=[])
        proc, base = start_server(ns, folder)
    try:
        parts = urlsplit(base)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        quiet = asyncio.run(phase(host, port, args.clients, 0, args.duration))
        loris = asyncio.run(phase(host, port, args.clients, args.slow, args.duration))
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
    ratio = loris["p95"] / quiet["p95"] if quiet["p95"] else float("inf")
    print(f"slowloris: {args.clients} normal clients, {args.duration:.0f} s per phase")
    for name, r in (("no slow clients", quiet), (f"{args.slow} slow clients", loris)):
        print(f"  {name:<17} {r['requests']:>7} requests  p50 {r['p50'] * 1000:6.1f} ms  p95 {r['p95'] * 1000:6.1f} ms"
              f"  p99 {r['p99'] * 1000:6.1f} ms  timeouts {r['timeouts']}  errors {r['errors']}"
              + (f"  slow connections closed by the server {r['slow_closed']}" if name != "no slow clients" else ""))
    print(f"  p95 ratio {ratio:.2f} (at most 2.00)")
    ok = ratio <= 2.0 and loris["timeouts"] == 0 and loris["errors"] == 0 and quiet["errors"] == 0
    print("slowloris: OK" if ok else "slowloris: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
