"""The scenario engine: injected faults that QA can replay exactly.

A scenario (see :mod:`mocks.core.scenarios`) is an ordered list of rules, each ``match`` +
``when`` + ``action``. The gateway calls :meth:`Faults.before` once per API request, after
authentication (so ``match.tenant`` works; a request whose authentication fails, or a public
route, is evaluated with no tenant), and :meth:`Faults.after` on the response. Route code never
sees any of this.

Activations live in the store (``__sandbox__/scenarios``), so every gunicorn worker sees the same
ones. Each activation has an id; rule state (how many requests matched a rule, the token bucket of
a ``rate`` trigger) is kept in ``__sandbox__/faults/{activation id}`` per tenant and updated with
the store's atomic ``update``: parallel CI jobs with different tenants never disturb each other's
sequences, and all workers agree. Every random choice (``probability``, delays, malformed bytes)
comes from a generator derived from (scenario seed, scenario, tenant, rule, match number), so the
same seed and the same request sequence give the same faults.

Evaluation: the active scenarios are tried in order (the ``X-Sandbox-Scenario`` header's first,
then those activated for the tenant, then global ones, oldest first); in each, the rules in order.
Every rule whose ``match`` fits counts the request; the first whose ``when`` fires applies its
action, and evaluation stops.
"""
from __future__ import annotations

import errno
import fnmatch
import json
import logging
import math
import random
import re
import socket
import struct
import time
from typing import Any, Callable, Iterator

from flask import Request, Response, g, request

from mocks.core import errors as E
from mocks.core import scenarios as S
from mocks.core.seed import derive

log = logging.getLogger("commerce_sandbox")

ACTIVE = "__sandbox__/scenarios"
STATE_PREFIX = "__sandbox__/faults/"
META = "__sandbox__/meta"
HEADER = "X-Sandbox-Scenario"
HOOK_ACTIONS = ("expire_token", "index_lag", "item_failures", "webhook_failure")


# -- validation the schema cannot express ---------------------------------------------------
def check_rule(rule: dict[str, Any]) -> None:
    """Raise ``ValueError("field.path: reason")`` for a rule that cannot work."""
    action = rule.get("action", {})
    window = rule.get("when", {}).get("window")
    if window and window.get("to_s") is not None and window.get("to_s") <= window.get("from_s", 0):
        raise ValueError("when.window.to_s: must be greater than from_s")
    uniform = action.get("delay", {}).get("uniform_ms")
    if uniform and uniform[0] > uniform[1]:
        raise ValueError("action.delay.uniform_ms: the lower bound is above the upper bound")
    terminal = [k for k in ("timeout", "reset") if action.get(k)]
    if len(terminal) > 1:
        raise ValueError("action: timeout and reset cannot be combined")
    if terminal and any(k in action for k in ("status", "body", "empty", "malformed", "dribble")):
        raise ValueError(f"action.{terminal[0]}: never answers, so it cannot be combined with a status or body")
    if "body" in action and "status" not in action:
        raise ValueError("action.body: a body needs a status")
    for key, pattern in (rule.get("match") or {}).get("body", {}).items():
        try:
            parse_path(key)
        except ValueError as exc:
            raise ValueError(f"match.body: {exc}") from None


# -- matching ---------------------------------------------------------------------------------
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

    def __init__(self, req: Request, api: str | None, tenant: str | None) -> None:
        self.req = req
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
    if "path" in match and not _any(match["path"], lambda p: fnmatch.fnmatchcase(view.path, p)):
        return False
    if "tenant" in match and (view.tenant is None or not _any(match["tenant"], lambda t: t == view.tenant)):
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


