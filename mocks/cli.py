"""commerce-sandbox: serve five e-commerce API sandboxes, verify implementations of their contracts, run fault scenarios, record and replay sessions.

Exit codes: 0 success, 1 a check found violations (or differences), 2 the command could not run
(one line on stderr says why; never a traceback).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from mocks import __version__
from mocks.core.config import SandboxConfig
from mocks.serve import (  # noqa: F401 - the serve command lives in mocks/serve.py; these stay mocks.cli.*
    DEFAULT_THREADS, DEFAULT_WORKERS, CannotStart, banner, check_port, check_state, credential_rows, serve,
    serve_plan, text_table,
)


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


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help says its default (when it has one) and whether it is required."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.required and action.option_strings:
            text += " (required)"
        default = action.default
        if (action.option_strings and "default" not in text and default not in (None, False, [], "")
                and default is not argparse.SUPPRESS and not isinstance(action, argparse._VersionAction)):
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """argparse with one line for a mistake (``commerce-sandbox serve: ...``) and exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _summary() -> str:
    text = (__doc__ or "").splitlines()[0].split(": ", 1)[-1]
    return text[:1].upper() + text[1:]


def _env_token() -> str | None:
    return os.environ.get("SANDBOX_ADMIN_TOKEN")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; ``command``: the one about to run, when known. The verify targets
    (one checker module each, with what it imports) are added only for ``verify`` or when it is
    not known (``--help``): ``serve`` starts without importing them."""
    parser = Parser(prog="commerce-sandbox", description=_summary(),
                    epilog="Exit codes: 0 success, 1 violations or differences found, 2 could not run. "
                           "`commerce-sandbox COMMAND --help` for each command.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the sandbox (gunicorn, threaded workers)",
                           description="Run the sandbox: every API on one port, state in SQLite by default.")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--workers", type=int, default=None, metavar="N",
                       help=f"worker processes (default: {DEFAULT_WORKERS}; 1 with --state memory, which is one "
                            "process's state)")
    serve.add_argument("--threads", type=int, default=None, metavar="N",
                       help=f"threads per worker (default: {DEFAULT_THREADS}; {DEFAULT_WORKERS * DEFAULT_THREADS} "
                            "with --state memory)")
    serve.add_argument("--header-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="close a connection whose request headers are not complete after this long")
    serve.add_argument("--state", default="sqlite",
                       help="memory | sqlite (./.sandbox/state.db) | sqlite:///relative.db | sqlite:////absolute.db "
                            "| redis://host:port/db")
    serve.add_argument("--seed", type=int, default=1, help="seed of the generated data and of the faults")
    serve.add_argument("--scenario", action="append", default=[], metavar="NAME",
                       help="activate a scenario from the start (repeatable)")
    serve.add_argument("--scenarios-dir", action="append", default=[], metavar="DIR", dest="scenarios_dir",
                       help="add your scenario files (*.yaml) to the built-in library (repeatable; also "
                            "$SANDBOX_SCENARIOS); yours win a name clash")
    serve.add_argument("--api", action="append", default=None, metavar="NAME",
                       help="mount only these APIs (repeatable; default: all five)")
    serve.add_argument("--root-api", default=None, metavar="NAME",
                       help="also mount this API at / (for clients with hard-coded absolute paths)")
    serve.add_argument("--admin-token", default=_env_token(),
                       help="open the control plane to non-loopback clients that send this token "
                            "(default: $SANDBOX_ADMIN_TOKEN; none: loopback only)")
    serve.add_argument("--allow-host", action="append", default=[], metavar="HOST", dest="allow_host",
                       help="let webhooks/callbacks reach HOST (name, *.domain, IP, CIDR, optional :port; "
                            "loopback is always allowed)")
    serve.add_argument("--journal-size", type=int, default=10_000, metavar="N", help="requests kept in the journal")
    serve.add_argument("--option", action="append", default=[], metavar="API.NAME=VALUE",
                       help="per-API option, e.g. click2sync.products=500 (repeatable)")
    serve.add_argument("--quiet", action="store_true", help="do not print URLs and credentials")

    verify = sub.add_parser("verify", help="check an implementation of an API's contract (exit 0/1/2)",
                            description="Check an implementation against an API's contract. Exit 0: it "
                                        "conforms; 1: violations found; 2: could not run.")
    targets = verify.add_subparsers(dest="target", required=True, metavar="TARGET")
    if command in (None, "verify"):
        from mocks import verify as V
        for name, (module_name, summary) in V.available().items():
            target = targets.add_parser(name, help=summary, description=f"verify {name}: {summary}. Exit 0: it "
                                        "conforms; 1: violations found; 2: could not run.")
            target.add_argument("--base-url", required=True, help="where the implementation answers")
            target.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
            target.add_argument("--report-junit", metavar="PATH", help="also write the findings as JUnit XML")
            V.add_arguments(name, target)

    scen = sub.add_parser("scenarios", help="list, show and validate fault scenarios",
                          description="The fault scenarios: the built-in library and yours.")
    scen.add_argument("--scenarios-dir", action="append", default=[], metavar="DIR", dest="scenarios_dir",
                      help="add your scenario files to the library (repeatable; also $SANDBOX_SCENARIOS)")
    scen_sub = scen.add_subparsers(dest="scenarios_command", metavar="ACTION")
    scen_sub.add_parser("list", help="name and description of every scenario (the default)")
    show = scen_sub.add_parser("show", help="one scenario's definition")
    show.add_argument("name", help="the scenario's name")
    check = scen_sub.add_parser("validate", help="check scenario files against the schema (exit 1: one is broken)")
    check.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML or JSON)")

    record = sub.add_parser("record", help="save a running sandbox's session (journal, scenarios, seeds)",
                            description="Save a running sandbox's session to a file, for replay.")
    record.add_argument("--base-url", default="http://127.0.0.1:8080", help="the sandbox (not an API prefix)")
    record.add_argument("-o", "--output", default="sandbox-session.json", metavar="FILE", help="where to write it")
    record.add_argument("--format", choices=["json", "har"], default="json",
                        help="json (replayable) or har (for HAR viewers)")
    record.add_argument("--admin-token", default=_env_token(),
                        help="the sandbox's admin token (default: $SANDBOX_ADMIN_TOKEN)")

    replay = sub.add_parser("replay", help="re-run a recorded session against a sandbox and report differences",
                            description="Re-run a recorded session's requests against a sandbox and report "
                                        "differences. Exit 0: none; 1: differences; 2: could not run.")
    replay.add_argument("file", metavar="FILE", help="a session written by `record` (JSON)")
    replay.add_argument("--target", required=True, help="base URL of the sandbox to replay against")
    replay.add_argument("--reset", action="store_true",
                        help="reset the target to its seeded state first (it is left as it is otherwise)")
    replay.add_argument("--no-reset", action="store_true", help=argparse.SUPPRESS)  # the old default; kept
    replay.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="value for a redacted header, query parameter or body field (repeatable)")
    replay.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
    replay.add_argument("--admin-token", default=_env_token(),
                        help="the target's admin token (default: $SANDBOX_ADMIN_TOKEN)")
    replay.add_argument("--quiet", action="store_true", help="print only the differences")

    viol = sub.add_parser("violations", help="the contract violations a running sandbox recorded",
                          description="The contract violations a running sandbox recorded, with a curl line each.")
    viol.add_argument("--base-url", default="http://127.0.0.1:8080", help="the sandbox (not an API prefix)")
    viol.add_argument("--api", default=None, metavar="NAME", help="only this API's violations")
    viol.add_argument("--direction", choices=["request", "response"], default=None,
                      help="request: your connector broke the contract; response: the sandbox did")
    viol.add_argument("--tenant", default=None, help="only this tenant's violations")
    viol.add_argument("--fail-on-any", action="store_true", help="exit 1 if there is any violation (for CI)")
    viol.add_argument("--clear", action="store_true", help="clear the log after reading it")
    viol.add_argument("--json", action="store_true", help="print the violations as JSON")
    viol.add_argument("--admin-token", default=_env_token(),
                      help="the sandbox's admin token (default: $SANDBOX_ADMIN_TOKEN)")
    viol.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer")
    from mocks.drift import cli as drift_cli
    drift_cli.add_parsers(sub)  # proxy, diff, seed-from
    return parser


def cmd_scenarios(args: argparse.Namespace) -> int:
    import yaml

    from mocks import resources
    from mocks.core import scenarios as S

    resources.add_user_scenario_dirs(args.scenarios_dir)
    try:
        if args.scenarios_command == "show":
            try:
                definition = S.get(args.name)
            except KeyError:
                print(f"commerce-sandbox: no scenario named {args.name!r}; see `commerce-sandbox scenarios list`",
                      file=sys.stderr)
                return 2
            source = S.sources().get(args.name, "")
            folder = resources.builtin_scenarios() if source.startswith("scenarios/") else None
            entry = folder / source.split("/", 1)[1] if folder is not None else Path(source)
            if source and entry.is_file():  # the file itself, comments included
                print(entry.read_text(encoding="utf-8"), end="")
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
        library, clashes = S.library(), S.clashes()
    except S.ScenarioError as exc:
        print(f"commerce-sandbox: {exc}", file=sys.stderr)
        return 2
    for line in clashes:
        print(f"note: {line}", file=sys.stderr)
    sources = S.sources()
    width = max((len(n) for n in library), default=0)
    for name, definition in library.items():
        mine = "" if sources[name].startswith("scenarios/") else f"  [{sources[name]}]"
        print(f"{name:<{width}}  {' '.join(definition.get('description', '').split())}{mine}")
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
        result = replay(data, args.target, reset=args.reset, overrides=overrides, timeout=args.timeout,
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

    def cannot_run(why: str) -> int:  # one line, on stderr: CI shows why the job did not check anything
        print(f"commerce-sandbox verify {args.target}: could not run: {why}", file=sys.stderr)
        return 2

    missing = V.missing_dependency()
    if missing:
        return cannot_run(missing)
    console = Console(stderr=False, highlight=False)
    module = importlib.import_module(V.CHECKERS[args.target][0])
    try:
        checks = module.checks(args)
        with console.status(f"verifying {args.target} at {args.base_url}") as status:
            def progress(result: V.CheckResult) -> None:
                mark = "[green]ok[/green]" if result.ok else \
                    "[red]FAIL[/red]" if result.findings else "[yellow]could not run[/yellow]"
                console.print(f"{mark} {result.name} ({result.seconds:.1f}s)")
                status.update(f"verifying {args.target}: {result.name} done")

            # checks that take a while (schemathesis per operation) say where they are
            args.progress = lambda text: status.update(f"verifying {args.target}: {text}")
            results = V.run_checks(checks, progress)
    except V.CannotRun as exc:
        return cannot_run(V.shorten(str(exc)).replace("\n", " "))
    V.report(results, console)
    if args.report_junit:
        try:
            V.write_junit(args.report_junit, f"verify.{args.target}", results)
        except OSError as exc:
            return cannot_run(f"cannot write {args.report_junit}: {exc.strerror or exc}")
    return V.exit_code(results)


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


def cmd_serve(args: argparse.Namespace) -> int:
    return serve(args, config_from_args(args))


def main(argv: list[str] | None = None) -> int:
    try:
        words = sys.argv[1:] if argv is None else argv
        # the command is the first word that is not an option (the top level's options take no value)
        args = build_parser(next((w for w in words if not w.startswith("-")), None)).parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a mistake in the arguments (2, one line said why)
        return exc.code if isinstance(exc.code, int) else 2
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
    from mocks.drift import cli as drift_cli
    if args.command in drift_cli.COMMANDS:
        return drift_cli.run(args)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
