"""gunicorn's own floor: a bare WSGI callable answering the recorded bytes (no framework at all).

Same recording as ``bench/bare_flask.py`` (``BENCH_RECORDING``), same gunicorn settings; the
headers are the recorded ones plus ``Content-Length``, as Flask sends them.
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterable

with open(os.environ["BENCH_RECORDING"], encoding="utf-8") as fh:
    _recording = json.load(fh)


def _answer(rec: dict[str, Any]) -> tuple[list[tuple[str, str]], bytes]:
    with open(rec["body_file"], "rb") as fh:
        body = fh.read()
    headers = [(k, v) for k, v in rec["headers"].items()] + [("Content-Length", str(len(body)))]
    return headers, body


_ROUTES = {("GET", _recording["path"]): _answer(_recording)}
if _recording.get("s2s"):
    _ROUTES[("POST", _recording["s2s"]["path"])] = _answer(_recording["s2s"])
_NOT_FOUND = [("Content-Type", "text/plain"), ("Content-Length", "9")]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    found = _ROUTES.get((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
    if found is None:
        start_response("404 Not Found", list(_NOT_FOUND))
        return [b"not found"]
    if environ["REQUEST_METHOD"] == "POST":  # read the request body, as any server would
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", list(found[0]))
    return [found[1]]