# -- triggers ---------------------------------------------------------------------------------
def step(state: dict[str, Any] | None, when: dict[str, Any] | None, now: float, activated_at: float,
         chance: Callable[[int], float]) -> dict[str, Any]:
    """The rule's new state after one more matching request; ``state["hit"]`` says if it fires.

    Pure (the store may call it more than once under contention). ``chance(n)`` is the seeded draw
    for the n-th match.
    """
    st = dict(state or {})
    n = int(st.get("n", 0)) + 1
    st["n"] = n
    when = when or {"always": True}
    hit = True
    if "always" in when:
        hit = hit and bool(when["always"])
    if "nth" in when:
        hit = hit and n in when["nth"]
    if "first" in when:
        hit = hit and n <= when["first"]
    if "every" in when:
        hit = hit and n % when["every"] == 0
    if "after" in when:
        hit = hit and n > when["after"]
    if "window" in when:
        elapsed = now - activated_at
        w = when["window"]
        hit = hit and elapsed >= w.get("from_s", 0) and (w.get("to_s") is None or elapsed < w["to_s"])
    if "probability" in when:
        hit = hit and chance(n) < when["probability"]
    if "rate" in when:
        rate = float(when["rate"]["per_second"])
        burst = float(when["rate"].get("burst", max(1.0, rate)))
        tokens = float(st.get("tokens", burst))
        last = float(st.get("last", now))
        tokens = min(burst, tokens + max(0.0, now - last) * rate)
        st["last"] = now
        if tokens >= 1.0:
            st["tokens"] = tokens - 1.0
            hit = False  # within the rate: no fault
        else:
            st["tokens"] = tokens
    st["hit"] = hit
    if hit:
        st["fired"] = int(st.get("fired", 0)) + 1
    return st


# -- the engine -------------------------------------------------------------------------------
def rng_for(activation: dict[str, Any], tenant_key: str, rule: int, n: int, purpose: str) -> random.Random:
    return random.Random(derive(int(activation.get("seed") or 0), activation["name"], tenant_key,
                                str(rule), str(n), purpose))


def activation_key(name: str, tenant: str | None) -> str:
    return f"{tenant or '*'}|{name}"


