"""The peers: what is measured, one class each, all answering the same operation on loopback.

* ``sandbox``  ``commerce-sandbox serve`` (gthread, 2 workers x 8 threads, SQLite state), full stack;
* ``flask``    the limit: a bare Flask app with the recorded bytes, same gunicorn settings;
* ``wsgi``     gunicorn's floor: a bare WSGI callable with the recorded bytes, same settings;
* ``wiremock`` WireMock standalone 3.x (npm ``wiremock`` ships the jar) with a stub of the recording;
* ``prism``    Prism 5.x (npm ``@stoplight/prism-cli``) mocking the sandbox's own Click2Sync OpenAPI.

A peer: ``prepare()`` (install, write its files; returns a reason to skip, or None), ``start()``
(spawn, wait for the first answer), ``targets()`` (name -> Target), ``rss()``, ``stop()``.
"""
from __future__ import annotations

import glob
import json
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import Target
from bench.procs import _TICK, Proc, cpu_seconds, free_port, rss_mb

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "bench" / ".tools"
PRODUCT_PATH = "/click2sync/api/product"
PRODUCT_QUERY = "offset=0"
C2S_HEADERS = {"C2SKey": "c2s-demo-key"}
S2S_SEARCH_PATH = "/stock2shop/v1/products/elastic_search"
GUNICORN = {"workers": 2, "threads": 8}
NPM_PACKAGES = {"wiremock": "wiremock@3", "prism": "@stoplight/prism-cli@5"}
#: response headers not replayed: per-connection, per-server or per-worker ones
_NOT_RECORDED = {"server", "date", "connection", "content-length", "transfer-encoding", "keep-alive",
                 "x-sandbox-worker"}


@dataclass
class Workspace:
    dir: Path                       # scratch files and logs of this run (outside the repo)
    python: str = sys.executable    # the venv's python: has flask, gunicorn, the sandbox
    recording: dict[str, Any] = field(default_factory=dict)   # path, query, status, headers, body_file
    openapi_file: Path | None = None
    notes: list[str] = field(default_factory=list)
    wiremock_args: list[str] = field(default_factory=list)   # e.g. ["--no-request-journal"]

    def bin(self, name: str) -> str:
        return str(Path(self.python).parent / name)


def npm_install(package_key: str, bin_check: str) -> str | None:
    """Install an npm tool under bench/.tools unless present; None, or why it could not be."""
    if glob.glob(str(TOOLS / bin_check)):
        return None
    if not shutil.which("npm"):
        return "npm is not on this machine"
    TOOLS.mkdir(parents=True, exist_ok=True)
    cmd = ["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--loglevel=error",
           NPM_PACKAGES[package_key]]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        return f"`{' '.join(cmd)}` failed: {exc}"
    if out.returncode != 0 or not glob.glob(str(TOOLS / bin_check)):
        return f"`{' '.join(cmd)}` failed: {(out.stderr or out.stdout).strip()[-300:]}"
    return None


def npm_version(package: str) -> str | None:
    try:
        return json.loads((TOOLS / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def startup_cpu_seconds(proc: Proc) -> float:
    """CPU a server used to start: utime + stime of each of its live processes, plus what their
    children that have already exited and been waited for used (cutime + cstime: the sandbox's
    seeding children, which ``cpu_seconds`` alone would miss)."""
    total = 0
    for pid in proc.tree():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])   # utime, stime, cutime, cstime
    return total / _TICK


class Peer:
    name = "peer"
    title = "peer"
    start_timeout = 60.0
    warmup_factor = 1.0      # the JVM needs longer to warm up than the others

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.proc: Proc | None = None
        self.port = 0
        self.startup_s: float | None = None
        self.startup_cpu_s: float | None = None   # CPU the server's processes (and reaped children) used until then
        self.version: str | None = None

    def prepare(self) -> str | None:
        return None

    def command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def targets(self) -> dict[str, Target]:
        raise NotImplementedError

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self.port = free_port()
        cmd, env = self.command()
        self.proc = Proc(cmd, self.ws.dir / f"{self.name}.log", env=env, cwd=str(ROOT))
        first = next(iter(self.targets().values()))
        self.startup_s = self.proc.wait_answer(first, self.start_timeout)
        self.startup_cpu_s = startup_cpu_seconds(self.proc)

    def rss(self) -> dict[str, Any]:
        """RSS in MB: per worker for gunicorn peers, the whole process tree for the others."""
        assert self.proc is not None
        tree = self.proc.tree()
        values = [v for v in (rss_mb(p) for p in tree) if v is not None]
        return {"total_mb": round(sum(values), 1), "processes": len(values)}

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's whole process tree."""
        assert self.proc is not None
        return cpu_seconds(self.proc.tree())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


class GunicornPeer(Peer):
    def rss(self) -> dict[str, Any]:
        out = super().rss()
        assert self.proc is not None
        workers = [v for v in (rss_mb(p) for p in self.proc.children()) if v is not None]
        out["master_mb"] = round(rss_mb(self.proc.pid) or 0, 1)
        out["per_worker_mb"] = [round(v, 1) for v in workers]
        return out


