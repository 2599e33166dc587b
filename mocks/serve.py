"""``commerce-sandbox serve``: the start-up banner, every check made before it (port, state,
workers), the seeding (in forked children on a shared backend) and the gunicorn application (the
app built once in the master; the workers forked from it)."""

from __future__ import annotations

import argparse
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


def seed_with_progress(sandbox: Any, quiet: bool) -> str:
    """Seed what is not seeded yet; seeding (long with large ``--option`` sizes) shows a rich progress bar."""
    if quiet:
        sandbox.seed_all()
        return ""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("seeding {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("tenants", total=None)

        def progress(api: str, tenant: str, done: int, total: int) -> None:
            bar.update(task, description=f"{api}/{tenant}", completed=done, total=total)

        sandbox.seed_all(progress)
    return ""


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
    from mocks.core.store import sqlite_path

    path = sqlite_path(url)
    if path is not None:
        import sqlite3

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


def prepare_app(args: argparse.Namespace, config: SandboxConfig, keep_seeds: bool = False) -> tuple[Any, str]:
    """Check everything that can be checked, build the app, seed the state and install the run's
    scenarios; returns the app and the banner ("" with --quiet). Raises CannotStart.

    The app is built once, here, in gunicorn's master; the workers are forked from it with
    everything imported, the contracts loaded and the routes compiled (``preload_app``), and each
    starts its own threads after the fork (``Sandbox.after_fork``). The master keeps no store
    connection across the fork. ``keep_seeds``: a new SQLite state file starts from the seeded
    state kept by an earlier start alike, or keeps its own for the next (``mocks.core.seedcache``)."""
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
    return _one_line(lambda: _prepare_state(args, config, keep_seeds))


def _prepare_state(args: argparse.Namespace, config: SandboxConfig, keep_seeds: bool) -> tuple[Any, str]:
    """Seed what is not seeded (once: workers sharing the store never race to seed it) while the
    app is built (no threads started), install the scenarios, write the banner."""
    from mocks import registry
    from mocks.app import create_app
    from mocks.core import seedcache
    from mocks.core.sandbox import Sandbox
    from mocks.core.store import open_store, sqlite_path

    apis = registry.load(config.apis)
    path, kept = sqlite_path(config.state), None
    if keep_seeds and path is not None and seedcache.fresh(path):
        kept = seedcache.key(config, [api.name for api in apis])
        if seedcache.restore(path, kept):
            kept = None  # (nothing to keep: it is the kept state)
    store = open_store(config.state, config.journal_size)
    seeder = Sandbox(config, apis, store)
    todo = seeder.unseeded()
    children: list[tuple[int, int]] = []
    if todo and config.state != "memory" and hasattr(os, "fork"):
        # On a shared backend the seeding runs in child processes, started before the app is
        # built here: the master, which every worker is forked from, then never holds its garbage
        # (hundreds of MB at 100,000 products). Two seed at once on a multi-core machine, from
        # either end of the list: each tenant is claimed by whichever comes to it first
        # (Sandbox.seed_tenant), and its data depends on its own seed only, not on who seeds it
        # or when. No worker starts before they are done: nothing is served half seeded.
        def backwards() -> str:
            for api, tenant in reversed(todo):
                seeder.seed_tenant(api, tenant)
            return ""

        works = [lambda: seed_with_progress(seeder, args.quiet)]
        if len(todo) > 1 and (os.cpu_count() or 1) > 1:
            works.append(backwards)
        seeder.before_fork()
        children = _fork(works)
    try:
        app = create_app(config, store=store, apis=apis, seed=False, start=False)
    finally:
        _wait(children)
    sandbox = app.extensions["sandbox"]
    if todo and not children:
        seed_with_progress(sandbox, args.quiet)
    if kept is not None and todo:  # seeded from nothing, nothing else written yet: kept for the next
        seedcache.save(path, kept)
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    text = "" if args.quiet else banner(app, f"http://{host}:{args.port}")
    # Scenarios belong to this run: drop what a previous run left in the state, start --scenario afresh.
    app.extensions["gateway"].faults.install(config.scenarios, fresh=True)
    sandbox.before_fork()
    return app, text


def _one_line(work: Any) -> Any:
    """``work()``; a failure to build or seed (a bad option, a state file or a Redis that went away)
    is a CannotStart of one line, never a traceback."""
    import sqlite3

    try:
        return work()
    except CannotStart:
        raise
    except (ValueError, OSError, sqlite3.Error) as exc:
        raise CannotStart(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    except Exception as exc:  # noqa: BLE001 - a Redis that went away, ...: one line, never a traceback
        raise CannotStart(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None


def _fork(works: list[Any]) -> list[tuple[int, int]]:
    """Each ``work()`` (returning text) in a forked child of its own, all at once; (pipe, pid) of
    each, for :func:`_wait`."""
    children: list[tuple[int, int]] = []
    for work in works:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's coverage is not collected
            os.close(read)
            for other, _ in children:
                os.close(other)
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
        children.append((read, pid))
    return children


def _wait(children: list[tuple[int, int]]) -> list[str]:
    """Wait for every child of :func:`_fork`; their texts, or the first failure's CannotStart."""
    messages, failure = [], None
    for read, pid in children:
        with os.fdopen(read, "rb") as fh:
            message = fh.read().decode("utf-8", "replace")
        _, status = os.waitpid(pid, 0)
        if status and failure is None:
            failure = CannotStart(message.splitlines()[0] if message else
                                  f"seeding stopped (status {os.waitstatus_to_exitcode(status)})")
        messages.append(message)
    if failure is not None:
        raise failure
    return messages


def serve(args: argparse.Namespace, config: SandboxConfig) -> int:
    """Check, seed, then run gunicorn until stopped (``commerce-sandbox serve``); 2 if it cannot start."""
    from gunicorn.app.base import BaseApplication

    from mocks.core.edgeworker import gunicorn_settings

    try:
        workers, threads = serve_plan(args)
        app, text = prepare_app(args, config, keep_seeds=True)
    except CannotStart as exc:
        print(f"commerce-sandbox serve: {exc}", file=sys.stderr)
        return 2
    sandbox = app.extensions["sandbox"]

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
                # the app built above, in this master; each worker forked from it starts its own
                # scheduler and warm-up (nothing opened before the fork is used after it)
                "preload_app": True,
                "post_fork": lambda server, worker: sandbox.after_fork(),
                # the banner once the socket listens: never a banner for a server that is not up
                "when_ready": lambda server: text and print(text, flush=True),
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    Server().run()
    return 0