class Faults:
    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store

    # -- activation ---------------------------------------------------------------
    def resolve(self, spec: dict[str, Any] | str) -> dict[str, Any]:
        """A full, validated definition from a name, ``{"name": ...}`` or an inline definition."""
        if isinstance(spec, str):
            spec = {"name": spec}
        if "rules" in spec:
            definition = dict(spec)
            definition.pop("tenant", None)
            return S.validate(definition, source=f"inline scenario {spec.get('name', '?')!r}")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise S.ScenarioError("give a scenario name or a whole definition with rules", field="name")
        try:
            return S.get(name)
        except KeyError:
            raise S.ScenarioError(f"no scenario named {name!r}; available: {', '.join(S.names()) or '(none)'}",
                                  field="name") from None

    def activate(self, spec: dict[str, Any] | str, *, seed: int | None = None, tenant: str | None = None,
                 only_if_absent: bool = False, source: str = "api") -> dict[str, Any]:
        if isinstance(spec, dict):
            if seed is None and "seed" in spec and "rules" not in spec:
                seed = spec["seed"]
            tenant = tenant if tenant is not None else spec.get("tenant")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise S.ScenarioError("must be an integer", field="seed")
        if tenant is not None and not isinstance(tenant, str):
            tenant = str(tenant)
        definition = self.resolve(spec)
        key = activation_key(definition["name"], tenant)
        if only_if_absent:
            existing = self.store.get(ACTIVE, key)
            if existing is not None:
                return existing
        ident = self.store.incr(META, "scenario_activation_seq")
        record = {
            "id": ident,
            "name": definition["name"],
            "seed": int(seed if seed is not None else definition.get("seed", 0)),
            "tenant": tenant,
            "activated_at": self.sandbox.clock.now(),
            "source": source,
            "definition": definition,
        }
        if only_if_absent:
            if not self.store.add(ACTIVE, key, record):
                return self.store.get(ACTIVE, key)
        else:
            old = self.store.get(ACTIVE, key)
            self.store.put(ACTIVE, key, record)
            if old is not None:
                self.store.clear(f"{STATE_PREFIX}{old['id']}")
        return record

    def deactivate(self, name: str | None = None, tenant: str | None = None) -> list[dict[str, Any]]:
        """Deactivate by name and/or tenant (neither: everything). Returns what was removed."""
        removed = []
        for key, record in list(self.store.items(ACTIVE)):
            if name is not None and record["name"] != name:
                continue
            if tenant is not None and record.get("tenant") != tenant:
                continue
            if self.store.delete(ACTIVE, key):
                self.store.clear(f"{STATE_PREFIX}{record['id']}")
                removed.append(record)
        return removed

    def active(self) -> list[dict[str, Any]]:
        return sorted(self.store.values(ACTIVE), key=lambda r: r["id"])

    def install(self, names: list[str], fresh: bool = False) -> None:
        """Activate ``--scenario`` names (``fresh``: first drop whatever a previous run left)."""
        if fresh:
            self.deactivate()
        for name in names:
            self.activate(name, only_if_absent=not fresh, source="serve")

    def _header_activation(self, name: str) -> dict[str, Any] | None:
        """A scenario named in ``X-Sandbox-Scenario``: its own counters, kept across requests."""
        key = f"header|{name}"
        record = self.store.lookup(ACTIVE + "-header", key)
        if record is None:
            try:
                definition = S.get(name)
            except (KeyError, S.ScenarioError) as exc:
                log.warning("X-Sandbox-Scenario %s: %s", name, exc)
                return None
            record = {"id": f"h-{name}", "name": name, "seed": int(definition.get("seed", 0)), "tenant": None,
                      "activated_at": self.sandbox.clock.now(), "source": "header", "definition": definition}
            self.store.add(ACTIVE + "-header", key, record)
            record = self.store.lookup(ACTIVE + "-header", key) or record
        return record

    def candidates(self, tenant: str | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        header = request.headers.get(HEADER, "")
        for name in [n.strip() for n in header.split(",") if n.strip()]:
            record = self._header_activation(name)
            if record is not None:
                out.append(record)
        records = self.active()
        if tenant is not None:
            out += [r for r in records if r.get("tenant") == tenant]
        out += [r for r in records if r.get("tenant") is None]
        return out

    # -- evaluation ---------------------------------------------------------------
    def evaluate(self, api: str | None, tenant: str | None) -> tuple[dict[str, Any], dict[str, Any], int, int] | None:
        """The (activation, rule, rule index, match number) that fires for this request, if any."""
        records = self.candidates(tenant)
        if not records:
            return None
        view = RequestView(request, api, tenant)
        tenant_key = f"{api}:{tenant}" if tenant is not None else "-"
        now = self.sandbox.clock.now()
        for record in records:
            for index, rule in enumerate(record["definition"]["rules"]):
                if not matches(rule.get("match"), view):
                    continue

                def chance(n: int, record: dict[str, Any] = record, index: int = index) -> float:
                    return rng_for(record, tenant_key, index, n, "when").random()

                state = self.store.update(
                    f"{STATE_PREFIX}{record['id']}", f"{tenant_key}|{index}",
                    lambda old, rule=rule, record=record: step(old, rule.get("when"), now,
                                                                record["activated_at"], chance))
                if state and state.get("hit"):
                    return record, rule, index, int(state["n"])
        return None

    def before(self, api: Any, tenant: str | None) -> Response | None:
        """Apply the first firing rule; a Response answers the request instead of the route."""
        if g.get("fault_checked"):
            return None
        g.fault_checked = True
        fired = self.evaluate(api.name if api is not None else None, tenant)
        if fired is None:
            return None
        record, rule, index, n = fired
        action = rule["action"]
        tenant_key = f"{api.name}:{tenant}" if tenant is not None else "-"
        g.scenario = record["name"]
        g.rule = rule.get("name") or index
        g.fault = {"scenario": record["name"], "activation": record["id"], "rule": g.rule, "n": n,
                   "action": sorted(action)}
        rng = rng_for(record, tenant_key, index, n, "action")
        self.run_hooks(api, tenant, action)
        delay = delay_seconds(action.get("delay"), rng)
        if delay:
            g.fault["delay_ms"] = round(delay * 1000, 3)
            time.sleep(delay)
        if action.get("timeout"):
            g.fault_injected = True
            g.fault_no_answer = "timeout"
            return hold_then_close(float(action["timeout"]["seconds"]))
        if action.get("reset"):
            g.fault_injected = True
            g.fault_no_answer = "reset"
            return reset_connection()
        if "status" in action:
            g.fault_injected = True
            return self.finish(api, self.status_response(api, action), action, rng)
        if action.get("empty") == "close":
            g.fault_injected = True
            g.fault_no_answer = "close"
            return close_without_answer()
        if action.get("empty"):
            g.fault_injected = True
            return self.finish(api, Response(b"", status=200, headers=_headers(action)), action, rng)
        if any(k in action for k in ("malformed", "dribble", "headers")):
            g.fault_after = (action, rng)  # the real answer, altered on the way out
        return None

    def after(self, api: Any, response: Response) -> Response:
        pending = g.pop("fault_after", None)
        if pending is None:
            return response
        action, rng = pending
        if any(k in action for k in ("malformed", "dribble")):
            g.fault_injected = True
        for name, value in _headers(action).items():
            response.headers[name] = value
        if response.is_streamed:
            return response
        return self.finish(api, response, action, rng, headers_done=True)

    def finish(self, api: Any, response: Response, action: dict[str, Any], rng: random.Random,
               headers_done: bool = False) -> Response:
        if action.get("malformed"):
            data = malformed(response.get_data(), action["malformed"], rng)
            response.set_data(data)
        if action.get("dribble"):
            data = response.get_data()
            g.journal_body = data
            spec = action["dribble"]
            response = dribble(response, data, int(spec.get("chunks", 5)), float(spec["seconds"]))
        return response

    def status_response(self, api: Any, action: dict[str, Any]) -> Response:
        status = int(action["status"])
        headers = _headers(action)
        if "body" in action:
            body = action["body"]
            if isinstance(body, str):
                return Response(body, status=status, headers=headers, mimetype="text/plain")
            return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")
        if api is None:
            return Response(json.dumps({"error": "fault", "status": status}), status=status, headers=headers,
                            mimetype="application/json")
        error = api.fault_error(action)
        try:
            body, code, extra = api.error_body(error)
        except Exception:  # an API without its renderer yet: the control plane's shape
            log.exception("error renderer of %s failed for an injected fault", api.name)
            body, code, extra = {"error": error.kind, "message": error.message}, error.status, {}
        merged = {**error.headers, **extra, **headers}
        if status != code:  # the renderer may map a status to another one; the scenario wins
            code = status
        if isinstance(body, (bytes, str)):
            return Response(body, status=code, headers=merged)
        return Response(json.dumps(body), status=code, headers=merged, mimetype="application/json")

    def run_hooks(self, api: Any, tenant: str | None, action: dict[str, Any]) -> None:
        if api is None:
            return
        done: dict[str, Any] = {}
        if action.get("expire_token"):
            done["expire_token"] = api.expire_credentials(self.sandbox, tenant, request)
        if "index_lag" in action:
            done["index_lag"] = api.index_lag(self.sandbox, tenant, float(action["index_lag"]["seconds"]))
        if "item_failures" in action:
            g.item_failures = action["item_failures"]
            done["item_failures"] = api.item_failures(self.sandbox, tenant, action["item_failures"])
        if "webhook_failure" in action:
            g.webhook_failure = action["webhook_failure"]
            done["webhook_failure"] = api.webhook_failure(self.sandbox, tenant, action["webhook_failure"])
        if done:
            g.fault_hooks = done
            g.fault["hooks"] = {k: v for k, v in done.items() if isinstance(v, (str, int, float, bool, dict, list))
                                or v is None}


# -- actions ----------------------------------------------------------------------------------
def _headers(action: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (action.get("headers") or {}).items()}


def delay_seconds(spec: dict[str, Any] | None, rng: random.Random) -> float:
    if not spec:
        return 0.0
    if "fixed_ms" in spec:
        ms = float(spec["fixed_ms"])
    elif "uniform_ms" in spec:
        low, high = spec["uniform_ms"]
        ms = rng.uniform(float(low), float(high))
    else:
        ln = spec["lognormal"]
        ms = float(ln["median_ms"]) * math.exp(rng.gauss(0.0, float(ln.get("sigma", 0.5))))
        ms = min(ms, float(ln.get("max_ms", 60_000)))
    return max(0.0, ms) / 1000.0


def malformed(data: bytes, mode: Any, rng: random.Random) -> bytes:
    """A body no JSON parser accepts: the real one cut short, or random bytes (seeded)."""
    text = data.rstrip()
    if mode is True:
        mode = "truncate" if text[:1] in (b"{", b"[") and len(text) > 2 else "bytes"
    if mode == "truncate" and text[:1] in (b"{", b"[") and len(text) > 1:
        return text[: rng.randint(1, len(text) - 1)]
    size = rng.randint(16, 64)
    return b"\xff" + bytes(rng.randrange(256) for _ in range(size))  # 0xff never starts UTF-8 or JSON


def dribble(response: Response, data: bytes, chunks: int, seconds: float) -> Response:
    """The real body in ``chunks`` pieces spread over ``seconds``."""
    chunks = max(1, min(chunks, len(data) or 1))
    size = math.ceil(len(data) / chunks) if data else 0
    pieces = [data[i:i + size] for i in range(0, len(data), size)] if size else [b""]
    pause = seconds / max(1, len(pieces) - 1) if len(pieces) > 1 else seconds

    def stream() -> Iterator[bytes]:
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(pause)
            yield piece

    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in ("content-length",)]
    out = Response(stream(), status=response.status_code, headers=headers, direct_passthrough=True)
    out.headers["Content-Length"] = str(len(data))
    return out