class SandboxPeer(GunicornPeer):
    name = "sandbox"
    title = "commerce-sandbox (full stack)"

    def __init__(self, ws: Workspace, apis: list[str] | None = None, src: str | None = None) -> None:
        super().__init__(ws)
        self.apis = apis
        self.src = src          # another checkout of the sandbox to measure (e.g. a patched copy)
        self.state = ws.dir / "state.db"
        self.s2s_target: Target | None = None

    def command(self) -> tuple[list[str], dict[str, str]]:
        prog = [self.ws.python, "-m", "mocks"] if self.src else [self.ws.bin("commerce-sandbox")]
        cmd = [*prog, "serve", "--port", str(self.port), "--quiet",
               "--workers", str(GUNICORN["workers"]), "--threads", str(GUNICORN["threads"]),
               "--state", f"sqlite:///{self.state}"]
        for api in self.apis or []:
            cmd += ["--api", api]
        return cmd, ({"PYTHONPATH": self.src} if self.src else {})

    def start(self) -> None:
        if self.src:  # run from that checkout, so that its `mocks` is the one imported
            self.port = free_port()
            cmd, env = self.command()
            self.proc = Proc(cmd, self.ws.dir / f"{self.name}.log", env=env, cwd=self.src)
            self.startup_s = self.proc.wait_answer(self.targets()["sandbox"], self.start_timeout)
            self.startup_cpu_s = startup_cpu_seconds(self.proc)
        else:
            super().start()

    def targets(self) -> dict[str, Target]:
        out = {"sandbox": Target(self.url(f"{PRODUCT_PATH}?{PRODUCT_QUERY}"), headers=dict(C2S_HEADERS))}
        if self.s2s_target is not None:
            out["sandbox_s2s_search"] = self.s2s_target
        return out

    def record(self) -> None:
        """Save the answer every other peer replays, and the Click2Sync OpenAPI for Prism."""
        target = self.targets()["sandbox"]
        with urllib.request.urlopen(urllib.request.Request(target.url, headers=target.headers), timeout=10) as resp:
            body = resp.read()
            headers = {k: v for k, v in resp.headers.items() if k.lower() not in _NOT_RECORDED}
            status = resp.status
        body_file = self.ws.dir / "product.json"
        body_file.write_bytes(body)
        self.ws.recording = {"path": PRODUCT_PATH, "query": PRODUCT_QUERY, "status": status,
                             "headers": headers, "body_file": str(body_file), "bytes": len(body)}
        (self.ws.dir / "recording.json").write_text(json.dumps(self.ws.recording))
        with urllib.request.urlopen(self.url("/click2sync/openapi.json"), timeout=10) as resp:
            doc = json.loads(resp.read())
        self.ws.openapi_file = self.ws.dir / "click2sync-openapi.json"
        self.ws.openapi_file.write_text(json.dumps(doc, indent=1))

    def prepare_s2s(self) -> str | None:
        """A Stock2Shop elastic_search (range + term + sort) with a real token; or why not."""
        try:
            with urllib.request.urlopen(self.url("/__sandbox/credentials"), timeout=10) as resp:
                creds = json.loads(resp.read())
            if "stock2shop" not in creds:
                return "Stock2Shop is not mounted"
            user = creds["stock2shop"]["users"][0]
            auth = json.dumps({"system_user_auth": {"username": user["username"],
                                                    "password": user["password"]}}).encode()
            req = urllib.request.Request(self.url("/stock2shop/v1/users/authenticate?format=json"), data=auth,
                                         headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(req, timeout=10) as resp:
                token = json.loads(resp.read())["system_user"]["token"]
            query = {
                "query": {"bool": {"filter": [
                    {"range": {"modified": {"gte": "2000-01-01"}}},
                    {"term": {"active": True}},
                ]}},
                "sort": [{"modified": {"order": "desc"}}],
                "size": 20,
            }
            target = Target(self.url(f"{S2S_SEARCH_PATH}?token={token}"), method="POST",
                            headers={"Content-Type": "application/json"}, body=json.dumps(query).encode())
            req = urllib.request.Request(target.url, data=target.body, headers=target.headers, method="POST")
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
                headers = {k: v for k, v in resp.headers.items() if k.lower() not in _NOT_RECORDED}
            hits = json.loads(raw)
        except Exception as exc:  # noqa: BLE001 - any failure means: skip, with the reason
            detail = getattr(exc, "read", lambda: b"")()[:200].decode("utf-8", "replace")
            return f"Stock2Shop elastic_search could not be prepared: {exc} {detail}".strip()
        self.s2s_target = target
        if self.ws.recording:  # the bare peers answer these bytes too (the search's own baseline)
            body_file = self.ws.dir / "s2s_search.json"
            body_file.write_bytes(raw)
            self.ws.recording["s2s"] = {"path": S2S_SEARCH_PATH, "headers": headers, "body_file": str(body_file),
                                        "bytes": len(raw), "request_body": query}
            (self.ws.dir / "recording.json").write_text(json.dumps(self.ws.recording))
        total = hits.get("hits", {}).get("total") if isinstance(hits, dict) else None
        self.ws.notes.append(f"Stock2Shop search: range(modified) + term(active) + sort(modified desc), "
                             f"size 20; total hits {total}")
        return None


class FlaskPeer(GunicornPeer):
    name = "flask"
    title = "bare Flask (the limit)"
    module = "bench.bare_flask:app"

    def command(self) -> tuple[list[str], dict[str, str]]:
        cmd = [self.ws.python, "-m", "gunicorn", self.module, "--bind", f"127.0.0.1:{self.port}",
               "--worker-class", "gthread", "--workers", str(GUNICORN["workers"]),
               "--threads", str(GUNICORN["threads"]), "--keep-alive", "5", "--timeout", "120",
               "--log-level", "warning"]
        return cmd, {"BENCH_RECORDING": str(self.ws.dir / "recording.json")}

    def prepare(self) -> str | None:
        return None if self.ws.recording else "no recording of the sandbox's answer"

    def targets(self) -> dict[str, Target]:
        out = {self.name: Target(self.url(f"{PRODUCT_PATH}?{PRODUCT_QUERY}"), headers=dict(C2S_HEADERS))}
        s2s = self.ws.recording.get("s2s")
        if s2s:  # the same bytes as the sandbox's Stock2Shop search, for its own ratio
            out[f"{self.name}_s2s_search"] = Target(self.url(f"{s2s['path']}?token=x"), method="POST",
                                                    headers={"Content-Type": "application/json"},
                                                    body=json.dumps(s2s["request_body"]).encode())
        return out


class WsgiPeer(FlaskPeer):
    name = "wsgi"
    title = "bare WSGI callable (gunicorn's floor)"
    module = "bench.bare_wsgi:app"


class WireMockPeer(Peer):
    name = "wiremock"
    title = "WireMock standalone"
    start_timeout = 90.0
    warmup_factor = 8.0      # HotSpot keeps compiling for many seconds of load on 2 busy cores

    def prepare(self) -> str | None:
        if not shutil.which("java"):
            return "java is not on this machine"
        if not self.ws.recording:
            return "no recording of the sandbox's answer"
        reason = npm_install("wiremock", "node_modules/wiremock/build/*.jar")
        if reason:
            return reason
        self.jar = sorted(glob.glob(str(TOOLS / "node_modules/wiremock/build/*.jar")))[-1]
        self.version = npm_version("wiremock")
        rec = self.ws.recording
        root = self.ws.dir / "wiremock"
        (root / "mappings").mkdir(parents=True, exist_ok=True)
        body = Path(rec["body_file"]).read_text(encoding="utf-8")
        mapping = {
            "request": {
                "method": "GET",
                "urlPath": rec["path"],
                "queryParameters": {"offset": {"equalTo": "0"}},
                "headers": {name: {"equalTo": value} for name, value in C2S_HEADERS.items()},
            },
            # the body inline in the mapping (bodyFileName would read the file on every request)
            "response": {"status": rec["status"], "body": body, "headers": rec["headers"]},
        }
        (root / "mappings" / "product.json").write_text(json.dumps(mapping, indent=1))
        self.root = root
        return None

    def command(self) -> tuple[list[str], dict[str, str]]:
        # WireMock's defaults, as its users run it. Not "--max-request-journal-entries 10000" (bounded
        # like the sandbox's journal): that halves its throughput here (eviction cost per request).
        return ["java", "-jar", self.jar, "--port", str(self.port), "--bind-address", "127.0.0.1",
                "--root-dir", str(self.root), "--disable-banner", *self.ws.wiremock_args], {}

    def targets(self) -> dict[str, Target]:
        return {"wiremock": Target(self.url(f"{PRODUCT_PATH}?{PRODUCT_QUERY}"), headers=dict(C2S_HEADERS))}


class PrismPeer(Peer):
    name = "prism"
    title = "Prism mock (our OpenAPI)"
    warmup_factor = 4.0      # V8's optimiser too

    def prepare(self) -> str | None:
        if not shutil.which("node"):
            return "node is not on this machine"
        if self.ws.openapi_file is None:
            return "no copy of the sandbox's Click2Sync OpenAPI"
        reason = npm_install("prism", "node_modules/.bin/prism")
        if reason:
            return reason
        self.version = npm_version("@stoplight/prism-cli")
        return None

    def command(self) -> tuple[list[str], dict[str, str]]:
        return [str(TOOLS / "node_modules/.bin/prism"), "mock", "-h", "127.0.0.1", "-p", str(self.port),
                str(self.ws.openapi_file)], {}

    def targets(self) -> dict[str, Target]:
        # Prism serves the document's paths from its own root: /api/product is Click2Sync's path
        return {"prism": Target(self.url(f"/api/product?{PRODUCT_QUERY}"), headers=dict(C2S_HEADERS))}


PEERS = {"sandbox": SandboxPeer, "flask": FlaskPeer, "wsgi": WsgiPeer, "wiremock": WireMockPeer, "prism": PrismPeer}
