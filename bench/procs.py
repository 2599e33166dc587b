"""Process plumbing for the peers: spawn in its own session, wait for the first answer, RSS, stop.

RSS comes from ``/proc/PID/status`` (VmRSS), so psutil is not needed.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from bench.load import Target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """One server process (and its children), started in a new session so it can be stopped whole."""

    def __init__(self, cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.cmd = cmd
        self.log_path = log
        self._log: IO[bytes] = open(log, "wb")
        self.started = time.perf_counter()
        self.popen = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 15) -> str:
        self._log.flush()
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_answer(self, target: Target, timeout: float) -> float:
        """Seconds from spawn to the first 2xx answer to ``target``; raises if it never comes."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if not self.alive():
                raise RuntimeError(f"exited with {self.popen.returncode} before answering:\n{self.tail()}")
            req = urllib.request.Request(target.url, data=target.body, method=target.method, headers=target.headers)
            try:
                with urllib.request.urlopen(req, timeout=2) as resp:
                    resp.read()
                    if 200 <= resp.status < 300:
                        return time.perf_counter() - self.started
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.01)
        raise RuntimeError(f"no answer within {timeout:.0f}s:\n{self.tail()}")

    def tree(self) -> list[int]:
        """This process and all its descendants."""
        parents: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(parents.get(pid, []))
        return out

    def children(self) -> list[int]:
        return [p for p in self.tree() if p != self.pid]

    def stop(self, grace: float = 5.0) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(grace)
        self._log.close()


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (from /proc/PID/stat), dead ones counting 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])   # utime, stime (fields 14 and 15 of stat)
    return total / _TICK


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