class ConnectionAborted(ConnectionResetError):
    """Raised from a response body to make the server drop the connection without an answer."""


def _socket() -> socket.socket | None:
    env = request.environ
    sock = env.get("gunicorn.socket") or env.get("werkzeug.socket")
    return sock if isinstance(sock, socket.socket) else None


def _abort(sock: socket.socket | None, hard: bool) -> None:
    if sock is None:
        return
    try:
        if hard:  # SO_LINGER 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def reset_connection() -> Response:
    sock = _socket()

    def body() -> Iterator[bytes]:
        _abort(sock, hard=True)
        raise ConnectionAborted(errno.ECONNRESET, "connection reset by an injected fault")
        yield b""  # pragma: no cover

    return Response(body(), status=502, direct_passthrough=True)


def close_without_answer() -> Response:
    sock = _socket()

    def body() -> Iterator[bytes]:
        _abort(sock, hard=False)
        raise ConnectionAborted(errno.ENOTCONN, "connection closed by an injected fault")
        yield b""  # pragma: no cover

    return Response(body(), status=502, direct_passthrough=True)


def hold_then_close(seconds: float) -> Response:
    """Hold the connection open (this thread only) for ``seconds``, then close it unanswered."""
    sock = _socket()

    def body() -> Iterator[bytes]:
        time.sleep(seconds)
        _abort(sock, hard=False)
        raise ConnectionAborted(errno.ENOTCONN, "connection closed by an injected timeout")
        yield b""  # pragma: no cover

    return Response(body(), status=504, direct_passthrough=True)
