"""What a scenario rule matches on: the request's API, method, path, tenant, query, headers, body.

``body`` matchers use a small JSONPath subset (:func:`parse_path`).
"""
from __future__ import annotations

import fnmatch
import json
import re
from typing import Any, Callable

from flask import Request, g

_PATH_TOKEN = re.compile(r"\.([A-Za-z_][\w-]*)|\[(-?\d+|\*)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]|\.\*")


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
    """What rules match on, taken once from the Flask request."""

    def __init__(self, req: Request, api: str | None, tenant: str | None, casefold: bool = False) -> None:
        self.req = req
        self.casefold = casefold  # the API's paths are case-insensitive (XTND): so are path globs
        self.api = api
        self.tenant = tenant
        self.method = req.method.upper()
        self.path = req.path
        self._body: Any = ...

    def body(self) -> Any:
        if self._body is ...:
            self._body = None
            if "body" in g and not isinstance(g.body, (bytes, str)):
                self._body = g.body
            else:
                try:
                    raw = self.req.get_data(cache=True)
                    self._body = json.loads(raw) if raw else None
                except (ValueError, RuntimeError):
                    self._body = None
        return self._body


def matches(match: dict[str, Any] | None, view: RequestView) -> bool:
    if not match:
        return True
    if "api" in match and not _any(match["api"], lambda a: a == view.api):
        return False
    if "method" in match and not _any(match["method"], lambda m: m.upper() == view.method):
        return False
    if "path" in match and not _any(match["path"], lambda p: fnmatch.fnmatchcase(view.path.lower(), p.lower())
                                    if view.casefold else fnmatch.fnmatchcase(view.path, p)):
        return False
    if "tenant" in match and (view.tenant is None or not _any(match["tenant"],
                                                              lambda t: fnmatch.fnmatchcase(view.tenant, t))):
        return False
    for name, want in (match.get("query") or {}).items():
        if not _predicate(name in view.req.args, view.req.args.get(name), want):
            return False
    for name, want in (match.get("headers") or {}).items():
        if not _predicate(name in view.req.headers, view.req.headers.get(name), want):
            return False
    body_rules = match.get("body") or {}
    if body_rules:
        doc = view.body()
        for expr, want in body_rules.items():
            if not any(_same(v, want) for v in json_values(doc, parse_path(expr))):
                return False
    return True
