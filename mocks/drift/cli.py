"""The ``proxy``, ``diff`` and ``seed-from`` subcommands of ``commerce-sandbox`` (see docs/drift.md)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

COMMANDS = ("proxy", "diff", "seed-from")


def add_parsers(sub: Any) -> None:
    proxy = sub.add_parser("proxy", help="stand in front of the real service: forward, check, record",
                           description="Serve one API at its usual prefix and forward every request, unchanged, "
                                       "to the real service; check both directions against the contract; record "
                                       "each exchange, secrets masked (GET /__sandbox/export). See docs/drift.md.")
    proxy.add_argument("--api", required=True, metavar="NAME", help="the API to serve at its usual prefix")
    proxy.add_argument("--upstream", required=True, metavar="URL",
                       help="the real service's base URL (the one and only host the proxy calls)")
    proxy.add_argument("--host", default="127.0.0.1", help="address to listen on")
    proxy.add_argument("--port", type=int, default=8080, help="port to listen on")
    proxy.add_argument("--output", metavar="SESSION", help="write the recorded session here on exit (Ctrl-C, SIGTERM)")
    proxy.add_argument("--format", choices=["json", "har"], default="json", help="the --output format")
    proxy.add_argument("--journal-size", type=int, default=10_000, help="exchanges kept (oldest dropped first)")
    proxy.add_argument("--body-limit", type=int, default=1_000_000, metavar="CHARS",
                       help="characters of each body recorded (a longer body is cut: diff cannot compare it)")
    proxy.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the upstream")
    proxy.add_argument("--admin-token", default=os.environ.get("SANDBOX_ADMIN_TOKEN"),
                       help="open the proxy's /__sandbox to non-loopback clients that send it "
                            "(default: $SANDBOX_ADMIN_TOKEN)")
    proxy.add_argument("--quiet", action="store_true", help="do not print the URLs")

    diff = sub.add_parser("diff", help="replay a session against a target and report the differences",
                          description="Replay a recorded session against a target and report, per operation, "
                                      "differences in status, error codes, response shape and rate-limit headers, "
                                      "with a fidelity score. Exit 0: none; 1: differences; 2: could not run.")
    diff.add_argument("session", metavar="SESSION", help="a session file (JSON export or HAR)")
    diff.add_argument("--target", required=True, metavar="URL", help="base URL of the sandbox (or anything)")
    diff.add_argument("--report-md", metavar="PATH", help="write a markdown report here")
    diff.add_argument("--report-junit", metavar="PATH", help="write a JUnit report here (one case per difference)")
    diff.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                      help="value for a masked header, query parameter, body field or path parameter (repeatable)")
    diff.add_argument("--reset", action="store_true", help="reset the target sandbox to its seeded state first")
    diff.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer")
    diff.add_argument("--admin-token", default=os.environ.get("SANDBOX_ADMIN_TOKEN"),
                      help="the target's admin token (default: $SANDBOX_ADMIN_TOKEN)")
    diff.add_argument("--quiet", action="store_true", help="print only the differences and the scores")

    seed = sub.add_parser("seed-from", help="load the records of a session into a running sandbox",
                          description="Load the products, orders and customers a session's answers carried into "
                                      "a running sandbox as one tenant's data (additions only). Exit 2: could not run.")
    seed.add_argument("session", metavar="SESSION", help="a session file (JSON export or HAR)")
    seed.add_argument("--target", required=True, metavar="URL", help="base URL of the sandbox")
    seed.add_argument("--tenant", default=None, metavar="ID",
                      help="the tenant to load into (default: the tenant of the API's demo credentials)")
    seed.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer")
    seed.add_argument("--admin-token", default=os.environ.get("SANDBOX_ADMIN_TOKEN"),
                      help="the target's admin token (default: $SANDBOX_ADMIN_TOKEN)")


def _http(token: str | None) -> Any:
    """The HTTP session for the target, with the control plane's admin token when given (as the
    CLI's own control-plane session; not imported from mocks.cli, which imports this module)."""
    import requests

    http = requests.Session()
    if token:
        http.headers["X-Sandbox-Admin-Token"] = token
    return http


