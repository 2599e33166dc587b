"""Start-up to first answer only (issue 21's < 1.0 s target), without the throughput rounds.

    python -m bench.startup [--runs 5] [--sandbox-src DIR] [--api NAME ...]

The same ``commerce-sandbox serve`` as ``make bench`` steps 1 and 2 (``SandboxPeer``: 2 workers x 8
threads, SQLite state, sources byte-compiled first): ``seeding``, a start on a new state file with no
seeded state kept by an earlier start (it seeds); ``cold``, a start on a new state file that begins
from the seeded state an earlier start kept (``mocks.core.seedcache``); then ``--runs`` restarts on
an existing state. For each: seconds from spawn to the first 200 of the
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


def nothing_kept(ws: Workspace) -> dict[str, str]:
    """The environment of a start that finds no seeded state kept by an earlier one (it seeds): a
    cache directory of its own holding only the contracts' bundles (``mocks.core.seedcache``)."""
    from mocks.resources import user_cache

    folder = ws.dir / "cache-nothing-kept"
    contracts = user_cache("contracts")
    if not (folder / "contracts").exists() and contracts is not None:
        shutil.copytree(contracts, folder / "contracts")
    shutil.rmtree(folder / "seeds", ignore_errors=True)  # (what the last start kept there)
    return {"COMMERCE_SANDBOX_CACHE": str(folder)}


def one(ws: Workspace, state: Path, apis: list[str] | None, src: str | None,
        env: dict[str, str] | None = None) -> dict[str, Any]:
    peer = SandboxPeer(ws, apis, src)
    peer.state = state
    peer.env = env or {}
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
        seeding = [one(ws, ws.dir / f"seeding-{i}.db", args.api, args.sandbox_src, nothing_kept(ws))
                   for i in range(max(1, args.cold))]
        one(ws, ws.dir / "first.db", args.api, args.sandbox_src)  # (keeps the seeded state, if not kept yet)
        colds = [one(ws, ws.dir / f"state-{i}.db", args.api, args.sandbox_src) for i in range(max(1, args.cold))]
        restarts = [one(ws, ws.dir / "state-0.db", args.api, args.sandbox_src) for _ in range(args.runs)]
    finally:
        shutil.rmtree(ws.dir, ignore_errors=True)
    for name, runs in (("seeding", seeding), ("cold", colds), ("restart", restarts)):
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
