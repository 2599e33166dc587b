"""``commerce-sandbox diff``: replay a recorded session against a target and measure the drift.

Each recorded exchange is sent again, in order, to the target (a sandbox, or anything that serves
the same paths) and the two answers are compared on four aspects:

``status``   the HTTP status;
``errors``   the API's own error codes and messages (:data:`ERROR_FIELDS`: API2Cart
             ``return_code``/``return_message``, Stock2Shop ``error.type``/``code``/``message``,
             PrintXpand per-item ``code``/``status``/``message``, ...). Runs of digits in messages
             are treated as data (``Product 12 not found`` equals ``Product 7 not found``);
``shape``    the JSON body's keys and value types, never its values (the replay client's
             :func:`~mocks.core.replay.client.shape`: list items merged, id-keyed objects as maps,
             ``null`` matching any type): ``/k: missing`` (the target lacks a recorded field),
             ``/k: unexpected`` (the target has a field the recording lacks), ``/k: string != number``;
``headers``  the headers that matter: rate-limit headers and ``Retry-After`` (present in one answer,
             absent in the other), and the media type.

The fidelity score of an exchange is the share of the four aspects on which the target agrees with
the recording (a recorded body the journal cut leaves ``errors`` and ``shape`` out: not compared); the score of an operation or an API is the mean over its exchanges (100: the target
answered every recorded call the way the recorded service did).

Credentials: a session's secrets are masked (``***``), so they are filled before sending, most
specific first: ``--set NAME=VALUE``; a value the target returned earlier in the replay under the
same name (the token of a replayed authenticate call); the target's demo credentials from
``GET /__sandbox/credentials`` (the one that fits the other recorded fields best, e.g. the
Stock2Shop user with the recorded username). A masked path segment (``/valid_token/***``) is filled
the same way, by its parameter name in the contract; a masked OAuth 1 ``Authorization`` header, which
cannot be signed again, becomes the target's bearer token when it has one.

Exchanges the proxy answered itself (the upstream was unreachable: ``X-Sandbox-Proxy-Error``) are
skipped. Exit codes: 0 no differences, 1 differences, 2 the diff could not run.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import requests

from mocks.drift.proxy import ERROR_HEADER
from mocks.drift.session import (Secrets, body_json, json_values, operation_of, parse_path, prepare_request, shape,
                                 shape_diff)

ASPECTS = ("status", "errors", "shape", "headers")

#: where each API puts its error codes and messages (JSONPath, the scenario matchers' subset)
ERROR_FIELDS: dict[str, dict[str, list[str]]] = {
    "api2cart": {"codes": ["$.return_code"], "messages": ["$.return_message"]},
    "stock2shop": {"codes": ["$.error.type", "$.error.code"], "messages": ["$.error.message"]},
    "printxpand": {"codes": ["$[*].response[*].code", "$[*].response[*].status"],
                   "messages": ["$[*].response[*].message", "$.message"]},
    "click2sync": {"codes": ["$.code", "$.reasons[*].code"], "messages": ["$.error", "$.reasons[*].message"]},
    "xtnd": {"codes": ["$.errorType", "$.errors[*].field"], "messages": ["$.message"]},
}
RATE_HEADER = re.compile(r"(?i)(rate-?limit|^retry-after$)")
IGNORED_HEADERS = re.compile(r"(?i)^x-sandbox-")
_DIGITS = re.compile(r"\d+")


class CannotRun(Exception):
    """The session cannot be read or the target answers nothing: exit code 2."""


# -- error codes ----------------------------------------------------------------------------------
def error_fields(api: str | None, body: Any) -> dict[str, list[str]]:
    """The API's error codes and messages in a body: {JSONPath: [values as text]} (absent paths left out)."""
    out: dict[str, list[str]] = {}
    fields = ERROR_FIELDS.get(api or "", {})
    for kind in ("codes", "messages"):
        for expr in fields.get(kind, []):
            values = [v for v in json_values(body, parse_path(expr)) if not isinstance(v, (dict, list))]
            if values:
                out[expr] = [_DIGITS.sub("#", str(v)) if kind == "messages" else str(v) for v in values]
    return out


# -- comparing one exchange -----------------------------------------------------------------------
def _headers(pairs: Any) -> dict[str, str]:
    return {k.lower(): str(v) for k, v in (pairs or {}).items() if not IGNORED_HEADERS.match(k)}


