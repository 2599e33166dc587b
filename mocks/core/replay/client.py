"""The replay client: re-runs a recorded session against a target and reports differences in
status and body shape (``commerce-sandbox replay``); redacted secrets are filled back in."""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from mocks.core.replay.export import SESSION_FORMAT

HOP_HEADERS = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding",
                         "accept-encoding", "te", "upgrade"})


_MAP_KEY = re.compile(r"^(\d+|[0-9a-fA-F-]{16,})$")


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and value types, not the values (``replay`` and
    ``diff`` compare answers by it). The items of a list are merged (a key only some records have
    is still a key of the list); an object whose keys are all ids (``{"100001": 12.5}``) is a map,
    ``{"<id>": shape of its values}``; ``"null"`` stands for a null (it matches any type)."""
    if isinstance(value, dict):
        if value and all(_MAP_KEY.match(k) for k in value):
            merged: Any = "null"
            for v in value.values():
                merged = merge(merged, shape(v))
            return {"<id>": merged}
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged = None
        for v in value:
            merged = shape(v) if merged is None else merge(merged, shape(v))
        return [] if merged is None else [merged]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


def merge(a: Any, b: Any) -> Any:
    """One shape covering two: the union of keys; ``null`` gives way to a type."""
    if a == "null":
        return b
    if b == "null":
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(out[k], v) if k in out else v
        return out
    if isinstance(a, list) and isinstance(b, list):
        return [merge(a[0], b[0])] if a and b else (a or b)
    return a


def body_shape(text: str | bytes | None) -> Any:
    """Shape of a body: JSON structure, ``"empty"``, ``"text"``, or ``None`` when unknown (truncated)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text:
        return "empty"
    try:
        return {"json": shape(json.loads(text))}
    except ValueError:
        return None if text.lstrip()[:1] in ("{", "[") else "text"


def shape_diff(want: Any, got: Any, pointer: str = "") -> list[str]:
    """Where ``got`` differs from the recorded shape ``want`` (JSON pointers, ``*`` for list items):
    ``/k: missing`` (recorded, not in ``got``), ``/k: unexpected`` (only in ``got``), ``/k: string !=
    number`` (recorded type != got type). A null, an empty list and an empty object match anything."""
    if want == "null" or got == "null":
        return []
    if isinstance(want, dict) and isinstance(got, dict):
        if not want or not got:  # an empty record or an empty map: data
            return []
        if "<id>" in want and "<id>" in got:
            return shape_diff(want["<id>"], got["<id>"], f"{pointer}/<id>")
        out = []
        for key in want:
            if key not in got:
                out.append(f"{pointer}/{key}: missing")
            else:
                out += shape_diff(want[key], got[key], f"{pointer}/{key}")
        out += [f"{pointer}/{key}: unexpected" for key in got if key not in want]
        return out
    if isinstance(want, list) and isinstance(got, list):
        return shape_diff(want[0], got[0], f"{pointer}/*") if want and got else []
    if want != got:
        def name(s: Any) -> str:
            return "object" if isinstance(s, dict) else "array" if isinstance(s, list) else str(s)
        return [f"{pointer or '/'}: {name(want)} != {name(got)}"]
    return []


SECRET_HINT = re.compile(r"(password|secret|token|key|signature|authorization)", re.IGNORECASE)


