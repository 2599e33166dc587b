"""Load generation: wrk (from Debian) on loopback, parsed; a small Python fallback without it.

One round = one fixed-duration, fixed-connection run against one URL. ``run_round`` returns
``{"rps", "p50_ms", "p99_ms", "requests", "errors", "non_2xx", "tool"}``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Target:
    """What one peer is asked: the same operation, possibly under its own path."""
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


# -- finding wrk ---------------------------------------------------------------------------------
def find_wrk(install: bool = True) -> tuple[str | None, str]:
    """Path to wrk (installing Debian's package if allowed and missing), and a note."""
    path = shutil.which("wrk")
    if path:
        return path, "wrk found"
    if install and shutil.which("apt-get"):
        cmd = ["apt-get", "install", "-y", "-q", "wrk"]
        if os.geteuid() != 0 and shutil.which("sudo"):
            cmd = ["sudo", "-n", *cmd]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=300)
        except (subprocess.SubprocessError, OSError) as exc:
            return None, f"wrk missing and `apt-get install -y wrk` failed ({exc.__class__.__name__})"
        path = shutil.which("wrk")
        if path:
            return path, "wrk installed with apt-get"
    return None, "wrk not available"


# -- wrk -----------------------------------------------------------------------------------------
_LUA = """
wrk.method = {method}
wrk.body = {body}
"""


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def wrk_command(wrk: str, target: Target, duration: float, connections: int, threads: int,
                script: str | None) -> list[str]:
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
           "--timeout", "5s"]
    for name, value in target.headers.items():
        cmd += ["-H", f"{name}: {value}"]
    if script:
        cmd += ["-s", script]
    return cmd + [target.url]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/sec, the 50% and 99% latency lines of ``--latency``, errors and non-2xx counts."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not rps:
        raise ValueError("wrk printed no Requests/sec:\n" + output)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
    total = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": _ms(lat["50"]) if "50" in lat else None,
        "p99_ms": _ms(lat["99"]) if "99" in lat else None,
        "requests": int(total.group(1)) if total else None,
        "errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def run_wrk(wrk: str, target: Target, duration: float, connections: int, threads: int = 1) -> dict[str, Any]:
    script = None
    try:
        if target.method != "GET" or target.body is not None:
            fd, script = tempfile.mkstemp(suffix=".lua", prefix="bench-")
            with os.fdopen(fd, "w") as fh:
                fh.write(_LUA.format(method=_lua_string(target.method),
                                     body=_lua_string((target.body or b"").decode()) if target.body else "nil"))
        cmd = wrk_command(wrk, target, duration, connections, threads, script)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
        if out.returncode != 0:
            raise RuntimeError(f"wrk exited {out.returncode}: {out.stderr.strip()}")
        result = parse_wrk(out.stdout)
        result["tool"] = "wrk"
        return result
    finally:
        if script:
            os.unlink(script)


# -- the fallback: a small threaded Python load generator in its own process ---------------------
def run_python(target: Target, duration: float, connections: int) -> dict[str, Any]:
    """Same shape as ``run_wrk``; much weaker (the GIL caps it well below wrk): a last resort."""
    spec = {"url": target.url, "method": target.method, "headers": target.headers,
            "body": (target.body or b"").decode() if target.body is not None else None,
            "duration": duration, "connections": connections}
    out = subprocess.run([sys.executable, "-m", "bench.load"], input=json.dumps(spec), capture_output=True,
                         text=True, timeout=duration + 30, cwd=os.path.dirname(os.path.dirname(__file__)))
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    result = json.loads(out.stdout)
    result["tool"] = "python"
    return result


def _python_load(spec: dict[str, Any]) -> dict[str, Any]:
    import http.client

    parts = urlsplit(spec["url"])
    path = parts.path + ("?" + parts.query if parts.query else "")
    body = spec["body"].encode() if spec["body"] is not None else None
    deadline = time.perf_counter() + spec["duration"]
    latencies: list[float] = []
    counters = {"errors": 0, "non_2xx": 0}
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                conn.request(spec["method"], path, body=body, headers=spec["headers"])
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 400:
                    with lock:
                        counters["non_2xx"] += 1
            except (OSError, http.client.HTTPException):
                with lock:
                    counters["errors"] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
                continue
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(spec["connections"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 3) if latencies else None

    return {"rps": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "requests": len(latencies), **counters}


class Loader:
    """wrk if it can be had, else the Python fallback (and says so)."""

    def __init__(self, threads: int = 1, install: bool = True, force_python: bool = False) -> None:
        self.threads = threads
        if force_python:
            self.wrk, self.note = None, "Python load generator (forced)"
        else:
            self.wrk, self.note = find_wrk(install)
            if self.wrk is None:
                self.note += "; FALLING BACK to the Python load generator (numbers are capped by it)"

    @property
    def tool(self) -> str:
        return "wrk" if self.wrk else "python"

    def round(self, target: Target, duration: float, connections: int) -> dict[str, Any]:
        if self.wrk:
            return run_wrk(self.wrk, target, duration, connections, self.threads)
        return run_python(target, duration, connections)


if __name__ == "__main__":  # the fallback's own process: spec on stdin, result on stdout
    print(json.dumps(_python_load(json.load(sys.stdin))))
