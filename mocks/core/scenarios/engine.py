"""The scenario engine: injected faults that QA can replay exactly.

A scenario (see :mod:`mocks.core.scenarios`) is an ordered list of rules, each ``match`` +
``when`` + ``action``. The request chain (``mocks.core.chain.faults``) calls :meth:`Faults.before`
once per API request, after authentication (so ``match.tenant`` works; a request whose
authentication fails, or a public route, is evaluated with no tenant), and :meth:`Faults.after` on
the response. Both read and write the request's ``RequestContext``. Route code never sees any of
this.

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

import json
import logging
import random
import time
from typing import Any

from flask import Response, request

from mocks.core.chain.context import NO_BODY, RequestContext

from mocks.core.scenarios import loader as S
from mocks.core.scenarios.actions import (action_headers, close_without_answer, delay_seconds, dribble, hold_then_close,
                                          malformed, reset_connection)
from mocks.core.scenarios.item_failures import ItemFailures
from mocks.core.scenarios.matchers import RequestView, matches
from mocks.core.scenarios.triggers import step
from mocks.core.seed import derive

log = logging.getLogger("commerce_sandbox")

ACTIVE = "__sandbox__/scenarios"
STATE_PREFIX = "__sandbox__/faults/"
META = "__sandbox__/meta"
HEADER = "X-Sandbox-Scenario"
HOOK_ACTIONS = ("expire_token", "index_lag", "item_failures", "webhook_failure", "api_action")

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
    def evaluate(self, api: str | None, tenant: str | None, casefold: bool = False,
                 misses: list[dict[str, Any]] | None = None,
                 body: Any = NO_BODY) -> tuple[dict[str, Any], dict[str, Any], int, int] | None:
        """The (activation, rule, rule index, match number) that fires for this request, if any.

        ``misses`` collects, for every rule tried before that one, why it did not fire (its
        matcher's reason, or the trigger that held it back).
        """
        records = self.candidates(tenant)
        if not records:
            return None
        view = RequestView(request, api, tenant, casefold, body)
        tenant_key = f"{api}:{tenant}" if tenant is not None else "-"
        now = self.sandbox.clock.now()
        for record in records:
            for index, rule in enumerate(record["definition"]["rules"]):
                verdict = matches(rule.get("match"), view)
                if not verdict.matched:
                    _miss(misses, record, rule, index, verdict.reason)
                    continue

                def chance(n: int, record: dict[str, Any] = record, index: int = index) -> float:
                    return rng_for(record, tenant_key, index, n, "when").random()

                state = self.store.update(
                    state_ns(record["id"]), f"{tenant_key}|{index}",
                    lambda old, rule=rule, record=record: step(old, rule.get("when"), now,
                                                                record["activated_at"], chance))
                if state and state.get("hit"):
                    return record, rule, index, int(state["n"])
                _miss(misses, record, rule, index, f"matched (request {int((state or {}).get('n', 0))}), "
                                                   f"but when {json.dumps(rule.get('when') or {})} did not fire")
        return None

    def before(self, ctx: RequestContext) -> Response | None:
        """Apply the first firing rule; a Response answers the request instead of the route."""
        if ctx.fault_checked:
            return None
        ctx.fault_checked = True
        api, tenant = ctx.api, ctx.tenant
        try:
            fired = self.evaluate(api.name if api is not None else None, tenant,
                                  bool(getattr(api, "case_insensitive_paths", False)), ctx.rule_misses, ctx.body)
        except Exception:  # a broken engine must not turn answers into 500s: log it and answer normally
            log.exception("scenario evaluation failed on %s %s", request.method, request.path)
            return None
        if fired is None:
            return None
        record, rule, index, n = fired
        action = rule["action"]
        tenant_key = f"{api.name}:{tenant}" if tenant is not None and api is not None else "-"
        ctx.scenario = record["name"]
        ctx.rule = rule.get("name") or index
        fault: dict[str, Any] = {"scenario": record["name"], "activation": record["id"], "rule": ctx.rule, "n": n,
                                 "action": sorted(action)}
        ctx.fault = fault
        rng = rng_for(record, tenant_key, index, n, "action")
        self.run_hooks(ctx, action, rng_for(record, tenant_key, index, n, "items").getrandbits(32))
        delay = delay_seconds(action.get("delay"), rng)
        if delay:
            fault["delay_ms"] = round(delay * 1000, 3)
            time.sleep(delay)
        if action.get("timeout"):
            ctx.fault_injected = True
            ctx.fault_no_answer = fault["no_answer"] = "timeout"
            return hold_then_close(float(action["timeout"]["seconds"]))
        if action.get("reset"):
            ctx.fault_injected = True
            ctx.fault_no_answer = fault["no_answer"] = "reset"
            return reset_connection()
        if "status" in action:
            ctx.fault_injected = True
            return self.finish(ctx, self.status_response(api, action), action, rng)
        if action.get("empty") == "close":
            ctx.fault_injected = True
            ctx.fault_no_answer = fault["no_answer"] = "close"
            return close_without_answer()
        if action.get("empty"):
            ctx.fault_injected = True
            return self.finish(ctx, Response(b"", status=200, headers=action_headers(action)), action, rng)
        if any(k in action for k in ("malformed", "dribble", "headers")):
            ctx.fault_after = (action, rng)  # the real answer, altered on the way out
        return None

    def after(self, ctx: RequestContext, response: Response) -> Response:
        pending, ctx.fault_after = ctx.fault_after, None
        if pending is None:
            return response
        action, rng = pending
        if any(k in action for k in ("malformed", "dribble")):
            ctx.fault_injected = True
        for name, value in action_headers(action).items():
            response.headers[name] = value
        if response.is_streamed:
            return response
        return self.finish(ctx, response, action, rng)

    def finish(self, ctx: RequestContext, response: Response, action: dict[str, Any],
               rng: random.Random) -> Response:
        if action.get("malformed"):
            data = malformed(response.get_data(), action["malformed"], rng)
            response.set_data(data)
        if action.get("dribble"):
            data = response.get_data()
            ctx.journal_body = data
            spec = action["dribble"]
            response = dribble(response, data, int(spec.get("chunks", 5)), float(spec["seconds"]))
        return response

    def status_response(self, api: Any, action: dict[str, Any]) -> Response:
        status = int(action["status"])
        headers = action_headers(action)
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

    def run_hooks(self, ctx: RequestContext, action: dict[str, Any], item_seed: int = 0) -> None:
        api, tenant = ctx.api, ctx.tenant
        if api is None:
            return
        done: dict[str, Any] = {}
        if action.get("expire_token"):
            done["expire_token"] = api.expire_credentials(self.sandbox, tenant, request)
        if "index_lag" in action:
            done["index_lag"] = api.index_lag(self.sandbox, tenant, float(action["index_lag"]["seconds"]))
        if "item_failures" in action:
            ctx.item_failures = ItemFailures.from_spec(action["item_failures"], seed=item_seed)
            done["item_failures"] = api.item_failures(self.sandbox, tenant, action["item_failures"])
        if "webhook_failure" in action:
            ctx.webhook_failure = action["webhook_failure"]
            done["webhook_failure"] = api.webhook_failure(self.sandbox, tenant, action["webhook_failure"])
        if "api_action" in action:
            done["api_action"] = api.scenario_action(self.sandbox, tenant, action["api_action"])
        if done:
            ctx.fault_hooks = done
            assert ctx.fault is not None
            ctx.fault["hooks"] = {k: v for k, v in done.items()
                                  if isinstance(v, (str, int, float, bool, dict, list)) or v is None}


MISSES_KEPT = 20


def _miss(misses: list[dict[str, Any]] | None, record: dict[str, Any], rule: dict[str, Any], index: int,
          reason: str) -> None:
    """Note why a rule did not fire (for the journal entry and the console); bounded per request."""
    if misses is not None and len(misses) < MISSES_KEPT:
        misses.append({"scenario": record["name"], "rule": rule.get("name") or index, "reason": reason})