class Secrets:
    """Fills the values the journal redacted ("***") when a session is replayed.

    Sources, most specific first: ``--set NAME=VALUE``; values seen in the replayed responses under
    the same name (a token the replayed authenticate call returned); the target's demo credentials.
    """

    def __init__(self, credentials: dict[str, Any] | None = None, overrides: dict[str, str] | None = None) -> None:
        self.credentials = credentials or {}
        self.overrides = {k.lower(): v for k, v in (overrides or {}).items()}
        self.learned: dict[str, str] = {}

    def learn(self, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and SECRET_HINT.search(k) and v and v != "***":
                    self.learned[k.lower()] = v
                else:
                    self.learn(v)
        elif isinstance(node, list):
            for v in node[:50]:
                self.learn(v)

    def _from_credentials(self, api: str | None, name: str, context: dict[str, Any]) -> str | None:
        """The credential value for ``name``; among several, the one whose entry best fits ``context``
        (e.g. ``{"tenant": ...}`` recorded in the journal, or the other fields of a redacted body)."""
        creds = self.credentials.get(api or "", {})
        low = name.lower()
        wanted, scheme = {low}, None
        if isinstance(creds, dict) and str(creds.get("header", "")).lower() == low:
            wanted, scheme = {"key", "api_key"}, creds.get("scheme")
        best: tuple[int, int, str] | None = None
        order = 0

        def walk(node: Any) -> None:
            nonlocal best, order
            if isinstance(node, dict):
                for k, v in node.items():
                    if k.lower() in wanted and isinstance(v, (str, int)) and not isinstance(v, bool):
                        order += 1
                        score = sum(1 for ck, cv in context.items()
                                    if ck.lower() not in wanted and ck in node and str(node[ck]) == str(cv))
                        if best is None or score > best[0]:
                            best = (score, -order, str(v))
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(creds)
        if best is None and low == "authorization" and isinstance(creds, dict) and creds.get("bearer_token"):
            return "Bearer " + str(creds["bearer_token"])
        if best is None:
            return None
        return f"{scheme} {best[2]}" if scheme else best[2]

    def fill(self, api: str | None, name: str, value: Any, context: dict[str, Any] | None = None) -> Any:
        if value != "***":
            return value
        low = name.lower()
        if low in self.overrides:
            return self.overrides[low]
        if low in self.learned:
            return self.learned[low]
        found = self._from_credentials(api, name, context or {})
        return found if found is not None else value

    def fill_json(self, api: str | None, node: Any, context: dict[str, Any] | None = None) -> Any:
        if isinstance(node, dict):
            here = {**(context or {}), **{k: v for k, v in node.items() if isinstance(v, (str, int))}}
            return {k: (self.fill(api, k, v, here) if v == "***" else self.fill_json(api, v, context))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [self.fill_json(api, v, context) for v in node]
        return node


def prepare_request(entry: dict[str, Any], secrets: Secrets,
                    context: dict[str, Any] | None = None) -> tuple[list[tuple[str, Any]], dict[str, str], bytes | None]:
    """A journal entry's query, headers and body for sending again, with the redacted values filled
    (``context``: extra fields that pick among several credentials; the entry's tenant always)."""
    api = entry.get("api")
    context = {**(context or {}), **({"tenant": entry["tenant"]} if entry.get("tenant") is not None else {})}
    params = [(k, secrets.fill(api, k, v, context)) for k, v in (entry.get("query") or {}).items()]
    headers = {k: str(secrets.fill(api, k, v, context))
               for k, v in (entry.get("request", {}).get("headers") or {}).items() if k.lower() not in HOP_HEADERS}
    body: Any = entry.get("request", {}).get("body") or None
    if body:
        try:
            body = json.dumps(secrets.fill_json(api, json.loads(body), context))
        except ValueError:
            from urllib.parse import parse_qsl, urlencode
            if "***" in body and "=" in body:
                body = urlencode([(k, secrets.fill(api, k, v, context))
                                  for k, v in parse_qsl(body, keep_blank_values=True)])
    return params, headers, body.encode() if isinstance(body, str) else body


def replay(data: dict[str, Any], target: str, *, reset: bool = True, overrides: dict[str, str] | None = None,
           timeout: float = 10.0, session: Any = None, log_line: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Re-run a recorded session against ``target``; returns ``{"requests": n, "differences": [...]}``."""
    import requests

    http = session or requests.Session()
    target = target.rstrip("/")
    if data.get("format") != SESSION_FORMAT:
        raise ValueError(f"not a {SESSION_FORMAT} file (from GET /__sandbox/export or `commerce-sandbox record`)")
    control = target + "/__sandbox"
    if reset:
        http.post(control + "/reset", json={}, timeout=timeout).raise_for_status()
    http.delete(control + "/scenarios", timeout=timeout)
    for record in data.get("scenarios", []):
        definition = dict(record["definition"], seed=record["seed"])
        if record.get("tenant"):
            definition["tenant"] = record["tenant"]
        r = http.post(control + "/scenarios", json=definition, timeout=timeout)
        if r.status_code != 201:
            raise ValueError(f"the target refused scenario {record['name']}: {r.status_code} {r.text[:300]}")
    try:
        credentials = http.get(control + "/credentials", timeout=timeout).json()
    except (requests.RequestException, ValueError):
        credentials = {}
    secrets = Secrets(credentials, overrides)
    differences: list[dict[str, Any]] = []
    count = 0
    for entry in data.get("requests", []):
        count += 1
        params, headers, body = prepare_request(entry, secrets)
        got_status: int | None
        got_body: bytes = b""
        try:
            r = http.request(entry["method"], target + entry["path"], params=params, headers=headers,
                             data=body, timeout=timeout)
            got_status, got_body = r.status_code, r.content
        except requests.RequestException as exc:
            got_status, got_body = None, b""
            got_error = type(exc).__name__
        else:
            got_error = None
            try:
                secrets.learn(json.loads(got_body))
            except ValueError:
                pass
        want_status = entry.get("status")
        where = f"#{entry.get('seq', count)} {entry['method']} {entry['path']}"
        problems: list[str] = []
        if want_status != got_status:
            problems.append(f"status {want_status if want_status is not None else 'no answer'} != "
                            f"{got_status if got_status is not None else 'no answer (' + str(got_error) + ')'}")
        elif want_status is not None:
            want_shape = body_shape(entry.get("response", {}).get("body"))
            got_shape = body_shape(got_body)
            if want_shape is not None and got_shape is not None:
                if isinstance(want_shape, dict) and isinstance(got_shape, dict):
                    problems += [f"body {p}" for p in shape_diff(want_shape["json"], got_shape["json"])]
                elif want_shape != got_shape:
                    problems.append(f"body is {_kind(got_shape)}, recorded {_kind(want_shape)}")
        if problems:
            differences.append({"seq": entry.get("seq"), "request": where, "problems": problems})
            if log_line:
                log_line(f"DIFF {where}: " + "; ".join(problems))
        elif log_line:
            log_line(f"ok   {where}: {got_status if got_status is not None else 'no answer'}")
    return {"requests": count, "differences": differences}


def _kind(s: Any) -> str:
    return "JSON" if isinstance(s, dict) else str(s)
