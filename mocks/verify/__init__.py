"""``commerce-sandbox verify``: run an API's contract against any implementation.

A verification is a list of :class:`Finding` (a broken rule, with the request as a curl line)
collected by a checker module per target (``mocks.verify.click2sync``, ...). The report is
printed for people and optionally written as JUnit XML for CI.

Exit codes: 0 conforms, 1 violations found, 2 could not run (a missing dependency, an unreachable
URL, refused credentials, bad arguments, a check that crashed without finding anything), with one
line saying why.

Reports shorten long values (schemathesis fuzzes strings of thousands of characters): a run of
more than ``LONG_VALUE`` characters keeps its start and says how much was cut.
"""
from __future__ import annotations

import re
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


LONG_VALUE = 160   # characters of one unbroken value (a fuzzed string, a base64 blob) kept in reports
LONG_LINE = 600    # characters of one line kept in reports


def shorten(text: str) -> str:
    """``text`` with every long unbroken value and every long line cut, saying how much was cut."""
    def cut(match: re.Match[str]) -> str:
        value = match.group(0)
        return f"{value[:LONG_VALUE // 2]}...[{len(value) - LONG_VALUE // 2} more chars]"

    lines = []
    for line in re.sub(rf"\S{{{LONG_VALUE + 1},}}", cut, text).split("\n"):
        if len(line) > LONG_LINE:
            line = f"{line[:LONG_LINE]}...[{len(line) - LONG_LINE} more chars]"
        lines.append(line)
    return "\n".join(lines)


def request_error(method: str, url: str, exc: BaseException) -> str:
    """One line for a request that got no answer: ``GET URL: cannot connect (connection refused)``."""
    text = str(exc)
    if isinstance(exc, requests.ConnectionError):
        reason = "connection refused" if "refused" in text.lower() else \
            "name not resolved" if "resolve" in text.lower() or "name or service" in text.lower() else "no connection"
        return f"{method} {url}: cannot connect ({reason})"
    if isinstance(exc, requests.Timeout):
        return f"{method} {url}: no answer in time ({type(exc).__name__})"
    return f"{method} {url}: {type(exc).__name__}: {text.splitlines()[0][:200] if text else ''}"


def missing_dependency() -> str | None:
    """What verify needs that is not installed (schemathesis and hypothesis are dependencies of the
    package, so this only happens in a broken environment)."""
    import importlib.util

    missing = [name for name in ("schemathesis", "hypothesis") if importlib.util.find_spec(name) is None]
    if missing:
        return (f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed; "
                f"reinstall commerce-sandbox (pip install commerce-sandbox) to get them")
    return None


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
            raise CannotRun(request_error(method, url, exc)) from None


def run_checks(checks: list[tuple[str, Callable[[], list[Finding]]]], progress: Any = None) -> list[CheckResult]:
    results = []
    for name, fn in checks:
        started = time.perf_counter()
        result = CheckResult(name)
        try:
            result.findings = fn()
        except CannotRun:
            raise
        except ImportError as exc:  # a missing dependency is the environment's fault, not the target's
            raise CannotRun(f"{exc} (reinstall commerce-sandbox to get its dependencies)") from None
        except BaseException as exc:  # a check that crashes is reported, the others still run
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            result.error = f"{type(exc).__name__}: {str(exc)[:2000]}"
        result.seconds = time.perf_counter() - started
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def exit_code(results: list[CheckResult]) -> int:
    """1 if anything was found; else 2 if a check could not run; else 0."""
    if any(r.findings for r in results):
        return 1
    return 2 if any(r.error for r in results) else 0


def write_junit(path: str, suite: str, results: list[CheckResult]) -> None:
    """One ``<testcase>`` per finding (CI viewers show the first failure of a case only), named
    ``check: rule``; a check without findings is one passing case, a check that crashed one error."""
    root = ET.Element("testsuites")
    ts = ET.SubElement(root, "testsuite", name=suite, time=f"{sum(r.seconds for r in results):.3f}")
    tests = failures = errors = 0
    for r in results:
        classname = f"{suite}.{r.name}"
        if r.error:
            errors += 1
            tests += 1
            tc = ET.SubElement(ts, "testcase", classname=classname, name=f"{r.name}: could not run",
                               time=f"{r.seconds:.3f}")
            ET.SubElement(tc, "error", message=shorten(r.error)[:500]).text = shorten(r.error)
        seen: dict[str, int] = {}
        for f in r.findings:
            tests += 1
            failures += 1
            name = f"{r.name}: {f.rule}"
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:  # unique names: some viewers merge cases of the same name
                name += f" ({seen[name]})"
            tc = ET.SubElement(ts, "testcase", classname=classname, name=name,
                               time=f"{r.seconds / max(1, len(r.findings)):.3f}")
            node = ET.SubElement(tc, "failure", message=shorten(f"{f.rule}: {f.detail}")[:500])
            node.text = shorten(f"{f.rule}\n{f.detail}\n\n{f.curl}")
        if r.ok:
            tests += 1
            ET.SubElement(ts, "testcase", classname=classname, name=r.name, time=f"{r.seconds:.3f}")
    ts.set("tests", str(tests))
    ts.set("failures", str(failures))
    ts.set("errors", str(errors))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def report(results: list[CheckResult], console: Any) -> None:
    for r in results:
        if r.error:
            console.print(f"[yellow]COULD NOT RUN[/yellow] {r.name}: ", end="")
            console.print(shorten(r.error), markup=False, highlight=False, soft_wrap=True)
        for f in r.findings:
            console.print(f"[red]FAIL[/red] {r.name} — [bold]{f.rule}[/bold]")
            detail = shorten(f.detail).replace("\n", "\n  ")
            console.print(f"  {detail}", markup=False, highlight=False, soft_wrap=True)
            if f.curl:  # one line, never wrapped: it is meant to be copied
                console.print(f"  {shorten(f.curl)}", markup=False, highlight=False, soft_wrap=True)
    bad = [r for r in results if r.findings]
    broken = [r for r in results if r.error]
    total = sum(len(r.findings) for r in results)
    if bad:
        console.print(f"\n[red]{total} violation(s) in {len(bad)} of {len(results)} checks[/red]")
    if broken:
        console.print(f"[yellow]{len(broken)} of {len(results)} checks could not run[/yellow]")
    if not bad and not broken:
        console.print(f"\n[green]all {len(results)} checks passed[/green]")
