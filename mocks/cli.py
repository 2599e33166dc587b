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
    serve.add_argument("--allow-host", action="append", default=[], metavar="HOST", dest="allow_host",
                       help="let webhooks/callbacks reach HOST (name, *.domain, IP, CIDR, optional :port; "
                            "loopback is always allowed)")
    serve.add_argument("--journal-size", type=int, default=10_000)
    serve.add_argument("--option", action="append", default=[], metavar="API.NAME=VALUE",
                       help="per-API option, e.g. click2sync.products=500")
    serve.add_argument("--quiet", action="store_true", help="do not print URLs and credentials")
    verify = sub.add_parser("verify", help="run an API's contract against an implementation")
    targets = verify.add_subparsers(dest="target", required=True, metavar="TARGET")
    from mocks import verify as V
    for name, (module_name, summary) in V.available().items():
        target = targets.add_parser(name, help=summary)
        target.add_argument("--base-url", required=True, help="where the implementation answers")
        target.add_argument("--timeout", type=float, default=10.0)
        target.add_argument("--report-junit", metavar="PATH")
        V.add_arguments(name, target)

    scen = sub.add_parser("scenarios", help="the ready fault scenarios (scenarios/*.yaml)")
    scen_sub = scen.add_subparsers(dest="scenarios_command")
    scen_sub.add_parser("list", help="name and description of every scenario")
    show = scen_sub.add_parser("show", help="one scenario's definition")
    show.add_argument("name")
    check = scen_sub.add_parser("validate", help="check scenario files against the schema")
    check.add_argument("files", nargs="+", metavar="FILE")

    record = sub.add_parser("record", help="save a running sandbox's session (journal, scenarios, seeds)")
    record.add_argument("--base-url", default="http://127.0.0.1:8080")
    record.add_argument("-o", "--output", default="sandbox-session.json", metavar="FILE")
    record.add_argument("--format", choices=["json", "har"], default="json")
    record.add_argument("--admin-token", default=os.environ.get("SANDBOX_ADMIN_TOKEN"))

    replay = sub.add_parser("replay", help="re-run a recorded session and report differences")
    replay.add_argument("file", metavar="FILE")
    replay.add_argument("--target", required=True, help="base URL of the sandbox to replay against")
    replay.add_argument("--no-reset", action="store_true", help="do not reset the target first")
    replay.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="value for a redacted header, query parameter or body field")
    replay.add_argument("--timeout", type=float, default=10.0)
    replay.add_argument("--admin-token", default=os.environ.get("SANDBOX_ADMIN_TOKEN"))
    replay.add_argument("--quiet", action="store_true", help="print only the differences")

    viol = sub.add_parser("violations", help="the contract violations a running sandbox recorded")
    viol.add_argument("--base-url", default="http://127.0.0.1:8080", help="the sandbox (not an API prefix)")
    viol.add_argument("--api", default=None, metavar="NAME", help="only this API's violations")
    viol.add_argument("--direction", choices=["request", "response"], default=None,
                      help="request: your connector broke the contract; response: the sandbox did")
    viol.add_argument("--tenant", default=None)
    viol.add_argument("--fail-on-any", action="store_true", help="exit 1 if there is any violation (for CI)")
    viol.add_argument("--clear", action="store_true", help="clear the log after reading it")
    viol.add_argument("--json", action="store_true", help="print the violations as JSON")
    viol.add_argument("--admin-token", default=os.environ.get("SANDBOX_ADMIN_TOKEN"))
    viol.add_argument("--timeout", type=float, default=30.0)
    return parser


def cmd_scenarios(args: argparse.Namespace) -> int:
    import yaml

    from mocks.core import scenarios as S

    try:
        if args.scenarios_command == "show":
            try:
                definition = S.get(args.name)
            except KeyError:
                print(f"commerce-sandbox: no scenario named {args.name!r}; see `commerce-sandbox scenarios list`",
                      file=sys.stderr)
                return 2
            path = S.library_dir() / f"{args.name}.yaml"
            if path.is_file():  # the file itself, comments included
                print(path.read_text(encoding="utf-8"), end="")
            else:
                print(yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100), end="")
            return 0
        if args.scenarios_command == "validate":
            bad = 0
            for path in args.files:
                try:
                    S.load_file(path)
                    print(f"ok   {path}")
                except S.ScenarioError as exc:
                    bad += 1
                    print(f"FAIL {exc}")
            return 1 if bad else 0
        library = S.library()
    except S.ScenarioError as exc:
        print(f"commerce-sandbox: {exc}", file=sys.stderr)
        return 2
    width = max((len(n) for n in library), default=0)
    for name, definition in library.items():
        print(f"{name:<{width}}  {' '.join(definition.get('description', '').split())}")
    return 0


