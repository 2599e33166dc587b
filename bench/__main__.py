"""``python -m bench`` (``make bench``): the sandbox against its limit and its peers, in one go.

Order: start the sandbox cold (fresh SQLite state), time its first answer, record the answer and
the Click2Sync OpenAPI; restart it a few times on that state for the start-up time, keeping the
last one; record its Stock2Shop search; start every peer (idle ones cost nothing); warm each up;
then the rounds, interleaved across peers (A B C D A B C D ...), so a change in the machine's
other load falls on all of them alike; medians. wrk loads one server at a time from its own
process. Then the per-stage table (bench/stages.py) and the in-process figures.
Writes ``bench/results.json`` and ``bench/results.md`` and prints the table.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import profile as P
from bench.load import Loader, Target
from bench.peers import PEERS, ROOT, Peer, SandboxPeer, Workspace
from bench.report import markdown

OUT_DIR = ROOT / "bench"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=5.0, help="seconds per measured round (default 5)")
    p.add_argument("--rounds", type=int, default=3, help="measured rounds per peer; the median is reported")
    p.add_argument("--connections", type=int, default=16, help="wrk -c (default 16)")
    p.add_argument("--threads", type=int, default=1, help="wrk -t (default 1)")
    p.add_argument("--warmup", type=float, default=2.0,
                   help="seconds of discarded load before the rounds (WireMock's JVM gets 8x, Prism 4x)")
    p.add_argument("--only", default="sandbox,flask,wsgi,wiremock,prism",
                   help="comma-separated peers among " + ",".join(PEERS))
    p.add_argument("--startup-runs", type=int, default=3, help="restarts timed for the start-up figure")
    p.add_argument("--startup-only", action="store_true",
                   help="only the start-up figure: one cold start and --startup-runs restarts (bench/startup.py)")
    p.add_argument("--profile", type=float, default=0.0, metavar="SECONDS",
                   help="also sample the sandbox's workers with py-spy under load for this long")
    p.add_argument("--profile-gil", action="store_true",
                   help="profile only the thread holding the GIL (CPU time) instead of every non-idle thread")
    p.add_argument("--profile-target", default="sandbox", choices=["sandbox", "sandbox_s2s_search"],
                   help="which sandbox operation to load while profiling")
    p.add_argument("--sandbox-src", metavar="DIR",
                   help="measure the sandbox from another checkout (a patched copy) instead of this one")
    p.add_argument("--wiremock-args", default="", metavar="ARGS",
                   help='extra WireMock options, e.g. "--no-request-journal" (default: none, its defaults)')
    p.add_argument("--no-stages", dest="stages", action="store_false",
                   help="skip the per-stage cost table (bench/stages.py, in-process)")
    p.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")
    p.add_argument("--out", type=Path, default=OUT_DIR, help="where results.json and results.md go")
    p.add_argument("--figures", default="stock2shop_search,printxpand_bulk,state_scale",
                   help="figures run after the peers, each in its own process (bench/stock2shop_search.py, "
                        "bench/printxpand_bulk.py in-process; bench/state_scale.py: a real server at "
                        "--s2s-products per client, and writers against a searcher); '' for none")
    p.add_argument("--state-duration", type=float, default=60.0,
                   help="seconds of each writers-against-a-searcher run of the state_scale figure (default 60)")
    p.add_argument("--s2s-products", type=int, default=100_000,
                   help="catalogue size for the Stock2Shop search figure (default 100,000)")
    args = p.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in args.only if n not in PEERS]
    if unknown:
        p.error(f"unknown peer {', '.join(unknown)}; choose from {', '.join(PEERS)}")
    return args


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def warm_up(loader: Loader, peer: Peer, name: str, target: Target, args: argparse.Namespace) -> None:
    warm = args.warmup * peer.warmup_factor
    if warm > 0:
        log(f"{name}: warm-up {warm:.0f}s")
        loader.round(target, warm, args.connections)


def one_round(loader: Loader, peer: Peer, name: str, target: Target, args: argparse.Namespace, i: int) -> dict[str, Any]:
    cpu0 = peer.cpu_seconds()
    r = loader.round(target, args.duration, args.connections)
    # server CPU per answered request: robust to other load on the machine, unlike req/s
    r["cpu_ms_per_req"] = round((peer.cpu_seconds() - cpu0) * 1000 / r["requests"], 3) if r["requests"] else None
    r["loadavg"] = _loadavg()
    log(f"{name}: round {i + 1}/{args.rounds}: server CPU {r['cpu_ms_per_req']} ms/req, {r['rps']:.0f} req/s, "
        f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']}, non-2xx {r['non_2xx']}, load {r['loadavg']}")
    return r


def summary(peer: Peer, target: Target, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        values = [r[key] for r in rounds if r[key] is not None]
        return round(statistics.median(values), 3) if values else None

    return {"peer": peer.name, "title": peer.title, "version": peer.version, "url": target.url,
            "method": target.method, "cpu_ms_per_req": med("cpu_ms_per_req"), "rps": med("rps"),
            "p50_ms": med("p50_ms"), "p99_ms": med("p99_ms"),
            "errors": sum(r["errors"] for r in rounds), "non_2xx": sum(r["non_2xx"] for r in rounds),
            "startup_s": round(peer.startup_s, 3) if peer.startup_s is not None and peer.name != "sandbox" else None,
            "rounds": rounds}


def compile_sources(src: str | None) -> None:
    import compileall

    folder = Path(src) / "mocks" if src else ROOT / "mocks"
    ok = compileall.compile_dir(str(folder), quiet=1, workers=1)
    log(f"byte-compiled {folder} ({'ok' if ok else 'with errors'})")


def _loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError):
        return None


def start_sandbox(ws: Workspace, src: str | None) -> tuple[SandboxPeer, str | None]:
    """The sandbox with every installed API; if that cannot start (a half-landed API), fewer."""
    from mocks.registry import installed as installed_apis

    apis = installed_apis()
    attempts: list[list[str] | None] = [None]
    attempts.append([a for a in ("click2sync", "stock2shop") if a in apis])
    attempts.append(["click2sync"])
    failure = ""
    for i, attempt in enumerate(attempts):
        peer = SandboxPeer(ws, attempt, src)
        peer.state = ws.dir / f"state-{i}.db"
        try:
            peer.start()
        except RuntimeError as exc:
            peer.stop()
            failure = str(exc).strip().splitlines()[-1]
            log(f"sandbox with {attempt or 'all APIs'} did not start: {failure}")
            continue
        note = None if attempt is None else (f"started with --api {' --api '.join(attempt)} only: with all "
                                             f"APIs it failed ({failure})")
        return peer, note
    raise SystemExit(f"bench: the sandbox does not start: {failure}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.startup_only:
        from bench import startup
        return startup.main(["--runs", str(args.startup_runs), *(["--sandbox-src", args.sandbox_src] if args.sandbox_src else [])])
    started = time.time()
    loader = Loader(threads=args.threads, force_python=args.python_load)
    log(f"load: {loader.note}")
    ws = Workspace(Path(tempfile.mkdtemp(prefix="commerce-bench-")), wiremock_args=args.wiremock_args.split())
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "settings": {"duration_s": args.duration, "rounds": args.rounds, "connections": args.connections,
                     "wrk_threads": args.threads, "warmup_s": args.warmup, "load_tool": loader.tool,
                     "load_note": loader.note, "gunicorn": "gthread, 2 workers x 8 threads"},
        "machine": {"cpus": _cpus(), "python": platform.python_version(), "platform": platform.platform()},
        "runs": {}, "skipped": {}, "startup": {}, "rss": {}, "notes": ws.notes,
    }
    running: list[Peer] = []
    results["loadavg_start"] = _loadavg()
    try:
        # 0. byte-compile the sources measured, as installing a wheel does (pip compiles them): with
        #    PYTHONDONTWRITEBYTECODE set, every start would otherwise compile all of mocks again
        compile_sources(args.sandbox_src)
        # 1. the sandbox, cold (fresh SQLite state that it seeds): its first answer, the recordings
        log("starting the sandbox (fresh SQLite state)")
        cold, note = start_sandbox(ws, args.sandbox_src)
        running.append(cold)
        if note:
            ws.notes.append(note)
        results["startup"]["cold_s"] = round(cold.startup_s or 0, 3)
        results["startup"]["cold_cpu_s"] = round(cold.startup_cpu_s or 0, 3)
        cold.record()
        log(f"recorded {ws.recording['bytes']} bytes of GET {ws.recording['path']}?{ws.recording['query']}")
        cold.stop()
        running.remove(cold)

        # 2. start-up on existing state (what users see on restart); the last one is measured
        restarts, restart_cpu = [], []
        sandbox: SandboxPeer | None = None
        for i in range(max(1, args.startup_runs)):
            again = SandboxPeer(ws, cold.apis, args.sandbox_src)
            again.state = cold.state
            running.append(again)
            again.start()
            restarts.append(again.startup_s or 0)
            restart_cpu.append(again.startup_cpu_s or 0)
            if i < max(1, args.startup_runs) - 1:
                again.stop()
                running.remove(again)
            else:
                sandbox = again
        assert sandbox is not None
        results["startup"]["restart_s"] = round(statistics.median(restarts), 3)
        results["startup"]["restart_runs_s"] = [round(s, 3) for s in restarts]
        results["startup"]["restart_cpu_s"] = round(statistics.median(restart_cpu), 3)
        log(f"start-up to first answer: cold {results['startup']['cold_s']}s, "
            f"restart {results['startup'].get('restart_s')}s")
        reason = sandbox.prepare_s2s()  # (records the search's answer for the bare peers)
        if reason:
            results["skipped"]["sandbox_s2s_search"] = reason
            log(f"skip sandbox_s2s_search: {reason}")

        # 3. every peer up at once (idle ones cost nothing), then rounds interleaved: A B C D A B C D ...
        measured: list[tuple[Peer, str, Target]] = []
        if "sandbox" in args.only:
            measured += [(sandbox, name, t) for name, t in sandbox.targets().items()]
        for name in args.only:
            if name == "sandbox":
                continue
            peer = PEERS[name](ws)
            reason = peer.prepare()
            if reason:
                results["skipped"][name] = reason
                log(f"skip {name}: {reason}")
                continue
            log(f"starting {name}")
            running.append(peer)
            try:
                peer.start()
            except RuntimeError as exc:
                results["skipped"][name] = f"did not start: {str(exc).strip()[-300:]}"
                log(f"skip {name}: {results['skipped'][name]}")
                peer.stop()
                running.remove(peer)
                continue
            measured += [(peer, tname, t) for tname, t in peer.targets().items()]
        for peer, name, target in measured:
            warm_up(loader, peer, name, target, args)
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for _, name, _ in measured}
        for i in range(args.rounds):
            for peer, name, target in measured:
                rounds[name].append(one_round(loader, peer, name, target, args, i))
        for peer, name, target in measured:
            results["runs"][name] = summary(peer, target, rounds[name])
        for peer in {id(p): p for p, _, _ in measured}.values():
            results["rss"][peer.name] = peer.rss()
        if args.profile > 0 and "sandbox" in args.only:
            log(f"profiling the sandbox's workers with py-spy for {args.profile:.0f}s under load")
            target = sandbox.targets().get(args.profile_target, sandbox.targets()["sandbox"])
            results["profile"] = P.record(sandbox.proc.pid, loader, target,
                                          args.profile, args.connections, args.out / "profile.raw.txt",
                                          gil=args.profile_gil)
            results["profile"]["target"] = args.profile_target
    finally:
        for peer in running:
            peer.stop()
        shutil.rmtree(ws.dir, ignore_errors=True)
    results["loadavg_end"] = _loadavg()

    if args.stages and "sandbox" in args.only:
        results["stages"] = run_stages(args)
    results["figures"] = run_figures(args)
    results["ratios"] = ratios(results["runs"])
    results["recording"] = {k: v for k, v in ws.recording.items() if k != "body_file"}
    results["elapsed_s"] = round(time.time() - started, 1)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (args.out / "results.md").write_text(table)
    print(table)
    return 0


def run_figures(args: argparse.Namespace) -> dict[str, Any]:
    """The per-API figures measured in-process (own process each, so their memory is their own)."""
    import subprocess

    out: dict[str, Any] = {}
    for name in [n.strip() for n in args.figures.split(",") if n.strip()]:
        target = args.out / f"{name}.json"
        cmd = [sys.executable, "-m", f"bench.{name}"]
        if name == "stock2shop_search":
            cmd += ["--products", str(args.s2s_products), "--out", str(target)]
        elif name == "state_scale":
            cmd += ["--products", str(args.s2s_products), "--duration", str(args.state_duration), "--out", str(target)]
        else:  # writes its own bench/{name}.json
            target = ROOT / "bench" / f"{name}.json"
        log(f"figure {name}: {' '.join(cmd[2:])}")
        started = time.time()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
        try:
            out[name] = json.loads(target.read_text())
        except (OSError, ValueError):
            out[name] = {"error": (proc.stderr or proc.stdout).strip()[-500:] or f"exit {proc.returncode}"}
        out[name]["exit_code"] = proc.returncode
        out[name]["elapsed_s"] = round(time.time() - started, 1)
    return out


#: (sandbox run, peer run) pairs compared; the Stock2Shop search against the bare apps' same bytes
PAIRS = [("sandbox", "flask"), ("sandbox", "wsgi"), ("sandbox", "wiremock"), ("sandbox", "prism"),
         ("sandbox_s2s_search", "flask_s2s_search"), ("sandbox_s2s_search", "wsgi_s2s_search")]


def ratios(runs: dict[str, Any]) -> dict[str, float | None]:
    """Primary: server CPU per request, the peer's ms over the sandbox's (other load on the machine
    moves it much less than req/s); then req/s over req/s. Above 1: the sandbox does better."""
    out: dict[str, float | None] = {}
    for key, fmt in (("cpu_ms_per_req", "cpu {}/{}"), ("rps", "{}/{}")):
        for mine, theirs in PAIRS:
            a, b = runs.get(mine, {}).get(key), runs.get(theirs, {}).get(key)
            if key == "cpu_ms_per_req":
                value = round(b / a, 3) if a and b else None
            else:
                value = round(a / b, 3) if a and b else None
            out[fmt.format(mine, theirs)] = value
    return out


def run_stages(args: argparse.Namespace) -> dict[str, Any]:
    """bench/stages.py in its own process: the per-stage cost table."""
    import subprocess

    out = args.out / "stages.json"
    log("stages: python -m bench.stages")
    proc = subprocess.run([sys.executable, "-m", "bench.stages", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    try:
        return json.loads(out.read_text())
    except (OSError, ValueError):
        return {"error": (proc.stderr or proc.stdout).strip()[-500:] or f"exit {proc.returncode}"}


def _cpus() -> int | None:
    import os
    return os.cpu_count()


if __name__ == "__main__":
    raise SystemExit(main())
