"""Start-up to first answer only (issue 21's < 1.0 s target), without the throughput rounds.

    python -m bench.startup [--runs 5] [--sandbox-src DIR] [--api NAME ...]

The same ``commerce-sandbox serve`` as ``make bench`` steps 1 and 2 (``SandboxPeer``: 2 workers x 8
threads, SQLite state, sources byte-compiled first): one cold start on a fresh state file (it seeds),
then ``--runs`` restarts on that state. For each: seconds from spawn to the first 200 of the
Click2Sync product page, and the CPU the server's processes used until then, children that have
already exited (the seeding child) included. CPU is the figure that moves least with other load.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.peers import SandboxPeer, Workspace


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def one(ws: Workspace, state: Path, apis: list[str] | None, src: str | None) -> dict[str, Any]:
    peer = SandboxPeer(ws, apis, src)
    peer.state = state
    load = loadavg()
    try:
        peer.start()
        return {"wall_s": round(peer.startup_s or 0, 3), "cpu_s": round(peer.startup_cpu_s or 0, 3), "load": load}
    finally:
        peer.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="restarts on the cold run's state (default 5)")
    p.add_argument("--cold", type=int, default=1, help="cold starts, each on a fresh state file (default 1)")
    p.add_argument("--sandbox-src", metavar="DIR", help="measure another checkout (run with PYTHONPATH=DIR)")
    p.add_argument("--api", action="append", help="mount only these APIs (default: all)")
    p.add_argument("--no-compile", dest="compile", action="store_false", help="do not byte-compile first")
    args = p.parse_args(argv)
    if args.compile:
        import compileall

        compileall.compile_dir(str(Path(args.sandbox_src or Path(__file__).resolve().parent.parent) / "mocks"),
                               quiet=1, workers=1)
    ws = Workspace(Path(tempfile.mkdtemp(prefix="commerce-startup-")))
    try:
        colds = [one(ws, ws.dir / f"state-{i}.db", args.api, args.sandbox_src) for i in range(max(1, args.cold))]
        restarts = [one(ws, ws.dir / "state-0.db", args.api, args.sandbox_src) for _ in range(args.runs)]
    finally:
        shutil.rmtree(ws.dir, ignore_errors=True)
    for name, runs in (("cold", colds), ("restart", restarts)):
        if not runs:
            continue
        walls = [r["wall_s"] for r in runs]
        cpus = [r["cpu_s"] for r in runs]
        print(f"{name:8s} wall median {statistics.median(walls):.3f}s  runs {walls}")
        print(f"{'':8s} cpu  median {statistics.median(cpus):.3f}s  runs {cpus}")
        print(f"{'':8s} load average at each start {[r['load'] for r in runs]}")
    print(f"machine: {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
