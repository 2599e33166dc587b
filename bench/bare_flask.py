"""The limit: a bare Flask app answering the recorded bytes, nothing else.

``BENCH_RECORDING`` names a JSON file ``{"path", "body_file", "headers", "s2s": {...}}`` written by
the bench from the sandbox's own answers (the Click2Sync page; the Stock2Shop search when it was
recorded). Run under gunicorn with the sandbox's settings.
"""
from __future__ import annotations

import json
import os

from flask import Flask, Response

with open(os.environ["BENCH_RECORDING"], encoding="utf-8") as fh:
    _recording = json.load(fh)
with open(_recording["body_file"], "rb") as fh:
    _BODY = fh.read()
_HEADERS = _recording["headers"]

app = Flask("bare")


@app.get(_recording["path"])
def product() -> Response:
    return Response(_BODY, status=200, headers=_HEADERS)


if _recording.get("s2s"):
    _s2s = _recording["s2s"]
    with open(_s2s["body_file"], "rb") as fh:
        _S2S_BODY = fh.read()

    @app.post(_s2s["path"])
    def search() -> Response:
        return Response(_S2S_BODY, status=200, headers=_s2s["headers"])
