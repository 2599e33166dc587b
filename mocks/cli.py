"""``commerce-sandbox``: serve the sandbox (and, as they land, verify, scenarios, replay).

Exit codes: 0 success, 1 a check found violations, 2 the command could not run.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any

from mocks.core.config import SandboxConfig


def _parse_options(values: list[str]) -> dict[str, dict[str, Any]]:
    """``--option click2sync.products=500`` -> {"click2sync": {"products": 500}}."""
    out: dict[str, dict[str, Any]] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        api, dot, name = key.partition(".")
        if not sep or not dot:
            raise SystemExit(f"--option wants API.NAME=VALUE, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out.setdefault(api, {})[name] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commerce-sandbox", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the sandbox with gunicorn (threaded workers)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--state", default="sqlite",
                       help="memory | sqlite (./.sandbox/state.db) | sqlite:///path.db | redis://host:port/db")
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--scenario", action="append", default=[], metavar="NAME")
    serve.add_argument("--api", action="append", default=None, metavar="NAME", help="mount only these APIs")
    serve.add_argument("--root-api", default=None, metavar="NAME", help="also mount this API at /")
    serve.add_argument("--admin-token", default=os.environ.get("SANDBOX_ADMIN_TOKEN"),
                       help="open the control plane to non-loopback clients that send this token")
    serve.add_argument("--journal-size", type=int, default=10_000)
    serve.add_argument("--option", action="append", default=[], metavar="API.NAME=VALUE",
                       help="per-API option, e.g. click2sync.products=500")
    serve.add_argument("--quiet", action="store_true", help="do not print URLs and credentials")
    verify = sub.add_parser("verify", help="run an API's contract against an implementation")
    verify.add_argument("target", choices=["click2sync"], help="which contract")
    verify.add_argument("--base-url", required=True, help="where the implementation answers")
    verify.add_argument("--key", help="click2sync: the storefront's C2SKey")
    verify.add_argument("--products-path", default="/product")
    verify.add_argument("--orders-path", default="/order")
    verify.add_argument("--read-only", action="store_true", help="skip checks that write (create/update)")
    verify.add_argument("--max-examples", type=int, default=25, help="schemathesis examples per operation (0: skip)")
    verify.add_argument("--timeout", type=float, default=10.0)
    verify.add_argument("--report-junit", metavar="PATH")
    return parser


def cmd_verify(args: argparse.Namespace) -> int:
    import importlib

    from rich.console import Console

    from mocks import verify as V

    console = Console(stderr=False, highlight=False)
    module = importlib.import_module(V.CHECKERS[args.target])
    try:
        checks = module.checks(args)
        with console.status(f"verifying {args.target} at {args.base_url}") as status:
            def progress(result: V.CheckResult) -> None:
                mark = "[green]ok[/green]" if result.ok else "[red]FAIL[/red]"
                console.print(f"{mark} {result.name} ({result.seconds:.1f}s)")
                status.update(f"verifying {args.target}: {result.name} done")

            results = V.run_checks(checks, progress)
    except V.CannotRun as exc:
        console.print(f"[red]could not run:[/red] {exc}")
        return 2
    V.report(results, console)
    if args.report_junit:
        V.write_junit(args.report_junit, f"verify.{args.target}", results)
    return 0 if all(r.ok for r in results) else 1


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(state=args.state, seed=args.seed, apis=args.api, root_api=args.root_api,
                         admin_token=args.admin_token, journal_size=args.journal_size,
                         scenarios=args.scenario, options=_parse_options(args.option))


def banner(app: Any, base: str) -> str:
    sandbox = app.extensions["sandbox"]
    lines = [f"commerce-sandbox on {base}  (state: {sandbox.store.describe()}, seed {sandbox.config.seed})", ""]
    for name, api in sandbox.apis.items():
        lines.append(f"  {api.title:<32} {base}{api.prefix}   (contract: {base}{api.prefix}/openapi.json)")
    if sandbox.config.root_api:
        lines.append(f"  {'(root)':<32} {base}/ -> {sandbox.config.root_api}")
    lines += ["", f"  control plane                    {base}/__sandbox/health", "", "Demo credentials:"]
    for name, creds in sandbox.credentials().items():
        lines.append(f"  {name}: {json.dumps(creds)}")
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    from mocks.app import create_app

    config = config_from_args(args)
    # Seed once in the master so that workers sharing the store never race to seed it.
    try:
        master_app = create_app(dataclasses.replace(config, background=False))
    except ValueError as exc:
        print(f"commerce-sandbox: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        print(banner(master_app, f"http://{host}:{args.port}"), flush=True)
    if config.state == "memory" and args.workers > 1:
        print("note: --state memory keeps state per worker; use sqlite or redis to share it", file=sys.stderr)
    master_app.extensions["sandbox"].store.close()
    del master_app

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers,
                "threads": args.threads,
                "worker_class": "gthread",
                "timeout": 120,
                "graceful_timeout": 5,
                "keepalive": 5,
                "loglevel": "warning",
                "accesslog": None,
                "errorlog": "-",
                "proc_name": "commerce-sandbox",
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(config)

    Server().run()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return cmd_serve(args)
    if args.command == "verify":
        return cmd_verify(args)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
