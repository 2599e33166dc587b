"""``commerce-sandbox serve``: the start-up banner, every check made before it (port, state,
workers), the seeding (in a forked child on a shared backend) and the gunicorn application."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import os
import sys
from typing import Any

from mocks import __version__
from mocks.core.config import SandboxConfig

DEFAULT_WORKERS = 2
DEFAULT_THREADS = 8


# -- the start-up banner -----------------------------------------------------------------------
SECRET_FIELDS = ("key", "api_key", "store_key", "username", "password", "consumer_key", "consumer_secret",
                 "access_token", "access_token_secret")
NAME_FIELDS = ("custom_label", "integration", "label")


def credential_rows(credentials: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """``(api, who, credentials, tenant)`` for every record of ``/__sandbox/credentials`` that names a
    tenant (a key, a user, a consumer, an account, a store), each once."""
    rows: list[tuple[str, str, str, str]] = []
    seen: set[tuple[Any, ...]] = set()

    def walk(api: str, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(api, item)
            return
        if not isinstance(node, dict):
            return
        if "tenant" in node:
            secrets = [(f, str(node[f])) for f in SECRET_FIELDS if isinstance(node.get(f), (str, int)) and f != "username"]
            marker = (api, node["tenant"], node.get("username"), tuple(secrets))
            if secrets and marker not in seen:
                seen.add(marker)
                who = next((str(node[f]) for f in NAME_FIELDS if node.get(f)), "")
                if node.get("username"):
                    who = f"user {node['username']}" + (f" ({node['role']})" if node.get("role") else "")
                elif node.get("cart_id"):
                    who = f"store {who or node['cart_id']} ({node['cart_id']})"
                elif "api_key" in node and "store_key" not in node and who:
                    who = f"account {who}"
                note = (node.get("note") or "").split(":")[0] or ("disconnected" if node.get("connected") is False else "")
                text = "  ".join(f"{f}={v}" for f, v in secrets)
                rows.append((api, who + (f" - {note}" if note else ""), text, str(node["tenant"])))
        for value in node.values():
            walk(api, value)

    for api, creds in credentials.items():
        walk(api, creds)
    return rows


def text_table(header: tuple[str, ...], rows: list[tuple[Any, ...]], indent: str = "  ") -> list[str]:
    """Plain aligned columns; a cell that is a list of strings takes one line each."""
    cells = [[c if isinstance(c, list) else [str(c)] for c in row] for row in [header, *rows]]
    widths = [max(len(line) for row in cells for line in row[i]) for i in range(len(header))]
    out = []
    for n, row in enumerate(cells):
        for k in range(max(len(c) for c in row)):
            parts = [(c[k] if k < len(c) else "").ljust(w) for c, w in zip(row, widths)]
            out.append((indent + "  ".join(parts)).rstrip())
        if n == 0:
            out.append(indent + "  ".join("-" * w for w in widths))
    return out


def banner(app: Any, base: str) -> str:
    """What the sandbox serves and its demo credentials, as tables for people (JSON: /__sandbox/credentials)."""
    sandbox = app.extensions["sandbox"]
    lines = [f"commerce-sandbox {__version__} on {base}  (state: {sandbox.store.describe()}, "
             f"seed {sandbox.config.seed})", ""]
    # contract: the OpenAPI document for tools; docs: the same, browsable (mocks.core.docspage)
    rows: list[tuple[Any, ...]] = [(api.title, f"{base}{api.prefix}", f"{base}{api.prefix}/openapi.json",
                                    f"{base}{api.prefix}/docs") for api in sandbox.apis.values()]
    if sandbox.config.root_api:
        rows.append(("(root)", f"{base}/", f"-> {sandbox.config.root_api}", ""))
    rows += [("control plane", f"{base}/__sandbox/health", "", ""), ("QA console", f"{base}/__sandbox/ui/", "", "")]
    lines += text_table(("API", "base URL", "contract", "docs"), rows)
    lines += ["", "Demo credentials (as JSON: GET /__sandbox/credentials)"]
    creds = []
    for api, who, text, tenant in credential_rows(sandbox.credentials()):
        pairs = text.split("  ")
        creds.append((api, who or "key", tenant, ["  ".join(pairs[i:i + 2]) for i in range(0, len(pairs), 2)]))
    lines += text_table(("API", "who", "tenant", "credentials"), creds)
    return "\n".join(lines)


def seed_with_progress(create_app: Any, config: SandboxConfig, quiet: bool) -> Any:
    """Build the master app; seeding (long with large ``--option`` sizes) shows a rich progress bar."""
    if quiet:
        return create_app(config)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("seeding {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("tenants", total=None)

        def progress(api: str, tenant: str, done: int, total: int) -> None:
            bar.update(task, description=f"{api}/{tenant}", completed=done, total=total)

        return create_app(config, progress=progress)


# -- serve: every reason not to start is found before the banner ---------------------------------
class CannotStart(Exception):
    """One line saying why ``serve`` cannot start (exit 2, before any banner)."""


def check_port(host: str, port: int) -> None:
    """The address can be listened on (gunicorn binds the same way, with SO_REUSEADDR)."""
    import socket

    if not 0 < port < 65536:
        raise CannotStart(f"--port {port} is not a port number (1-65535)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CannotStart(f"--host {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CannotStart(f"port {port} on {host} is already in use (another sandbox? try --port)") from None
            raise CannotStart(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def check_state(url: str) -> None:
    """The state backend of ``--state`` can be used: a SQLite file that can be created and written,
    or a Redis that answers."""
    if url == "memory":
        return
    if url == "sqlite" or url.startswith("sqlite:///"):
        import sqlite3

        path = os.path.join(".sandbox", "state.db") if url == "sqlite" else url[len("sqlite:///"):]
        if not path:
            raise CannotStart(f"--state {url}: no file named (sqlite:///state.db is relative, "
                              "sqlite:////tmp/state.db absolute)")
        if os.path.isdir(path):
            raise CannotStart(f"--state {url}: {path} is a directory, not a database file")
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            conn = sqlite3.connect(path, timeout=5)
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS _preflight (x)")  # readable, a database, writable
                conn.execute("DROP TABLE _preflight")
            finally:
                conn.close()
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise CannotStart(f"--state {url}: cannot use {os.path.abspath(path)} as the state file: {reason}") from None
        return
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        except ValueError as exc:
            raise CannotStart(f"--state {url}: not a Redis URL ({exc})") from None
        try:
            client.ping()
        except redis.RedisError as exc:
            raise CannotStart(f"--state {url}: Redis does not answer ({str(exc).splitlines()[0]})") from None
        finally:
            client.close()
        return
    raise CannotStart(f"--state {url!r} is not a state backend: use memory, sqlite, sqlite:///path.db "
                      "or redis://host:port/db")


def serve_plan(args: argparse.Namespace) -> tuple[int, int]:
    """(workers, threads). Memory state lives in one process, so it runs one worker with more threads."""
    if args.state == "memory":
        if args.workers is not None and args.workers > 1:
            raise CannotStart(f"--state memory is one process's state, so it runs one worker (--workers "
                              f"{args.workers} would give each its own data, tokens and journal); use --threads "
                              "for more concurrency, or --state sqlite to share the state between workers")
        return 1, args.threads or DEFAULT_WORKERS * DEFAULT_THREADS
    workers = DEFAULT_WORKERS if args.workers is None else args.workers
    if workers < 1 or (args.threads is not None and args.threads < 1):
        raise CannotStart("--workers and --threads must be at least 1")
    return workers, args.threads or DEFAULT_THREADS


def prepare_serve(args: argparse.Namespace, config: SandboxConfig) -> str:
    """Check everything that can be checked, then seed the state and install the run's scenarios;
    returns the banner ("" with --quiet). Raises CannotStart."""
    from mocks import resources
    from mocks.core import scenarios as S

    for folder in args.scenarios_dir:
        if not os.path.isdir(folder):
            raise CannotStart(f"--scenarios-dir {folder}: no such directory")
    resources.add_user_scenario_dirs(args.scenarios_dir)
    try:
        clashes = S.clashes()
    except S.ScenarioError as exc:
        raise CannotStart(str(exc)) from None
    for line in clashes:
        print(f"note: {line}", file=sys.stderr)
    check_port(args.host, args.port)
    check_state(config.state)
    if config.state != "memory" and hasattr(os, "fork"):
        # On a shared backend this runs in a child process: the master, which every worker is
        # forked from, then never holds the seeding's garbage (hundreds of MB at 100,000 products).
        return _in_child(lambda: _prepare_state(args, config))
    return _prepare_state(args, config)


def _prepare_state(args: argparse.Namespace, config: SandboxConfig) -> str:
    """Seed (once: workers sharing the store never race to seed it), install the scenarios."""
    import sqlite3

    from mocks.app import create_app

    try:
        app = seed_with_progress(create_app, dataclasses.replace(config, background=False), args.quiet)
    except (ValueError, OSError, sqlite3.Error) as exc:
        raise CannotStart(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    except Exception as exc:  # noqa: BLE001 - a Redis that went away, ...: one line, never a traceback
        raise CannotStart(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    text = "" if args.quiet else banner(app, f"http://{host}:{args.port}")
    # Scenarios belong to this run: drop what a previous run left in the state, start --scenario afresh.
    app.extensions["gateway"].faults.install(config.scenarios, fresh=True)
    app.extensions["sandbox"].store.close()
    return text


def _in_child(work: Any) -> str:
    """``work()`` (returning text) in a forked child; its text, or its CannotStart raised here."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read)
        status, message = 0, ""
        try:
            message = work()
        except CannotStart as exc:
            status, message = 2, str(exc)
        except BaseException as exc:  # noqa: BLE001 - reported by the parent in one line
            status, message = 2, f"{type(exc).__name__}: {exc}"
        finally:
            data = message.encode("utf-8", "replace")
            while data:
                data = data[os.write(write, data):]
            os.close(write)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        message = fh.read().decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    if status:
        raise CannotStart(message.splitlines()[0] if message else
                          f"seeding stopped (status {os.waitstatus_to_exitcode(status)})")
    return message


def serve(args: argparse.Namespace, config: SandboxConfig) -> int:
    """Check, seed, then run gunicorn until stopped (``commerce-sandbox serve``); 2 if it cannot start."""
    from gunicorn.app.base import BaseApplication

    from mocks.app import create_app
    from mocks.core.edgeworker import gunicorn_settings

    try:
        workers, threads = serve_plan(args)
        text = prepare_serve(args, config)
    except CannotStart as exc:
        print(f"commerce-sandbox serve: {exc}", file=sys.stderr)
        return 2

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{args.host}:{args.port}",
                "workers": workers,
                "threads": threads,
                **gunicorn_settings(args.header_timeout),  # gthread, heads read before the pool
                "timeout": 120,
                "graceful_timeout": 5,
                "keepalive": 5,
                "loglevel": "warning",
                "accesslog": None,
                "errorlog": "-",
                "proc_name": "commerce-sandbox",
                # the banner once the socket listens: never a banner for a server that is not up
                "when_ready": lambda server: text and print(text, flush=True),
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(config)

    Server().run()
    return 0