def _control_session(token: str | None) -> Any:
    import requests

    http = requests.Session()
    if token:
        http.headers["X-Sandbox-Admin-Token"] = token
    return http


def cmd_record(args: argparse.Namespace) -> int:
    import requests

    try:
        r = _control_session(args.admin_token).get(args.base_url.rstrip("/") + "/__sandbox/export",
                                                   params={"format": args.format}, timeout=60)
        r.raise_for_status()
        data = r.json()
    except (requests.RequestException, ValueError) as exc:
        print(f"commerce-sandbox: could not export from {args.base_url}: {exc}", file=sys.stderr)
        return 2
    with open(args.output, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, ensure_ascii=False)
    count = len(data["log"]["entries"]) if args.format == "har" else len(data.get("requests", []))
    print(f"recorded {count} requests to {args.output}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    import requests

    from mocks.core.replay.client import replay

    overrides = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"commerce-sandbox: --set wants NAME=VALUE, got {item!r}", file=sys.stderr)
            return 2
        overrides[name] = value
    try:
        with open(args.file, encoding="utf-8") as fh:
            data = json.load(fh)
        result = replay(data, args.target, reset=not args.no_reset, overrides=overrides, timeout=args.timeout,
                          session=_control_session(args.admin_token),
                          log_line=None if args.quiet else (lambda line: print(line, flush=True)))
    except (OSError, ValueError, requests.RequestException) as exc:
        print(f"commerce-sandbox: replay could not run: {exc}", file=sys.stderr)
        return 2
    for diff in result["differences"] if args.quiet else []:
        print(f"DIFF {diff['request']}: " + "; ".join(diff["problems"]))
    n = len(result["differences"])
    print(f"replayed {result['requests']} requests: {n} with differences" if n else
          f"replayed {result['requests']} requests: no differences")
    return 1 if n else 0


def cmd_verify(args: argparse.Namespace) -> int:
    import importlib

    from rich.console import Console

    from mocks import verify as V

    console = Console(stderr=False, highlight=False)
    module = importlib.import_module(V.CHECKERS[args.target][0])
    try:
        checks = module.checks(args)
        with console.status(f"verifying {args.target} at {args.base_url}") as status:
            def progress(result: V.CheckResult) -> None:
                mark = "[green]ok[/green]" if result.ok else "[red]FAIL[/red]"
                console.print(f"{mark} {result.name} ({result.seconds:.1f}s)")
                status.update(f"verifying {args.target}: {result.name} done")

            # checks that take a while (schemathesis per operation) say where they are
            args.progress = lambda text: status.update(f"verifying {args.target}: {text}")
            results = V.run_checks(checks, progress)
    except V.CannotRun as exc:
        console.print(f"[red]could not run:[/red] {exc}", soft_wrap=True)
        return 2
    V.report(results, console)
    if args.report_junit:
        V.write_junit(args.report_junit, f"verify.{args.target}", results)
    return 0 if all(r.ok for r in results) else 1


def _violation_curl(base: str, violation: dict[str, Any], journal: list[dict[str, Any]]) -> str:
    """The request as a curl line, from the journal entry that recorded the violation (secrets
    stay redacted as the journal keeps them); method and path alone if it has rotated out."""
    from urllib.parse import urlencode

    from mocks.verify import curl

    errors = violation.get("errors") or []
    candidates = [e for e in journal if e.get("method") == violation.get("method")
                  and e.get("path") == violation.get("path")
                  and (not errors or errors[0] in (e.get("violations") or []))]
    url = base + str(violation.get("path", ""))
    if not candidates:
        return curl(str(violation.get("method", "GET")), url)
    when = violation.get("time") or 0
    entry = min(candidates, key=lambda e: abs((e.get("time") or 0) - when) if isinstance(when, (int, float)) else 0)
    query = entry.get("query") or {}
    if query:
        url += "?" + urlencode(query)
    headers = {k: v for k, v in ((entry.get("request") or {}).get("headers") or {}).items()
               if k.lower() not in ("host", "accept", "x-sandbox-worker")}
    body = (entry.get("request") or {}).get("body") or None
    return curl(str(entry.get("method", "GET")), url, headers, body)


