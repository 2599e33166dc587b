"""A session (see :mod:`mocks.core.replay.export`) as HAR 1.2."""
from __future__ import annotations

import json
from typing import Any

def _iso(ts: float) -> str:
    import datetime as dt
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pairs(mapping: dict[str, Any] | None) -> list[dict[str, str]]:
    return [{"name": str(k), "value": str(v)} for k, v in (mapping or {}).items()]


def to_har(data: dict[str, Any]) -> dict[str, Any]:
    """The session's journal as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/)."""
    from http import HTTPStatus
    from urllib.parse import urlencode

    base = data.get("base_url", "").rstrip("/")
    entries = []
    for e in data.get("requests", []):
        req_headers = e.get("request", {}).get("headers", {})
        resp_headers = e.get("response", {}).get("headers", {})
        query = e.get("query") or {}
        url = base + e["path"] + ("?" + urlencode(query) if query else "")
        req_body = e.get("request", {}).get("body") or ""
        resp_body = e.get("response", {}).get("body") or ""
        status = e.get("status")
        try:
            status_text = HTTPStatus(status).phrase if status else ""
        except ValueError:
            status_text = ""
        duration = float(e.get("duration_ms") or 0)
        request_part: dict[str, Any] = {
            "method": e["method"], "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": _pairs(req_headers), "queryString": _pairs(query), "headersSize": -1,
            "bodySize": len(req_body.encode()),
        }
        if req_body:
            ctype = next((v for k, v in req_headers.items() if k.lower() == "content-type"), "application/octet-stream")
            request_part["postData"] = {"mimeType": ctype, "text": req_body}
        mime = next((v for k, v in resp_headers.items() if k.lower() == "content-type"), "")
        entry = {
            "startedDateTime": _iso(float(e.get("time") or 0) - duration / 1000.0),
            "time": duration,
            "request": request_part,
            "response": {
                "status": status or 0, "statusText": status_text, "httpVersion": "HTTP/1.1" if status else "",
                "cookies": [], "headers": _pairs(resp_headers),
                "content": {"size": len(resp_body.encode()), "mimeType": mime, "text": resp_body},
                "redirectURL": "", "headersSize": -1, "bodySize": len(resp_body.encode()) if status else -1,
            },
            "cache": {},
            "timings": {"send": 0, "wait": duration, "receive": 0},
            "_seq": e.get("seq"), "_api": e.get("api"), "_tenant": e.get("tenant"),
            "_scenario": e.get("scenario"), "_rule": e.get("rule"), "_fault": e.get("fault"),
        }
        if not status:
            entry["response"]["_error"] = (e.get("fault") or {}).get("no_answer", "no answer")
        entries.append(entry)
    return {"log": {
        "version": "1.2",
        "creator": {"name": "commerce-sandbox", "version": "1"},
        "comment": json.dumps({"seed": data.get("seed"), "scenarios": [
            {"name": s["name"], "seed": s["seed"], "tenant": s.get("tenant")} for s in data.get("scenarios", [])]}),
        "entries": entries,
    }}
