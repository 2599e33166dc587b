"""What each stage of the request path costs per request, measured in-process.

``python -m bench.stages [--requests 2000] [--out bench/stages.json]`` (part of ``make bench``).

The app is the one ``serve`` runs (SQLite state in a scratch directory, request and response
validation, the journal, the scenario engine loaded and idle, the response cache), driven through
its WSGI callable by one thread, no sockets. Each stage is timed *exclusively* (a stage's time
excludes the stages it calls): the gateway's request and response handlers (this app's own
``Gateway.request_handlers`` / ``response_handlers`` lists are wrapped: nothing in ``mocks`` is
changed and nothing costs anything outside this script), the route, JSON encoding, the edge's
size check, the fast path, and the whole WSGI call; what is left of the whole call is Flask and
werkzeug themselves (request context, URL routing, hooks, the response object). The journal's
batched write runs in its own thread: process CPU minus this thread's CPU.

Configurations: the Click2Sync page answered by the fast path, by the full chain from the cache
(fast path off), and rendered every time (cache off); the Stock2Shop search from the cache by
body, and rendered every time.
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

PAGE = ("GET", "/click2sync/api/product", "offset=0", {"C2SKey": "c2s-demo-key", "Host": "127.0.0.1:8000"}, None)
SEARCH_BODY = {"query": {"bool": {"filter": [{"range": {"modified": {"gte": "2000-01-01"}}},
                                             {"term": {"active": True}}]}},
               "sort": [{"modified": {"order": "desc"}}], "size": 20}

#: handler -> stage
HANDLER_STAGE = {
    "locate": "auth and tenancy", "authenticate": "auth and tenancy", "faults": "scenario match",
    "ratelimit": "rate limits", "cached": "cache lookup", "validate": "request validation",
    "api_hook": "API hook, chain headers", "response_headers": "API hook, chain headers",
    "scenario_after": "scenario match", "check_response": "response validation", "journal": "journal (entry, redaction)",
}
ORDER = ["worker main loop (head, kept bytes, send)", "edge (size limits)", "fast path (key map, freshness, limits, journal)", "auth and tenancy",
         "scenario match", "rate limits", "cache lookup", "request validation", "route (model)",
         "JSON encoding", "API hook, chain headers", "response validation", "journal (entry, redaction)",
         "Flask/werkzeug (context, routing, hooks, response)", "journal writer thread (batched)"]


class Timer:
    def __init__(self) -> None:
        self.times: dict[str, float] = defaultdict(float)
        self._stack: list[list[float]] = []

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        stack, times, clock = self._stack, self.times, time.thread_time  # CPU of this thread

        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [0.0]
            stack.append(frame)
            started = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = clock() - started
                stack.pop()
                times[name] += spent - frame[0]
                if stack:
                    stack[-1][0] += spent

        try:  # the route's marks (@public, @cacheable, @sandbox_page, ...) travel with it
            functools.update_wrapper(timed, fn)
        except (AttributeError, TypeError):
            timed.__name__ = name
        return timed


def instrument(app: Any, timer: Timer) -> Callable[..., Any]:
    """Wrap the stages of this app; returns the WSGI callable to drive (timed as a whole)."""
    from mocks.core import edge, jsonutil

    gw = app.extensions["gateway"]
    gw.request_handlers = [timer.wrap(HANDLER_STAGE.get(h.__name__, h.__name__), h) for h in gw.request_handlers]
    gw.response_handlers = [timer.wrap(HANDLER_STAGE.get(h.__name__, h.__name__), h) for h in gw.response_handlers]
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = timer.wrap("route (model)", view)
    jsonutil.dumpb = timer.wrap("JSON encoding", jsonutil.dumpb)
    fast = gw.fast
    if fast is not None:
        fast.answer = timer.wrap("fast path (key map, freshness, limits, journal)", fast.answer)
    outer = app.wsgi_app
    while outer is not None and not isinstance(outer, edge.EdgeMiddleware):
        outer = getattr(outer, "app", None)
    if outer is not None:
        outer.measure = timer.wrap("edge (size limits)", outer.measure)
    return timer.wrap("Flask/werkzeug (context, routing, hooks, response)", app.wsgi_app)


def run(config: dict[str, Any], request: tuple, requests: int, warm: int = 200) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    from mocks.app import create_app

    tmp = tempfile.mkdtemp(prefix="commerce-stages-")
    app = create_app({"state": f"sqlite:///{tmp}/state.db", **config})
    method, path, query, headers, body = request
    if callable(body):
        body, query = body(app)
    raw = json.dumps(body).encode() if body is not None else b""
    base = EnvironBuilder(method=method, path=path, query_string=query, headers=headers, data=raw or None,
                          content_type="application/json" if raw else None).get_environ()
    timer = Timer()
    wsgi = app.wsgi_app
    statuses: list[str] = []

    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        statuses.append(status)

    def one() -> None:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(raw)
        out = wsgi(environ, start_response)
        b"".join(out)
        close = getattr(out, "close", None)
        if close is not None:
            close()

    for _ in range(warm):
        one()
    store = app.extensions["sandbox"].store
    store.journal(limit=1)  # the warm-up's journal written out
    plain0 = time.process_time()
    for _ in range(requests):  # first without the timers: what the request costs as served
        one()
    store.journal(limit=1)
    plain = (time.process_time() - plain0) / requests
    wsgi = instrument(app, timer)
    for _ in range(warm):
        one()
    store.journal(limit=1)
    timer.times.clear()
    statuses.clear()
    cpu0, thread0 = time.process_time(), time.thread_time()
    for _ in range(requests):
        one()
    store.journal(limit=1)  # settle the batches written meanwhile (their CPU is in process_time)
    cpu, thread = time.process_time() - cpu0, time.thread_time() - thread0
    stages = {k: round(v / requests * 1e6, 1) for k, v in timer.times.items()}
    stages["journal writer thread (batched)"] = round(max(0.0, cpu - thread) / requests * 1e6, 1)
    fast = app.extensions["gateway"].fast
    return {"config": config, "request": f"{method} {path}", "requests": requests,
            "status": sorted(set(statuses)), "cpu_us_per_request": round(plain * 1e6, 1),
            "cpu_us_per_request_timed": round(cpu / requests * 1e6, 1),
            "stages_us": {k: stages.get(k, 0.0) for k in ORDER},
            "fast_answered": fast.answered if fast is not None else 0}


def run_main_loop(config: dict[str, Any], request: tuple, requests: int, warm: int = 200) -> dict[str, Any]:
    """The page as ``serve``'s worker answers a repeated request in its main loop (the kept
    bytes of its last answer, mocks.core.edgeworker): the worker's callback for a readable
    connection, driven over a socket pair; the client's reads are timed apart and left out."""
    import socket

    from gunicorn.config import Config
    from gunicorn.glogging import Logger
    from gunicorn.http import wsgi
    from gunicorn.http.parser import RequestParser
    from gunicorn.workers.gthread import TConn

    from mocks.app import create_app
    from mocks.core.edgeworker import EdgeWorker, gunicorn_settings

    tmp = tempfile.mkdtemp(prefix="commerce-stages-")
    app = create_app({"state": f"sqlite:///{tmp}/state.db", **config})
    cfg = Config()
    for key, value in {**gunicorn_settings(10.0), "keepalive": 5, "accesslog": None, "loglevel": "warning"}.items():
        cfg.set(key, value)
    worker = EdgeWorker(0, 0, [], None, 30, cfg, Logger(cfg))
    worker.wsgi = app
    worker.init_edge()
    worker.alive = True
    method, path, query, headers, _ = request
    head = (f"{method} {path}?{query} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + "\r\n").encode()
    server, client = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    conn = TConn(cfg, server, ("127.0.0.1", 50000), ("127.0.0.1", 8000))
    conn.edge_buf, conn.edge_idle = bytearray(), True
    timer = Timer()
    answered: list[bytes] = []
    reading = [0.0]

    def one() -> None:
        client.sendall(head)
        worker.on_head_readable(conn, server)
        started = time.thread_time()
        data = client.recv(1 << 20)
        while data.count(b"HTTP/1.1 ") < 1 or len(data) < 4096:
            data += client.recv(1 << 20)
        answered.append(data[:12])
        reading[0] += time.thread_time() - started

    for _ in range(2):  # through the chain as a pool thread would: a miss, then the hit it learns from
        req = next(RequestParser(cfg, iter([head]), conn.client))
        resp, environ = wsgi.create(req, io.BytesIO(), conn.client, conn.server, cfg)
        environ["wsgi.multithread"] = True
        b"".join(app(environ, resp.start_response))
    fast = app.extensions["gateway"].fast
    for _ in range(warm):
        one()
    store = app.extensions["sandbox"].store
    store.journal(limit=1)
    results = {}
    for timed in (False, True):
        if timed:
            fast.answer = timer.wrap("fast path (key map, freshness, limits, journal)", fast.answer)
            worker.on_head_readable = timer.wrap("worker main loop (head, kept bytes, send)", worker.on_head_readable)
            for _ in range(warm):
                one()
            store.journal(limit=1)
            timer.times.clear()
        answered.clear()
        reading[0] = 0.0
        cpu0 = time.process_time()
        for _ in range(requests):
            one()
        store.journal(limit=1)
        results[timed] = (time.process_time() - cpu0 - reading[0]) / requests
    stages = {k: round(v / requests * 1e6, 1) for k, v in timer.times.items()}
    stages["journal writer thread (batched)"] = round(max(0.0, results[True] - sum(timer.times.values()) / requests)
                                                      * 1e6, 1)
    server.close()
    client.close()
    return {"config": config, "request": f"{method} {path}", "requests": requests,
            "status": sorted({a.decode("latin-1").split(" ", 1)[1].strip() for a in answered}),
            "cpu_us_per_request": round(results[False] * 1e6, 1),
            "cpu_us_per_request_timed": round(results[True] * 1e6, 1),
            "stages_us": {k: stages.get(k, 0.0) for k in ORDER}, "fast_answered": fast.answered}


def _search(app: Any) -> tuple[dict[str, Any], str]:
    client = app.test_client()
    creds = client.get("/__sandbox/credentials").json["stock2shop"]["users"][0]
    r = client.post("/stock2shop/v1/users/authenticate?format=json",
                    json={"system_user_auth": {"username": creds["username"], "password": creds["password"]}})
    return SEARCH_BODY, f"token={r.json['system_user']['token']}"


SEARCH = ("POST", "/stock2shop/v1/products/elastic_search", "", {"Host": "127.0.0.1:8000"}, _search)

RUNS = {
    "c2s page, worker main loop": ({}, PAGE),
    "c2s page, fast path": ({}, PAGE),
    "c2s page, full chain, cached": ({"fast_path": False}, PAGE),
    "c2s page, full chain, not cached": ({"response_cache_mb": 0}, PAGE),
    "s2s search, cached by body": ({}, SEARCH),
    "s2s search, not cached": ({"response_cache_mb": 0}, SEARCH),
}


def markdown(result: dict[str, Any]) -> str:
    runs = result["runs"]
    names = list(runs)
    lines = ["| stage (µs per request, in-process) | " + " | ".join(names) + " |",
             "|---|" + "---:|" * len(names)]
    for stage in ORDER:
        cells = [runs[n]["stages_us"].get(stage, 0.0) for n in names]
        if any(cells):
            lines.append(f"| {stage} | " + " | ".join(f"{c:.1f}" if c else "—" for c in cells) + " |")
    lines.append("| sum (with the timers' own cost) | " + " | ".join(f"{runs[n]['cpu_us_per_request_timed']:.1f}" for n in names) + " |")
    lines.append("| **CPU per request, no timers** | " + " | ".join(f"**{runs[n]['cpu_us_per_request']:.1f}**" for n in names) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--only", default="", help="comma-separated run names (default: all)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "stages.json")
    args = p.parse_args(argv)
    wanted = [n for n in RUNS if not args.only or any(w.strip() in n for w in args.only.split(","))]
    result: dict[str, Any] = {"runs": {}}
    for name in wanted:
        config, request = RUNS[name]
        requests = args.requests if "search" not in name or "cached" in name and "not" not in name else max(200, args.requests // 5)
        runner = run_main_loop if "main loop" in name else run
        result["runs"][name] = runner({"background": False, **config}, request, requests)
        print(f"[stages] {name}: {result['runs'][name]['cpu_us_per_request']} µs/request", file=sys.stderr, flush=True)
    result["markdown"] = markdown(result)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(result["markdown"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