def cmd_violations(args: argparse.Namespace) -> int:
    import requests

    base = args.base_url.rstrip("/")
    http = _control_session(args.admin_token)
    params = {k: v for k, v in (("api", args.api), ("direction", args.direction), ("tenant", args.tenant)) if v}
    try:
        r = http.get(base + "/__sandbox/violations", params=params, timeout=args.timeout)
        r.raise_for_status()
        rows = r.json()["violations"][::-1]  # oldest first, as they happened
        journal: list[dict[str, Any]] = []
        if rows:
            jr = http.get(base + "/__sandbox/requests", params={"limit": 1_000_000, **({"api": args.api} if args.api else {})},
                          timeout=args.timeout)
            if jr.ok:
                journal = [e for e in jr.json().get("requests", []) if e.get("violations")]
        if args.clear:
            http.delete(base + "/__sandbox/violations", timeout=args.timeout).raise_for_status()
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        print(f"commerce-sandbox: could not read the violations of {base}: {exc}", file=sys.stderr)
        return 2
    for row in rows:
        row["curl"] = _violation_curl(base, row, journal)
    if args.json:
        print(json.dumps({"violations": rows, "total": len(rows)}, indent=1, ensure_ascii=False))
    else:
        for n, row in enumerate(rows, 1):
            who = "request (the client broke the contract)" if row.get("direction") == "request" \
                else "response (the sandbox broke its own contract)"
            status = f", answered {row['status']}" if row.get("status") else ""
            print(f"[{n}] {row.get('api')} {row.get('method')} {row.get('path')}: {who}")
            print(f"    operation {row.get('operation') or '(none)'}, tenant {row.get('tenant') or '-'}{status}")
            for error in row.get("errors") or []:
                pointer = error.get("pointer") or "/"
                print(f"    broken rule: {pointer}: {error.get('reason')}")
            print(f"    {row['curl']}")
        scope = f" for {args.api}" if args.api else ""
        print(f"{len(rows)} contract violation(s){scope} at {base}" if rows else
              f"no contract violations{scope} at {base}")
    return 1 if rows and args.fail_on_any else 0


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(state=args.state, seed=args.seed, apis=args.api, root_api=args.root_api,
                         admin_token=args.admin_token, outbound_hosts=args.allow_host,
                         journal_size=args.journal_size,
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


def _seed_in_child(create_app: Any, config: SandboxConfig, quiet: bool) -> int:
    """Seed in a forked child; its exit status (2: a configuration error, already printed)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        status = 0
        try:
            app = seed_with_progress(create_app, config, quiet)
            app.extensions["sandbox"].store.close()
        except ValueError as exc:
            print(f"commerce-sandbox: {exc}", file=sys.stderr)
            status = 2
        except BaseException:  # noqa: BLE001 - reported, then the parent stops
            import traceback
            traceback.print_exc()
            status = 1
        finally:
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if status else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    from mocks.app import create_app

    config = config_from_args(args)
    # Seed once before the workers start, so that workers sharing the store never race to seed it.
    # On a shared backend the seeding runs in a child process: the master (which every worker is
    # forked from) then never holds the seeding's garbage (hundreds of MB at 100,000 products).
    master_config = dataclasses.replace(config, background=False)
    if config.state != "memory" and hasattr(os, "fork"):
        code = _seed_in_child(create_app, master_config, args.quiet)
        if code:
            return code if code > 0 else 1
    try:
        master_app = seed_with_progress(create_app, master_config, args.quiet)
    except ValueError as exc:
        print(f"commerce-sandbox: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        print(banner(master_app, f"http://{host}:{args.port}"), flush=True)
    if config.state == "memory" and args.workers > 1:
        print("note: --state memory keeps state per worker; use sqlite or redis to share it", file=sys.stderr)
    # Scenarios belong to this run: drop what a previous run left in the state, start --scenario afresh.
    master_app.extensions["gateway"].faults.install(config.scenarios, fresh=True)
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
    if args.command == "scenarios":
        return cmd_scenarios(args)
    if args.command == "record":
        return cmd_record(args)
    if args.command == "replay":
        return cmd_replay(args)
    if args.command == "violations":
        return cmd_violations(args)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
