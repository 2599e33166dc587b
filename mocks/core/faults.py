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
HOOK_ACTIONS = ("expire_token", "index_lag", "item_failures", "webhook_failure", "api_action")


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


def state_ns(activation_id: Any) -> str:
    """The namespace of one activation's rule state (ends with "/": clearing it clears no other)."""
    return f"{STATE_PREFIX}{activation_id}/"


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
                self.store.clear(state_ns(old['id']))
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
                self.store.clear(state_ns(record['id']))
                removed.append(record)
        if name is None and tenant is None:  # everything: the header scenarios' counters too
            self.store.clear(ACTIVE + "-header")
            self.store.clear(STATE_PREFIX)
        return removed

    def active(self) -> list[dict[str, Any]]:
        return sorted(self.store.values(ACTIVE), key=lambda r: r["id"])

    def install(self, names: list[str], fresh: bool = False) -> None:
        """Activate ``--scenario`` names (``fresh``: first drop whatever a previous run left)."""
        if fresh:
            self.deactivate()
            self.store.clear(ACTIVE + "-header")
            self.store.clear(STATE_PREFIX)
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
    def evaluate(self, api: str | None, tenant: str | None,
                 casefold: bool = False) -> tuple[dict[str, Any], dict[str, Any], int, int] | None:
        """The (activation, rule, rule index, match number) that fires for this request, if any."""
        records = self.candidates(tenant)
        if not records:
            return None
        view = RequestView(request, api, tenant, casefold)
        tenant_key = f"{api}:{tenant}" if tenant is not None else "-"
        now = self.sandbox.clock.now()
        for record in records:
            for index, rule in enumerate(record["definition"]["rules"]):
                if not matches(rule.get("match"), view):
                    continue

                def chance(n: int, record: dict[str, Any] = record, index: int = index) -> float:
                    return rng_for(record, tenant_key, index, n, "when").random()

                state = self.store.update(
                    state_ns(record["id"]), f"{tenant_key}|{index}",
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
        try:
            fired = self.evaluate(api.name if api is not None else None, tenant,
                                  bool(getattr(api, "case_insensitive_paths", False)))
        except Exception:  # a broken engine must not turn answers into 500s: log it and answer normally
            log.exception("scenario evaluation failed on %s %s", request.method, request.path)
            return None
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
            g.fault_no_answer = g.fault["no_answer"] = "timeout"
            return hold_then_close(float(action["timeout"]["seconds"]))
        if action.get("reset"):
            g.fault_injected = True
            g.fault_no_answer = g.fault["no_answer"] = "reset"
            return reset_connection()
        if "status" in action:
            g.fault_injected = True
            return self.finish(api, self.status_response(api, action), action, rng)
        if action.get("empty") == "close":
            g.fault_injected = True
            g.fault_no_answer = g.fault["no_answer"] = "close"
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
        if "api_action" in action:
            done["api_action"] = api.scenario_action(self.sandbox, tenant, action["api_action"])
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


def _aborting(hard: bool, code: int, what: str) -> Response:
    """A response whose body, once the server starts sending it, kills the connection instead."""
    sock = _socket()

    def body() -> Iterator[bytes]:
        _abort(sock, hard=hard)
        raise ConnectionAborted(code, f"connection {what} by an injected fault")
        yield b""  # pragma: no cover

    return Response(body(), status=502, direct_passthrough=True)


def reset_connection() -> Response:
    return _aborting(True, errno.ECONNRESET, "reset")


def close_without_answer() -> Response:
    return _aborting(False, errno.ENOTCONN, "closed")


def hold_then_close(seconds: float) -> Response:
    """Hold the connection open (this thread only) for ``seconds``, then close it unanswered."""
    sock = _socket()

    def body() -> Iterator[bytes]:
        time.sleep(seconds)
        _abort(sock, hard=False)
        raise ConnectionAborted(errno.ENOTCONN, "connection closed by an injected timeout")
        yield b""  # pragma: no cover

    return Response(body(), status=504, direct_passthrough=True)


# -- sessions: export, HAR ----------------------------------------------------------------------
SESSION_FORMAT = "commerce-sandbox-session"


def session(sandbox: Any, faults: Faults, base_url: str, since: int = 0) -> dict[str, Any]:
    """Everything needed to replay what happened: the journal, the scenarios and their seeds."""
    clock = sandbox.clock.describe()
    return {
        "format": SESSION_FORMAT,
        "version": 1,
        "exported_at": clock["iso"],
        "base_url": base_url,
        "seed": sandbox.config.seed,
        "apis": list(sandbox.apis),
        "clock": clock,
        "scenarios": [{k: r.get(k) for k in ("id", "name", "seed", "tenant", "activated_at", "source", "definition")}
                      for r in faults.active()],
        "requests": sandbox.store.journal(since),
    }


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


# -- replay -------------------------------------------------------------------------------------
HOP_HEADERS = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding",
                         "accept-encoding", "te", "upgrade"})


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and value types, not the values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


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
    """Where two shapes differ (JSON pointers); an empty list means the same shape."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for key in want:
            if key not in got:
                out.append(f"{pointer}/{key}: missing")
            else:
                out += shape_diff(want[key], got[key], f"{pointer}/{key}")
        out += [f"{pointer}/{key}: unexpected" for key in got if key not in want]
        return out
    if isinstance(want, list) and isinstance(got, list):
        if want and got:
            return shape_diff(want[0], got[0], f"{pointer}/0")
        return []  # an empty list matches a list of anything
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
