"""What a scenario rule matches on: the request's API, method, path, tenant, query, headers, body.

``body`` matchers use a small JSONPath subset (:func:`parse_path`).
"""
from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from flask import Request

from mocks.core.chain.context import NO_BODY

_PATH_TOKEN = re.compile(r"\.([A-Za-z_][\w-]*)|\[(-?\d+|\*)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]|\.\*", re.ASCII)


def parse_path(expr: str) -> list[Any]:
    """``$.a.b[0]['c d'][*]`` -> ["a", "b", 0, "c d", "*"]: the JSONPath subset body matchers use."""
    if not expr.startswith("$"):
        raise ValueError(f"{expr!r} is not a JSONPath (it must start with $)")
    out: list[Any] = []
    pos = 1
    while pos < len(expr):
        m = _PATH_TOKEN.match(expr, pos)
        if m is None:
            raise ValueError(f"{expr!r}: cannot read the path at {expr[pos:]!r}")
        name, index, quoted, dquoted = m.groups()
        if m.group(0) == ".*":
            out.append("*")
        elif name is not None:
            out.append(name)
        elif index is not None:
            out.append("*" if index == "*" else int(index))
        else:
            out.append(quoted if quoted is not None else dquoted)
        pos = m.end()
    return out


def json_values(doc: Any, path: list[Any]) -> list[Any]:
    nodes = [doc]
    for part in path:
        nxt: list[Any] = []
        for node in nodes:
            if part == "*":
                if isinstance(node, list):
                    nxt.extend(node)
                elif isinstance(node, dict):
                    nxt.extend(node.values())
            elif isinstance(part, int):
                if isinstance(node, list) and -len(node) <= part < len(node):
                    nxt.append(node[part])
            elif isinstance(node, dict) and part in node:
                nxt.append(node[part])
        nodes = nxt
    return nodes


def _same(actual: Any, expected: Any) -> bool:
    if actual == expected and type(actual) is not bool and type(expected) is not bool:
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(actual, (dict, list)):
        return False
    return str(actual) == str(expected)


def _any(values: Any, test: Callable[[str], bool]) -> bool:
    return any(test(v) for v in ([values] if isinstance(values, str) else values))


def _predicate(present: bool, value: str | None, want: Any) -> bool:
    if want is True:
        return present
    if want is False:
        return not present
    return present and fnmatch.fnmatchcase(value or "", str(want))


class RequestView:
    """What rules match on, taken once from the Flask request (``body``: the chain's parsed body)."""

    def __init__(self, req: Request, api: str | None, tenant: str | None, casefold: bool = False,
                 body: Any = NO_BODY) -> None:
        self.req = req
        self.casefold = casefold  # the API's paths are case-insensitive (XTND): so are path globs
        self.api = api
        self.tenant = tenant
        self.method = req.method.upper()
        self.path = req.path
        self._parsed = body
        self._body: Any = ...

    def body(self) -> Any:
        if self._body is ...:
            self._body = None
            if self._parsed is not NO_BODY and not isinstance(self._parsed, (bytes, str)):
                self._body = self._parsed
            else:
                try:
                    raw = self.req.get_data(cache=True)
                    self._body = json.loads(raw) if raw else None
                except (ValueError, RuntimeError):
                    self._body = None
        return self._body


@dataclass(frozen=True)
class Verdict:
    """A matcher's answer: ``matched``, and when not, ``reason`` says which key failed and why."""

    matched: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.matched

    def __iter__(self) -> Iterator[Any]:
        return iter((self.matched, self.reason))


HIT = Verdict(True)


def _show(values: Any) -> str:
    return json.dumps(values if isinstance(values, str) else list(values))


def match_api(want: Any, view: RequestView) -> Verdict:
    return HIT if _any(want, lambda a: a == view.api) else Verdict(False, f"api {view.api} is not {_show(want)}")


def match_method(want: Any, view: RequestView) -> Verdict:
    if _any(want, lambda m: m.upper() == view.method):
        return HIT
    return Verdict(False, f"method {view.method} is not {_show(want)}")


def match_path(want: Any, view: RequestView) -> Verdict:
    if view.casefold:
        hit = _any(want, lambda p: fnmatch.fnmatchcase(view.path.lower(), p.lower()))
    else:
        hit = _any(want, lambda p: fnmatch.fnmatchcase(view.path, p))
    return HIT if hit else Verdict(False, f"path {view.path} does not match {_show(want)}")


def match_tenant(want: Any, view: RequestView) -> Verdict:
    if view.tenant is None:
        return Verdict(False, "the request has no tenant (public route or failed authentication)")
    tenant = view.tenant
    if _any(want, lambda t: fnmatch.fnmatchcase(tenant, t)):
        return HIT
    return Verdict(False, f"tenant {tenant} does not match {_show(want)}")


def match_pairs(kind: str, wants: dict[str, Any], source: Any) -> Verdict:
    for name, want in wants.items():
        present = name in source
        if not _predicate(present, source.get(name), want):
            got = "absent" if not present else json.dumps(source.get(name))
            return Verdict(False, f"{kind} {name} is {got}, wanted {json.dumps(want)}")
    return HIT


def match_body(wants: dict[str, Any], view: RequestView) -> Verdict:
    doc = view.body()
    for expr, want in wants.items():
        found = json_values(doc, parse_path(expr))
        if not any(_same(v, want) for v in found):
            got = "no value" if not found else "values " + json.dumps(found[:3])[:120]
            return Verdict(False, f"body {expr}: {got}, wanted {json.dumps(want)}")
    return HIT


def matches(match: dict[str, Any] | None, view: RequestView) -> Verdict:
    """Whether a rule's ``match`` fits the request; on a miss, the first key that did not fit, and why."""
    if not match:
        return HIT
    checks: list[tuple[str, Callable[[], Verdict]]] = [
        ("api", lambda: match_api(match["api"], view)),
        ("method", lambda: match_method(match["method"], view)),
        ("path", lambda: match_path(match["path"], view)),
        ("tenant", lambda: match_tenant(match["tenant"], view)),
        ("query", lambda: match_pairs("query parameter", match["query"] or {}, view.req.args)),
        ("headers", lambda: match_pairs("header", match["headers"] or {}, view.req.headers)),
        ("body", lambda: match_body(match["body"] or {}, view)),
    ]
    for key, check in checks:
        if key in match:
            verdict = check()
            if not verdict.matched:
                return verdict
    return HIT
