"""Session files and the replay pieces drift shares with ``commerce-sandbox replay``.

The one place drift imports the session export, HAR and replay client from (:mod:`mocks.core.replay`)
and the scenario matchers' JSONPath subset (:mod:`mocks.core.scenarios.matchers`).

A session is read from either format the sandbox writes: the JSON export (``GET /__sandbox/export``,
``commerce-sandbox record``, ``proxy --output``) or its HAR 1.2 form (``?format=har``); a HAR file is
turned back into the JSON form's ``requests`` entries.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mocks.core.replay.client import Secrets, prepare_request, shape, shape_diff
from mocks.core.replay.export import SESSION_FORMAT, session
from mocks.core.replay.har import to_har
from mocks.core.scenarios.matchers import json_values, parse_path

__all__ = ["SESSION_FORMAT", "Secrets", "json_values", "parse_path", "prepare_request", "session", "shape",
           "shape_diff", "to_har",
           "load", "from_har", "api_of", "body_json", "operation_of"]


def load(path: str) -> dict[str, Any]:
    """A session file (JSON export or HAR) as the JSON export's dict; ValueError if it is neither."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if isinstance(data, dict) and data.get("format") == SESSION_FORMAT:
        return data
    if isinstance(data, dict) and isinstance(data.get("log"), dict) and "entries" in data["log"]:
        return from_har(data)
    raise ValueError(f"{path} is neither a {SESSION_FORMAT} file nor a HAR file")


def from_har(har: dict[str, Any]) -> dict[str, Any]:
    """A HAR log (ours or a browser's) as session entries: path, query, headers, bodies, status."""
    entries = []
    for n, e in enumerate(har["log"]["entries"], 1):
        req, resp = e.get("request") or {}, e.get("response") or {}
        url = urlsplit(req.get("url", ""))
        query = {p["name"]: p["value"] for p in req.get("queryString") or []} or dict(parse_qsl(url.query))
        status = resp.get("status") or None
        entries.append({
            "seq": e.get("_seq") or n,
            "api": e.get("_api") or api_of(url.path),
            "tenant": e.get("_tenant"),
            "method": req.get("method", "GET"),
            "path": url.path,
            "query": query,
            "status": status,
            "request": {"headers": {h["name"]: h["value"] for h in req.get("headers") or []},
                        "body": (req.get("postData") or {}).get("text", "")},
            "response": {"headers": {h["name"]: h["value"] for h in resp.get("headers") or []},
                         "body": (resp.get("content") or {}).get("text", "")},
        })
    return {"format": SESSION_FORMAT, "version": 1, "requests": entries,
            "apis": sorted({e["api"] for e in entries if e["api"]}), "scenarios": []}


def api_of(path: str) -> str | None:
    """The API a sandbox path belongs to: its first segment (``/stock2shop/v1/...`` -> stock2shop)."""
    first = path.lstrip("/").split("/", 1)[0]
    return first or None


def body_json(text: str | None) -> Any:
    """A recorded body as JSON, or None (empty, not JSON, or cut by the journal's size limit)."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def operation_of(api: str | None, method: str, path: str) -> tuple[str, str, Any]:
    """(API prefix, operation id, the contract's operation or None) of a recorded request; the id is
    ``METHOD /path`` for a request the contract does not know."""
    prefix = "/" + api if api and path.lower().startswith("/" + api.lower()) else ""
    subpath = path[len(prefix):] or "/"
    if not api:
        return prefix, f"{method} {subpath}", None
    try:
        from mocks.app import load_apis
        from mocks.core.contracts import load_contract

        contract = load_contract(api, load_apis([api])[0].case_insensitive_paths)
    except (ValueError, OSError):
        return prefix, f"{method} {subpath}", None
    op = contract.match(method, subpath)
    return (prefix, op.operation_id, op) if op is not None else (prefix, f"{method} {subpath}", None)
