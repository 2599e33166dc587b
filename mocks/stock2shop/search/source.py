"""``_source`` filtering: true/false, a pattern, a list of patterns or {includes, excludes}."""
from __future__ import annotations

import fnmatch
from typing import Any

from mocks.stock2shop.search.values import Json, SearchError

def parse_source(spec: Any) -> tuple[list[str], list[str]] | bool:
    """``_source``: true/false, a pattern, a list of patterns or {includes, excludes}."""
    if spec is None or spec is True:
        return True
    if spec is False:
        return False
    if isinstance(spec, str):
        return [spec], []
    if isinstance(spec, list) and all(isinstance(p, str) for p in spec):
        return list(spec), []
    if isinstance(spec, dict):
        unknown = set(spec) - {"includes", "excludes", "include", "exclude"}
        if unknown:
            raise SearchError(f"[_source] does not support [{sorted(unknown)[0]}]")
        inc = spec.get("includes", spec.get("include", []))
        exc = spec.get("excludes", spec.get("exclude", []))
        inc, exc = ([inc] if isinstance(inc, str) else inc), ([exc] if isinstance(exc, str) else exc)
        if not all(isinstance(x, list) and all(isinstance(p, str) for p in x) for x in (inc, exc)):
            raise SearchError("[_source] includes/excludes must be strings or arrays of strings")
        return list(inc), list(exc)
    raise SearchError("[_source] must be a boolean, a string, an array or {includes, excludes}")


def _path_matches(path: str, patterns: list[str], prefix_ok: bool) -> bool:
    """Does a dotted ``path`` match a pattern, or (``prefix_ok``) lie on the way to/under one?"""
    for p in patterns:
        if fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, p + ".*") or path.startswith(p + "."):
            return True
        if prefix_ok and (p.startswith(path + ".") or fnmatch.fnmatchcase(path, p.split(".")[0])):
            return True
    return False


def filter_source(source: Json, includes: list[str], excludes: list[str], prefix: str = "") -> Json:
    """Elasticsearch source filtering: keep included paths (all when none), then drop excluded ones."""
    if isinstance(source, list):
        return [filter_source(x, includes, excludes, prefix) for x in source]
    if not isinstance(source, dict):
        return source
    out: dict[str, Any] = {}
    for key, value in source.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if excludes and _path_matches(path, excludes, False):
            continue
        if includes:
            full = any(fnmatch.fnmatchcase(path, p) or path.startswith(p + ".") for p in includes)
            if not full:
                if not (isinstance(value, (dict, list)) and _path_matches(path, includes, True)):
                    continue
                child = filter_source(value, includes, excludes, path)
                if child in ({}, []):
                    continue
                out[key] = child
                continue
        out[key] = filter_source(value, [], excludes, path) if isinstance(value, (dict, list)) else value
    return out