def _media(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def compare(api: str | None, want_status: int | None, want_headers: dict[str, Any], want_text: str,
            got_status: int | None, got_headers: dict[str, Any], got_body: bytes) -> tuple[dict[str, list[str]], list[str]]:
    """(differences per aspect (an aspect with none is left out), the aspects that could not be
    compared: ``errors`` and ``shape`` when the journal cut the recorded body)."""
    out: dict[str, list[str]] = {}
    unknown: list[str] = []
    if want_status != got_status:
        out["status"] = [f"recorded {want_status or 'no answer'}, target {got_status or 'no answer'}"]
    if got_status is None or want_status is None:
        return out, unknown
    want_json = body_json(want_text)
    cut = want_json is None and want_text.lstrip()[:1] in ("{", "[")  # cut by the journal: unknown
    got_text = got_body.decode("utf-8", "replace")
    got_json = body_json(got_text)
    if cut:
        unknown += ["errors", "shape"]
    else:
        want_errors, got_errors = error_fields(api, want_json), error_fields(api, got_json)
        problems = [f"{expr}: recorded {want_errors.get(expr, '(absent)')}, target {got_errors.get(expr, '(absent)')}"
                    for expr in dict.fromkeys([*want_errors, *got_errors]) if want_errors.get(expr) != got_errors.get(expr)]
        if problems:
            out["errors"] = problems
        if want_json is not None and got_json is not None:
            problems = shape_diff(shape(want_json), shape(got_json))
        elif (want_json is None) != (got_json is None):
            def kind(text: str, doc: Any) -> str:
                return "JSON" if doc is not None else "empty" if not text.strip() else "not JSON"
            problems = [f"body: recorded {kind(want_text, want_json)}, target {kind(got_text, got_json)}"]
        else:
            problems = []
        if problems:
            out["shape"] = problems
    wh, gh = _headers(want_headers), _headers(got_headers)
    problems = [f"{name}: recorded, missing from the target's answer" for name in wh
                if RATE_HEADER.search(name) and name not in gh]
    problems += [f"{name}: in the target's answer, not in the recorded one" for name in gh
                 if RATE_HEADER.search(name) and name not in wh]
    if _media(wh) != _media(gh) and (want_text or got_body):
        problems.append(f"content-type: recorded {_media(wh) or '(none)'}, target {_media(gh) or '(none)'}")
    if problems:
        out["headers"] = problems
    return out, unknown


# -- the run --------------------------------------------------------------------------------------
@dataclass
class Exchange:
    seq: Any
    api: str
    operation: str
    request: str
    differences: dict[str, list[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # aspects not compared (the recorded body was cut)

    @property
    def score(self) -> float:
        compared = len(ASPECTS) - len(self.unknown)
        return (compared - len(self.differences)) / compared


@dataclass
class Report:
    target: str
    exchanges: list[Exchange] = field(default_factory=list)
    skipped: int = 0
    seconds: float = 0.0

    @property
    def different(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.differences]

    @property
    def cut(self) -> list[Exchange]:
        """Exchanges whose recorded body was cut: errors and shape not compared."""
        return [e for e in self.exchanges if e.unknown]

    def by_api(self) -> dict[str, dict[str, list[Exchange]]]:
        out: dict[str, dict[str, list[Exchange]]] = {}
        for e in self.exchanges:
            out.setdefault(e.api, {}).setdefault(e.operation, []).append(e)
        return out

    @staticmethod
    def score(exchanges: list[Exchange]) -> float:
        """Percent, 0..100 (100 for no exchanges: nothing was seen to differ)."""
        return 100.0 * sum(e.score for e in exchanges) / len(exchanges) if exchanges else 100.0

    def as_dict(self) -> dict[str, Any]:
        apis = {}
        for api, ops in self.by_api().items():
            every = [e for ex in ops.values() for e in ex]
            apis[api] = {"score": round(self.score(every), 1), "exchanges": len(every), "operations": {
                op: {"score": round(self.score(ex), 1), "exchanges": len(ex),
                     "differences": [{"seq": e.seq, "request": e.request, "aspect": aspect, "detail": d}
                                     for e in ex for aspect, details in e.differences.items() for d in details]}
                for op, ex in ops.items()}}
        return {"target": self.target, "exchanges": len(self.exchanges), "skipped": self.skipped,
                "bodies_cut": len(self.cut),
                "score": round(self.score(self.exchanges), 1), "apis": apis}


def _fill_path(api: str, path: str, prefix: str, op: Any, secrets: Secrets, context: dict[str, Any]) -> str:
    """A path with masked segments (``/valid_token/***``) filled by their parameter names."""
    if op is None or "***" not in path:
        return path
    m = op.regex.match(path[len(prefix):])
    if not m:
        return path
    for name, value in m.groupdict().items():
        if value == "***":
            path = path.replace("/***", "/" + str(secrets.fill(api, name, "***", context)), 1)
    return path


def run(data: dict[str, Any], target: str, *, overrides: dict[str, str] | None = None, timeout: float = 30.0,
        reset: bool = False, http: Any = None, log_line: Callable[[str], None] | None = None) -> Report:
    """Replay ``data`` (a session) against ``target`` and compare every answer with the recorded one."""
    http = http or requests.Session()
    target = target.rstrip("/")
    started = time.perf_counter()
    report = Report(target)
    if reset:
        try:
            http.post(target + "/__sandbox/reset", json={}, timeout=timeout).raise_for_status()
        except requests.RequestException as exc:
            raise CannotRun(f"could not reset {target}: {exc}") from None
    try:
        r = http.get(target + "/__sandbox/credentials", timeout=timeout)
        credentials = r.json() if r.status_code == 200 else {}
    except requests.ConnectionError as exc:
        raise CannotRun(f"{target} does not answer: {exc}") from None
    except (requests.RequestException, ValueError):
        credentials = {}  # not a sandbox: --set fills the secrets
    secrets = Secrets(credentials if isinstance(credentials, dict) else {}, overrides)
    answered = 0
    for n, entry in enumerate(data.get("requests") or [], 1):
        want_headers = (entry.get("response") or {}).get("headers") or {}
        if any(k.lower() == ERROR_HEADER.lower() for k in want_headers):
            report.skipped += 1
            continue
        api = entry.get("api") or ""
        method = str(entry.get("method", "GET")).upper()
        prefix, operation, op = operation_of(api or None, method, entry["path"])
        context = {"tenant": entry["tenant"]} if entry.get("tenant") is not None else {}
        params, headers, body = prepare_request(entry, secrets)
        for name, value in list(headers.items()):
            if name.lower() == "authorization" and value.startswith("OAuth") and "***" in value:
                bearer = secrets.fill(api, name, "***", context)
                if bearer != "***":
                    headers[name] = bearer
        path = _fill_path(api, entry["path"], prefix, op, secrets, context)
        where = f"#{entry.get('seq', n)} {method} {entry['path']}"
        try:
            answer = http.request(method, target + path, params=params, headers=headers, data=body,
                                  timeout=timeout, allow_redirects=False)
            got_status, got_headers, got_body = answer.status_code, dict(answer.headers), answer.content
            answered += 1
            secrets.learn(body_json(got_body.decode("utf-8", "replace")))
        except requests.RequestException:
            got_status, got_headers, got_body = None, {}, b""
        differences, unknown = compare(api or None, entry.get("status"), want_headers,
                                       (entry.get("response") or {}).get("body") or "", got_status, got_headers, got_body)
        report.exchanges.append(Exchange(entry.get("seq", n), api or "(none)", operation, where, differences, unknown))
        if log_line:
            if differences:
                log_line(f"DIFF {where} ({operation}): " +
                         "; ".join(f"{a}: {d}" for a, ds in differences.items() for d in ds))
            else:
                log_line(f"ok   {where} ({operation})" + (" (body cut by the journal: status and headers only)"
                                                          if unknown else ""))
    if report.exchanges and not answered:
        raise CannotRun(f"{target} answered none of the {len(report.exchanges)} requests")
    report.seconds = time.perf_counter() - started
    return report


# -- reports ----------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: Report, session_name: str = "") -> str:
    d = report.as_dict()
    lines = [f"# Drift report{': ' + session_name if session_name else ''}", "",
             f"Target `{report.target}`: {d['exchanges']} exchanges replayed"
             + (f", {d['skipped']} skipped (the upstream did not answer the proxy)" if d["skipped"] else "")
             + f"; fidelity **{d['score']:.1f}%**, {len(report.different)} exchanges with differences."
             + (f" {d['bodies_cut']} recorded bodies were cut by the journal's size limit: their error codes and"
                " shape were not compared (record with a larger `proxy --body-limit`)." if d["bodies_cut"] else ""),
             ""]
    lines += ["| API | exchanges | fidelity |", "|---|---:|---:|"]
    lines += [f"| {api} | {a['exchanges']} | {a['score']:.1f}% |" for api, a in d["apis"].items()]
    for api, a in d["apis"].items():
        lines += ["", f"## {api}: {a['score']:.1f}%", "", "| operation | exchanges | fidelity | differences |",
                  "|---|---:|---:|---:|"]
        lines += [f"| `{op}` | {o['exchanges']} | {o['score']:.1f}% | {len(o['differences'])} |"
                  for op, o in a["operations"].items()]
        for op, o in a["operations"].items():
            if o["differences"]:
                lines += ["", f"### `{op}`", "", "| request | aspect | difference |", "|---|---|---|"]
                lines += [f"| {_cell(x['request'])} | {x['aspect']} | {_cell(x['detail'])} |" for x in o["differences"]]
    return "\n".join(lines) + "\n"


def junit(report: Report, path: str) -> None:
    """JUnit through :func:`mocks.verify.write_junit`: one check per operation (``{api} {operation}``),
    so one failing case per difference (``{api} {operation}: {aspect} differ``) and one passing case
    for an operation without any."""
    from mocks.verify import CheckResult, Finding, write_junit

    results = []
    for api, ops in report.by_api().items():
        for op, exchanges in ops.items():
            findings = [Finding(check=op, rule=f"{aspect} differ", detail=f"{e.request}: {detail}")
                        for e in exchanges for aspect, details in e.differences.items() for detail in details]
            results.append(CheckResult(name=f"{api} {op}", findings=findings,
                                       seconds=report.seconds / max(1, len(report.exchanges)) * len(exchanges)))
    write_junit(path, "drift", results)