def _write(path: str, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, ensure_ascii=False)


def cmd_proxy(args: argparse.Namespace) -> int:
    from mocks.drift import proxy as P

    try:
        app = P.build_app(args.api, args.upstream, journal_size=args.journal_size, body_limit=args.body_limit,
                          admin_token=args.admin_token, timeout=args.timeout)
    except ValueError as exc:
        print(f"commerce-sandbox: {exc}", file=sys.stderr)
        return 2
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    base = f"http://{host}:{args.port}"
    if not args.quiet:
        print(f"commerce-sandbox proxy: {base}/{args.api} -> {P.upstream_url(args.upstream)}\n"
              f"  session so far: {base}/__sandbox/export (?format=har)\n"
              f"  violations:     {base}/__sandbox/violations", flush=True)

    def on_exit() -> None:
        if args.output:
            data = P.export(app, base, args.format)
            _write(args.output, data)
            count = len(data["log"]["entries"]) if args.format == "har" else len(data["requests"])
            print(f"recorded {count} exchanges to {args.output}", flush=True)

    try:
        P.serve(app, args.host, args.port, on_exit)
    except OSError as exc:
        print(f"commerce-sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


def _overrides(items: list[str]) -> dict[str, str] | None:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"commerce-sandbox: --set wants NAME=VALUE, got {item!r}", file=sys.stderr)
            return None
        out[name] = value
    return out


def cmd_diff(args: argparse.Namespace) -> int:
    from mocks.drift import diff as D
    from mocks.drift import session as S

    overrides = _overrides(args.set)
    if overrides is None:
        return 2
    try:
        data = S.load(args.session)
        report = D.run(data, args.target, overrides=overrides, timeout=args.timeout, reset=args.reset,
                       http=_http(args.admin_token), log_line=None if args.quiet else print)
    except (OSError, ValueError, KeyError, D.CannotRun) as exc:
        print(f"commerce-sandbox: diff could not run: {exc}", file=sys.stderr)
        return 2
    for exchange in report.different if args.quiet else []:
        print(f"DIFF {exchange.request} ({exchange.operation}): " +
              "; ".join(f"{a}: {d}" for a, ds in exchange.differences.items() for d in ds))
    summary = report.as_dict()
    print()
    for api, a in summary["apis"].items():
        print(f"{api}: fidelity {a['score']:.1f}% over {a['exchanges']} exchanges")
        for op, o in a["operations"].items():
            print(f"  {o['score']:5.1f}%  {op} ({o['exchanges']} exchanges, {len(o['differences'])} differences)")
    n = len(report.different)
    print(f"{summary['exchanges']} exchanges replayed against {report.target}: "
          + (f"{n} with differences" if n else "no differences")
          + (f" ({summary['skipped']} skipped: the proxy answered them itself)" if summary["skipped"] else ""))
    if summary["bodies_cut"]:
        print(f"note: {summary['bodies_cut']} recorded bodies were cut by the journal's size limit; their error codes "
              "and shape were not compared (record with a larger `proxy --body-limit`)")
    if args.report_md:
        with open(args.report_md, "w", encoding="utf-8") as fh:
            fh.write(D.markdown(report, os.path.basename(args.session)))
    if args.report_junit:
        D.junit(report, args.report_junit)
    return 1 if n else 0


def cmd_seed_from(args: argparse.Namespace) -> int:
    from mocks.drift import diff as D
    from mocks.drift import seed as SEED
    from mocks.drift import session as S

    try:
        data = S.load(args.session)
        summary = SEED.load(data, args.target, args.tenant, timeout=args.timeout, http=_http(args.admin_token),
                            log_line=print)
    except (OSError, ValueError, KeyError, D.CannotRun) as exc:
        print(f"commerce-sandbox: seed-from could not run: {exc}", file=sys.stderr)
        return 2
    if not summary:
        print("the session's answers carry no records to load (see docs/drift.md)")
    return 0


def run(args: argparse.Namespace) -> int:
    return {"proxy": cmd_proxy, "diff": cmd_diff, "seed-from": cmd_seed_from}[args.command](args)
