"""Sample the sandbox's workers under load with py-spy and summarise where the time goes.

py-spy is not a dependency: ``.venv/bin/pip install py-spy`` first (``--profile`` says so if
it is missing). The raw output (collapsed stacks) is kept next to the results.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.load import Loader, Target


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def record(master_pid: int, loader: Loader, target: Target, seconds: float, connections: int,
           out: Path, gil: bool = False) -> dict[str, Any]:
    """``gil``: sample only the thread holding the GIL (CPU); else every non-idle thread (wall)."""
    tool = py_spy()
    if tool is None:
        return {"skipped": "py-spy is not installed (.venv/bin/pip install py-spy)"}
    cmd = [tool, "record", "--pid", str(master_pid), "--subprocesses", "--duration", str(int(seconds) + 1),
           "--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking"] + (["--gil"] if gil else [])
    spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        load = loader.round(target, seconds, connections)
        _, err = spy.communicate(timeout=seconds + 30)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait()
    if not out.exists():
        return {"skipped": f"py-spy wrote nothing: {err.strip()[-300:]}"}
    summary = summarise(out)
    summary["load_rps_while_sampling"] = load["rps"]
    summary["raw"] = str(out)
    summary["mode"] = "gil (CPU: the thread holding the GIL)" if gil else "wall (every non-idle thread)"
    return summary


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"; drop the line number
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})" if where else name


def summarise(raw: Path, top: int = 25) -> dict[str, Any]:
    """Inclusive and self shares of samples in which a request is being handled."""
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame_name(f) for f in stack.split(";") if not f.startswith("process ")]
        # only threads serving a request (idle pollers and the master's loop are not cost)
        entry = next((i for i, f in enumerate(frames) if f.split(" (")[0].endswith(".handle_request")), None)
        if entry is None:
            continue
        frames = frames[entry + 1:] or frames[entry:]   # from the WSGI app down: the request's own cost
        count = int(count_text)
        total += count
        self_time[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count

    def rows(counter: Counter[str]) -> list[dict[str, Any]]:
        return [{"function": k, "share": round(v / total, 4)} for k, v in counter.most_common(top)] if total else []

    return {"samples": total, "inclusive": rows(inclusive), "self": rows(self_time)}
