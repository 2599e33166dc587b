"""PrintXpand's sandbox-only routes: the designer callback ("Save design URL and image URL"),
made by the sandbox.

In the document this is not an endpoint of the store: once the Product Designer area of a product
is configured, PrintXpand POSTs ``{"image_url", "designer_url", "enable_product_designer",
"integration_product_id"}`` to the third party's endpoint, which answers ``[{"response":
"success"}]``. The sandbox plays PrintXpand's side through its control plane:

* ``PUT /__sandbox/printxpand/designer-callback`` ``{"url": ...}`` stores the endpoint (``null``
  forgets it); ``GET`` shows it and the last calls.
* ``POST /__sandbox/printxpand/designer-callback`` makes the call now, over real HTTP, and answers
  what happened: the payload sent, the status and body that came back, and whether that answer
  keeps the documented contract (``schemas/printxpand/designer-callback-*.schema.json``).

Calls go through :mod:`mocks.core.outbound` (loopback and the operator's ``--allow-host`` list; no
redirects); a URL outside it is refused with a 400 before anything is sent.

The payload: fields given in the control request win; otherwise they come from the product when
``integration_product_id`` names one stored for the tenant (its ``enable_product_designer`` and
its first image), else from deterministic defaults. The call is synchronous because its answer is
the point (PrintXpand shows the design area only after "success"); it is not retried.
"""
from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, request
from jsonschema import Draft202012Validator

from mocks.core import errors as E
from mocks.core import outbound
from mocks.core.http import json_response, sandbox
from mocks.printxpand.contract import CONTROL_CONFIG, CONTROL_REQUEST, DESIGNER_REQUEST, DESIGNER_RESPONSE

NS = "__sandbox__/printxpand_designer"
KEEP = 50                     # calls remembered for GET
TIMEOUT_S = 10.0
DESIGNER_BASE = "https://designer.printxpand.invalid"   # where the sandbox says its designer lives
USER_AGENT = "commerce-sandbox-printxpand/1 (designer callback)"

_REQUEST = Draft202012Validator(CONTROL_REQUEST)
_CONFIG = Draft202012Validator(CONTROL_CONFIG)
_PAYLOAD = Draft202012Validator(DESIGNER_REQUEST)
_SUCCESS = Draft202012Validator({"$schema": DESIGNER_RESPONSE["$schema"], **DESIGNER_RESPONSE["$defs"]["success"]})


def _check(validator: Draft202012Validator, data: Any) -> None:
    problems = [{"pointer": "/body" + "".join(f"/{p}" for p in e.absolute_path), "reason": e.message}
                for e in validator.iter_errors(data)]
    if problems:
        raise E.ValidationFailed(f"{problems[0]['pointer']}: {problems[0]['reason']}", errors=problems)


def _json_body() -> dict[str, Any]:
    if not request.get_data(cache=True):
        return {}
    try:
        data = json.loads(request.get_data(cache=True))
    except ValueError:
        raise E.BadRequest("the body is not JSON") from None
    if not isinstance(data, dict):
        raise E.BadRequest("the body must be a JSON object")
    return data


def configured_url() -> str | None:
    config = sandbox().store.lookup(NS, "config") or {}
    return config.get("url")


def payload_for(spec: dict[str, Any]) -> dict[str, Any]:
    """The documented payload: explicit fields, else the stored product's, else defaults."""
    sb = sandbox()
    pid = spec.get("integration_product_id", 10001)   # the document's example product
    tenants = list(sb.tenants("printxpand"))
    tenant = spec.get("tenant") or (tenants[0] if tenants else None)
    if spec.get("tenant") and spec["tenant"] not in tenants:
        raise E.NotFound(f"no PrintXpand tenant {spec['tenant']!r}; see /__sandbox/credentials")
    product = sb.state("printxpand", tenant).collection("products").lookup(str(pid)) if tenant else None
    images = (product or {}).get("images") or []
    return {
        "image_url": spec.get("image_url") or (images[0]["src"] if images else f"{DESIGNER_BASE}/images/{pid}.png"),
        "designer_url": spec.get("designer_url") or f"{DESIGNER_BASE}/designer/{pid}",
        "enable_product_designer": int(spec.get("enable_product_designer",
                                                (product or {}).get("enable_product_designer", 1))),
        "integration_product_id": pid,
    }


