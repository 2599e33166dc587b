"""``commerce-sandbox verify``: run an API's contract against any implementation.

A verification is a list of :class:`Finding` (a broken rule, with the request as a curl line)
collected by a checker module per target (``mocks.verify.click2sync``, ...). The report is
printed for people and optionally written as JUnit XML for CI.

Exit codes: 0 conforms, 1 violations found, 2 could not run.
"""
from __future__ import annotations

import shlex
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Callable

import requests

# target name -> (checker module, one-line summary). A checker module defines
#   add_arguments(parser[, target])  its own options (--base-url, --timeout, --report-junit are common), optional
#   checks(args) -> [(check name, fn() -> [Finding])]   raises CannotRun when the target is unusable
CHECKERS: dict[str, tuple[str, str]] = {
    "click2sync": ("mocks.verify.click2sync", "a Click2Sync custom storefront (the contract you implement)"),
    "api2cart-shipping": ("mocks.verify.api2cart_shipping", "your API2Cart live-shipping-rates callback"),
    "xtnd-webhooks": ("mocks.verify.xtnd_webhooks", "your XTND webhook receiver (ms-signature)"),
    "printxpand-designer": ("mocks.verify.printxpand_designer", "your PrintXpand 'save design' endpoint"),
    "stock2shop": ("mocks.verify.emulated", "a Stock2Shop API (the real one or this sandbox)"),
    "printxpand": ("mocks.verify.emulated", "a PrintXpand API (the real one or this sandbox)"),
    "api2cart": ("mocks.verify.emulated", "an API2Cart API (the real one or this sandbox)"),
    "xtnd": ("mocks.verify.emulated", "an XTND Extend Commerce API (the real one or this sandbox)"),
}


def available() -> dict[str, tuple[str, str]]:
    """The targets whose checker module is installed (modules land one by one)."""
    import importlib.util

    return {name: spec for name, spec in CHECKERS.items() if importlib.util.find_spec(spec[0]) is not None}


def add_arguments(target: str, parser: Any) -> None:
    import importlib

    module = importlib.import_module(CHECKERS[target][0])
    hook = getattr(module, "add_arguments", None)
    if hook is None:
        return
    import inspect

    # a module serving several targets (mocks.verify.emulated) takes the target's name too
    if len(inspect.signature(hook).parameters) > 1:
        hook(parser, target)
    else:
        hook(parser)


@dataclass
class Finding:
    check: str
    rule: str
    detail: str
    curl: str = ""


@dataclass
class CheckResult:
    name: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None   # the check could not run at all

    @property
    def ok(self) -> bool:
        return not self.findings and self.error is None


class CannotRun(Exception):
    """The target is unreachable or answers nothing usable: exit code 2."""


def curl(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | str | None = None) -> str:
    parts = ["curl", "-X", method.upper(), shlex.quote(url)]
    for name, value in (headers or {}).items():
        if name.lower() in ("user-agent", "accept-encoding", "connection", "content-length"):
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        parts += ["--data-raw", shlex.quote(text[:2000])]
    return " ".join(parts)


def curl_of(response: requests.Response) -> str:
    req = response.request
    return curl(req.method or "GET", req.url or "", dict(req.headers), req.body)


class Session:
    """requests.Session that remembers the last exchange for findings."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.http = requests.Session()
        self.timeout = timeout

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", self.timeout)
        try:
            return self.http.request(method, url, **kw)
        except requests.RequestException as exc:
            raise CannotRun(f"{method} {url}: {exc}") from None


def run_checks(checks: list[tuple[str, Callable[[], list[Finding]]]], progress: Any = None) -> list[CheckResult]:
    results = []
    for name, fn in checks:
        started = time.perf_counter()
        result = CheckResult(name)
        try:
            result.findings = fn()
        except CannotRun:
            raise
        except BaseException as exc:  # a check that crashes is reported, the others still run
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            result.error = f"{type(exc).__name__}: {str(exc)[:2000]}"
        result.seconds = time.perf_counter() - started
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def write_junit(path: str, suite: str, results: list[CheckResult]) -> None:
    failures = sum(1 for r in results if r.findings)
    errors = sum(1 for r in results if r.error)
    root = ET.Element("testsuites")
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                       errors=str(errors), time=f"{sum(r.seconds for r in results):.3f}")
    for r in results:
        tc = ET.SubElement(ts, "testcase", classname=suite, name=r.name, time=f"{r.seconds:.3f}")
        if r.error:
            ET.SubElement(tc, "error", message=r.error).text = r.error
        for f in r.findings:
            node = ET.SubElement(tc, "failure", message=f"{f.rule}: {f.detail}"[:500])
            node.text = f"{f.rule}\n{f.detail}\n\n{f.curl}"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def report(results: list[CheckResult], console: Any) -> None:
    for r in results:
        if r.error:
            console.print(f"[red]ERROR[/red] {r.name}: {r.error}")
        for f in r.findings:
            console.print(f"[red]FAIL[/red] {r.name} — [bold]{f.rule}[/bold]")
            detail = f.detail.replace("\n", "\n  ")
            console.print(f"  {detail}", markup=False, highlight=False, soft_wrap=True)
            if f.curl:  # one line, never wrapped: it is meant to be copied
                console.print(f"  {f.curl}", markup=False, highlight=False, soft_wrap=True)
    bad = [r for r in results if not r.ok]
    total = sum(len(r.findings) for r in results)
    if bad:
        console.print(f"\n[red]{total} violation(s) in {len(bad)} of {len(results)} checks[/red]")
    else:
        console.print(f"\n[green]all {len(results)} checks passed[/green]")
