"""A stand-in for the real service, on loopback, that differs from the sandbox in known ways.

It answers as a sandbox built with the same seed would (it forwards to one, in process), then
changes exactly three things, the drift the tests expect ``diff`` to find and nothing else:

* a renamed field: API2Cart ``customer.list`` calls its customers' ``email`` ``email_address``;
* a different error code: a product that does not exist is ``return_code`` 113, not the sandbox's 112;
* an extra rate-limit header: ``order.list`` answers carry ``X-RateLimit-Limit: 100``.

On request only (``?break=1``, never in the diff's sessions) it answers an HTML page, outside the
contract, for the proxy's response check. It also records every request it receives (``received``), so tests can check what the proxy sent.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from flask import Flask, Response, request
from werkzeug.serving import make_server

from tests.conftest import make_app

EXTRA_HEADER = ("X-RateLimit-Limit", "100")
STANDIN_CODE = 113


def build(**config: Any) -> Flask:
    real = make_app(apis=["api2cart"], **config)
    inner = real.test_client()
    app = Flask("standin")
    app.extensions["real"] = real
    app.extensions["received"] = []

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def answer(path: str) -> Response:
        app.extensions["received"].append({
            "method": request.method, "raw_uri": request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI"),
            "headers": list(request.headers.items()), "body": request.get_data()})
        r = inner.open("/api2cart/" + path, method=request.method, query_string=request.query_string.decode(),
                       headers=[(k, v) for k, v in request.headers.items() if k.lower() != "host"],
                       data=request.get_data())
        body, headers = r.get_data(), {"Content-Type": r.headers.get("Content-Type", "application/json")}
        if path.endswith("customer.list.json") and r.is_json:
            doc = r.get_json()
            for c in (doc.get("result") or {}).get("customer", []):
                if "email" in c:
                    c["email_address"] = c.pop("email")
            body = json.dumps(doc).encode()
        if path.endswith("product.info.json") and r.is_json and r.get_json().get("return_code") == 112:
            body = json.dumps({**r.get_json(), "return_code": STANDIN_CODE}).encode()
        if request.args.get("break"):
            body, headers = b"<html>upstream trouble</html>", {"Content-Type": "text/html"}
        if path.endswith("order.list.json"):
            headers[EXTRA_HEADER[0]] = EXTRA_HEADER[1]
        return Response(body, status=r.status_code, headers=headers)

    return app


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` on a loopback port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