def judge(status: int | None, content_type: str | None, body: Any, error: str | None) -> list[str]:
    """What is wrong with an answer to the documented payload (empty: it kept the contract)."""
    if error is not None:
        return [f"no answer: {error}"]
    problems = []
    if status is None or not 200 <= status < 300:
        problems.append(f"status {status}: success is a 2xx")
    if "json" not in (content_type or "").lower():
        problems.append(f"Content-Type {content_type or '(none)'}: the answer is JSON")
    if isinstance(body, str):
        problems.append("the body is not JSON")
    else:
        problems += [f"body{''.join(f'/{p}' for p in e.absolute_path) or ''}: {e.message}"
                     for e in _SUCCESS.iter_errors(body)]
        if not problems and body != [{"response": "success"}]:
            problems.append('the body carries more than [{"response": "success"}]')
    return problems


def send(url: str, payload: dict[str, Any], timeout: float = TIMEOUT_S) -> dict[str, Any]:
    """POST the payload to ``url`` now; return the record of what happened."""
    import requests  # (imported by the first send, not by every start)

    _check(_PAYLOAD, payload)  # the sandbox itself keeps the contract
    started = time.perf_counter()
    status = content_type = error = None
    parsed: Any = None
    try:
        resp = outbound.post(sandbox(), url, data=json.dumps(payload).encode(), timeout=timeout,
                             headers={"Content-Type": "application/json", "Accept": "application/json",
                                      "User-Agent": USER_AGENT})
        status, content_type = resp.status_code, resp.headers.get("Content-Type")
        text = resp.content[:65536].decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    problems = judge(status, content_type, parsed, error)
    return {"url": url, "request": payload, "status": status, "response": parsed, "content_type": content_type,
            "error": error, "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "ok": not problems, "problems": problems, "at": sandbox().clock.now()}


def allowed(url: str) -> str:
    """The URL, if the outbound allow-list lets the sandbox call it (mocks.core.outbound), else a 400."""
    try:
        outbound.check_for(sandbox(), url)
    except outbound.OutboundRefused as exc:
        raise E.BadRequest(f"{url}: {exc.reason}") from None
    return url


def _remember(record: dict[str, Any]) -> None:
    store = sandbox().store
    seq = store.incr("__sandbox__/meta", "printxpand_designer_seq")
    store.put(NS, f"call:{seq % KEEP:03d}", {**record, "seq": seq})


def history() -> list[dict[str, Any]]:
    calls = [v for k, v in sandbox().store.items(NS) if k.startswith("call:")]
    return sorted(calls, key=lambda c: c["seq"], reverse=True)


def build() -> Blueprint:
    bp = Blueprint("printxpand_designer", __name__)

    @bp.get("/designer-callback")
    def show():
        return json_response({"url": configured_url(), "calls": history()})

    @bp.put("/designer-callback")
    def configure():
        data = _json_body()
        _check(_CONFIG, data)
        sandbox().store.put(NS, "config", {"url": data["url"] and allowed(data["url"])})
        return json_response({"url": data["url"], "calls": history()})

    @bp.post("/designer-callback")
    def call():
        spec = _json_body()
        _check(_REQUEST, spec)
        url = spec.get("url") or configured_url()
        if not url:
            raise E.BadRequest("no endpoint: send {\"url\": ...} or PUT /__sandbox/printxpand/designer-callback first")
        record = send(allowed(url), payload_for(spec), float(spec.get("timeout", TIMEOUT_S)))
        _remember(record)
        return json_response(record)

    return bp
