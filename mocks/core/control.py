"""The control plane, ``/__sandbox``: health, credentials, data, reset, journal, violations, clock.

Loopback clients only, unless an admin token is configured; then every client must send it
(``X-Sandbox-Admin-Token: ...`` or ``Authorization: Bearer ...``).
"""
from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from flask import Blueprint, request

from mocks.core import errors as E
from mocks.core.chain.validate import VIOLATIONS
from mocks.core.http import json_response, sandbox
from mocks.core.journal import matches
from mocks.core.store import ns


def _is_loopback(addr: str | None) -> bool:
    try:
        return ipaddress.ip_address((addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def _args_json() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.get_data(cache=True) else None
    if data is not None and not isinstance(data, dict):
        raise E.BadRequest("the body must be a JSON object")
    return data or {}


def guard() -> None:
    """The access rule of everything under ``/__sandbox`` (the console uses it too)."""
    token = sandbox().config.admin_token
    if token:
        given = request.headers.get("X-Sandbox-Admin-Token") or ""
        auth = request.headers.get("Authorization", "")
        if not given and auth.startswith("Bearer "):
            given = auth[7:]
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise E.Unauthorized("the control plane needs the admin token (X-Sandbox-Admin-Token)")
    elif not _is_loopback(request.remote_addr):
        raise E.Forbidden("the control plane answers loopback clients only; start with --admin-token to open it")


CLOCK_KEYS = frozenset({"advance_seconds", "seconds", "now", "freeze", "api", "tenant"})
CLOCK_ACCEPTS = ("accepted: advance_seconds (a number >= 0), now (epoch seconds or an ISO 8601 date-time: "
                 "set the time), freeze (true: stop the clock, false: let it run), and optionally api and "
                 "tenant to move one API's or one tenant's clock only")


def _run_due(sb: Any) -> None:
    """After a clock move: run what fell due at once (the scheduler's own claimed run), so the
    answer already reflects it and a test needs no thread."""
    sb.scheduler.run_due()


def build() -> Blueprint:
    bp = Blueprint("sandbox_control", __name__)

    bp.before_request(guard)

    @bp.get("/health")
    def health():
        sb = sandbox()
        return json_response({"status": "ok", "apis": list(sb.apis), "state": sb.store.kind,
                              "seed": sb.config.seed, "clock": sb.clock.describe()})

    @bp.get("/credentials")
    def credentials():
        return json_response(sandbox().credentials())

    @bp.post("/reset")
    def reset():
        args = {**request.args.to_dict(), **_args_json()}
        sb = sandbox()
        api = args.get("api")
        if api is not None and api not in sb.apis:
            raise E.NotFound(f"unknown api {api!r}; mounted: {', '.join(sb.apis)}")
        done = sb.reset(api, args.get("tenant"))
        return json_response({"status": "reset", "reset": done})

    @bp.get("/requests")
    def requests_():
        sb = sandbox()
        filters = {k: request.args.get(k, "") for k in ("api", "tenant", "method", "path", "status", "scenario")}
        try:
            since = int(request.args.get("since", 0))
            limit = min(int(request.args.get("limit", 200)), sb.config.journal_size)
        except ValueError:
            raise E.BadRequest("since and limit must be integers") from None
        rows = [e for e in sb.store.journal(since) if matches(e, filters)]
        return json_response({"requests": rows[-limit:][::-1], "total": len(rows), "capacity": sb.config.journal_size})

    @bp.get("/violations")
    def violations():
        rows = sorted(sandbox().store.values(VIOLATIONS), key=lambda v: v["seq"])
        for key in ("api", "direction", "tenant"):
            if request.args.get(key):
                rows = [r for r in rows if str(r.get(key)) == request.args[key]]
        return json_response({"violations": rows[::-1], "total": len(rows)})

    @bp.delete("/violations")
    def clear_violations():
        sandbox().store.clear(VIOLATIONS)
        return json_response({"status": "cleared"})

    @bp.get("/data/<api>")
    @bp.get("/data/<api>/<collection>")
    def data(api: str, collection: str | None = None):
        sb = sandbox()
        if api not in sb.apis:
            raise E.NotFound(f"unknown api {api!r}; mounted: {', '.join(sb.apis)}")
        tenant = request.args.get("tenant")
        out: dict[str, Any] = {}
        for name in sb.store.namespaces(f"{api}/"):
            _, t, coll = name.split("/", 2)
            if coll.startswith("__") or (tenant and t != tenant) or (collection and coll != collection):
                continue
            out.setdefault(t, {})[coll] = [v for _, v in sb.store.items(name)]
        if collection:
            return json_response({"api": api, "collection": collection,
                                  "tenants": {t: c.get(collection, []) for t, c in out.items()}})
        return json_response({"api": api, "tenants": out})

    @bp.post("/data/<api>/<collection>")
    def load_data(api: str, collection: str):
        """Add records to one tenant's collection (``commerce-sandbox seed-from``): additions only.

        Body ``{"records": [...], "key": "id"}``: each record is stored under its ``key`` field unless
        that id is already there (then it is skipped and left as it was). A record missing fields
        that the collection's records have gets them from the first stored record (lists empty),
        so the API's code finds every field it reads and answers stay within the API's schema.
        All records are checked before any is written.
        """
        sb = sandbox()
        args = _args_json()
        if api not in sb.apis:
            raise E.NotFound(f"unknown api {api!r}; mounted: {', '.join(sb.apis)}")
        tenant = request.args.get("tenant") or args.get("tenant")
        if not tenant:
            raise E.BadRequest("name the tenant: ?tenant=ID (see /__sandbox/tenants/" + api + ")")
        tenant = str(tenant)
        if tenant not in sb.tenants(api):
            raise E.NotFound(f"{api} has no tenant {tenant!r}")
        if collection.startswith("__") or not collection.replace("_", "").isalnum():
            raise E.BadRequest(f"{collection!r} is not a data collection")
        records, key = args.get("records"), args.get("key", "id")
        if not isinstance(key, str) or not key:
            raise E.BadRequest("key must be the name of the records' id field")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise E.BadRequest("records must be a list of JSON objects")
        ids: list[str] = []
        for n, record in enumerate(records):
            value = record.get(key)
            if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
                raise E.BadRequest(f"records[{n}]: no {key!r} (a string or integer id)")
            ids.append(str(value))
        if len(set(ids)) != len(ids):
            raise E.BadRequest(f"records repeat an id: {sorted({i for i in ids if ids.count(i) > 1})[:5]}")
        coll = sb.state(api, tenant).collection(collection)
        stored = coll.items()  # the store's cached list: no copy of the collection
        template = stored[0][1] if stored else None
        # new ids only, written in one batch (one transaction: all or nothing, and fast at thousands
        # of records); an id that exists is skipped, so nothing stored is ever replaced
        new = [(i, _complete(record, template)) for i, record in zip(ids, records) if coll.lookup(i) is None]
        coll.put_many(new)
        added = [i for i, _ in new]
        fresh = set(added)
        return json_response({"api": api, "tenant": tenant, "collection": collection, "added": added,
                              "skipped": [i for i in ids if i not in fresh]}, status=201 if added else 200)

    def _clock_scope(args: dict[str, Any]) -> tuple[str | None, str | None]:
        sb = sandbox()
        api, tenant = args.get("api") or None, args.get("tenant") or None
        if api is not None and (not isinstance(api, str) or api not in sb.apis):
            raise E.NotFound(f"unknown api {api!r}; mounted: {', '.join(sb.apis)}")
        if tenant is not None:
            if api is None:
                raise E.BadRequest("a tenant's clock needs its api: send \"api\" with \"tenant\"")
            if str(tenant) not in sb.tenants(api):
                raise E.NotFound(f"unknown tenant {tenant!r} of {api}; GET /__sandbox/tenants/{api} lists them")
            tenant = str(tenant)
        return api, tenant

    @bp.get("/clock")
    def clock():
        api, tenant = _clock_scope(request.args.to_dict())
        return json_response(sandbox().clock.describe(api, tenant))

    @bp.post("/clock")
    def move_clock():
        args = {**request.args.to_dict(), **_args_json()}
        unknown = sorted(set(args) - CLOCK_KEYS)
        if unknown:
            raise E.BadRequest(f"unknown clock key(s) {', '.join(unknown)}; {CLOCK_ACCEPTS}")
        api, tenant = _clock_scope(args)
        seconds = 0.0
        if "advance_seconds" in args or "seconds" in args:
            raw = args.get("advance_seconds", args.get("seconds"))
            try:
                if isinstance(raw, bool):
                    raise ValueError
                seconds = float(raw)
            except (TypeError, ValueError):
                raise E.BadRequest(f"advance_seconds must be a number; {CLOCK_ACCEPTS}") from None
            if not seconds >= 0 or seconds == float("inf"):
                raise E.BadRequest("advance_seconds must be a finite number >= 0 (the clock only moves forward; "
                                   "set an earlier time with \"now\")")
        when = None
        if "now" in args:
            from mocks.core.clock import parse_time
            try:
                when = parse_time(args["now"])
            except (TypeError, ValueError):
                raise E.BadRequest("now must be epoch seconds or an ISO 8601 date-time between 1970 and 9999; "
                                   + CLOCK_ACCEPTS) from None
        freeze = args.get("freeze")
        if isinstance(freeze, str) and freeze.lower() in ("true", "false", "1", "0"):
            freeze = freeze.lower() in ("true", "1")
        if freeze is not None and not isinstance(freeze, bool):
            raise E.BadRequest(f"freeze must be true or false; {CLOCK_ACCEPTS}")
        sb = sandbox()
        if when is not None:
            sb.clock.set(when, api, tenant)
        if seconds:
            sb.clock.advance(seconds, api, tenant)
        if freeze is not None:
            sb.clock.freeze(freeze, api, tenant)
        _run_due(sb)
        return json_response(sb.clock.describe(api, tenant))

    @bp.delete("/clock")
    def reset_clock():
        args = {**request.args.to_dict(), **_args_json()}
        unknown = sorted(set(args) - {"api", "tenant"})
        if unknown:
            raise E.BadRequest(f"unknown clock key(s) {', '.join(unknown)}; DELETE takes api and tenant")
        api, tenant = _clock_scope(args)
        sb = sandbox()
        sb.clock.reset(api, tenant)
        return json_response(sb.clock.describe(api, tenant))

    @bp.get("/scheduler")
    def scheduler_():
        from mocks.core import scheduler as S
        sb = sandbox()
        return json_response({**sb.scheduler.describe(),
                              "due": S.pending(sb, request.args.get("api"), request.args.get("tenant"))[:500]})

    @bp.get("/webhooks")
    def webhooks_():
        from mocks.core import webhooks
        rows = webhooks.listing(sandbox(), request.args.get("api"), request.args.get("tenant"),
                                request.args.get("status"))
        return json_response({"webhooks": rows, "total": len(rows)})

    @bp.post("/webhooks/deliver")
    def webhooks_deliver():
        from mocks.core import webhooks
        return json_response({"attempted": webhooks.deliver_due(sandbox())})

    # -- scenarios (mocks.core.scenarios) --------------------------------------------------------
    def _faults():
        from flask import current_app
        return current_app.extensions["gateway"].faults

    def _scenario_error(exc: Exception) -> E.SandboxError:
        from mocks.core.scenarios import ScenarioError
        if isinstance(exc, ScenarioError):
            pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in exc.path)
            return E.ValidationFailed(str(exc), errors=[{"pointer": pointer, "reason": exc.reason,
                                                         "line": exc.line}])
        return E.BadRequest(str(exc))

    def _describe(record: dict[str, Any]) -> dict[str, Any]:
        return {k: record.get(k) for k in ("id", "name", "seed", "tenant", "activated_at", "source")} | {
            "description": record["definition"].get("description", ""),
            "rules": len(record["definition"].get("rules", []))}

    @bp.get("/scenarios")
    def scenarios_list():
        from mocks.core import scenarios as S
        faults = _faults()
        try:
            available = [{"name": d["name"], "description": d.get("description", ""), "seed": d.get("seed", 0),
                          "rules": len(d["rules"])} for d in S.library().values()]
        except S.ScenarioError as exc:
            raise _scenario_error(exc) from None
        active = faults.active()
        tenant = request.args.get("tenant")
        if tenant:
            active = [r for r in active if r.get("tenant") in (None, tenant)]
        return json_response({"active": [_describe(r) for r in active], "available": available})

    @bp.get("/scenarios/<name>")
    def scenarios_show(name: str):
        from mocks.core import scenarios as S
        active = [_describe(r) for r in _faults().active() if r["name"] == name]
        try:
            definition = S.get(name)
        except KeyError:
            inline = [r for r in _faults().active() if r["name"] == name]
            if not inline:
                raise E.NotFound(f"no scenario named {name!r}") from None
            definition = inline[0]["definition"]
        except S.ScenarioError as exc:
            raise _scenario_error(exc) from None
        return json_response({"scenario": definition, "active": active})

    @bp.post("/scenarios")
    @bp.post("/scenarios/<name>")
    def scenarios_activate(name: str | None = None):
        from mocks.core.scenarios import ScenarioError
        args = {**request.args.to_dict(), **_args_json()}
        if name is not None:
            args.setdefault("name", name)
        seed = args.get("seed") if "rules" not in args else None
        if isinstance(seed, str):
            try:
                seed = int(seed)
            except ValueError:
                raise E.BadRequest("seed must be an integer") from None
        tenant = args.get("tenant")
        try:
            record = _faults().activate(args, seed=seed, tenant=tenant)
        except (ScenarioError, ValueError) as exc:
            raise _scenario_error(exc) from None
        return json_response({"status": "active", "scenario": _describe(record)}, status=201)

    @bp.delete("/scenarios")
    @bp.delete("/scenarios/<name>")
    def scenarios_deactivate(name: str | None = None):
        args = {**request.args.to_dict(), **_args_json()}
        removed = _faults().deactivate(name, args.get("tenant"))
        if name is not None and not removed:
            raise E.NotFound(f"scenario {name!r} is not active")
        return json_response({"status": "inactive", "removed": [_describe(r) for r in removed]})

    @bp.get("/export")
    def export():
        from mocks.core.replay.export import session as export_session
        from mocks.core.replay.har import to_har
        sb = sandbox()
        fmt = request.args.get("format", "json")
        if fmt not in ("json", "har"):
            raise E.BadRequest("format must be json or har")
        try:
            since = int(request.args.get("since", 0))
        except ValueError:
            raise E.BadRequest("since must be an integer") from None
        session = export_session(sb, _faults(), request.host_url.rstrip("/"), since)
        data = to_har(session) if fmt == "har" else session
        return json_response(data, headers={
            "Content-Disposition": f"attachment; filename=sandbox-session.{'har' if fmt == 'har' else 'json'}"})

    @bp.get("/tenants/<api>")
    def tenants(api: str):
        sb = sandbox()
        if api not in sb.apis:
            raise E.NotFound(f"unknown api {api!r}")
        return json_response({"api": api, "tenants": [
            {"id": t.id, "credentials": t.credentials, "seeded": t.seeded} for t in sb.tenants(api).values()]})

    return bp


def _complete(record: dict[str, Any], template: Any) -> dict[str, Any]:
    """``record`` with every field of ``template`` (a stored record) it lacks: a value or an object
    as the template has it (valid for the API's schema), a list empty (another record's lines,
    variants or images are not this one's)."""
    if not isinstance(template, dict):
        return record
    out = dict(record)
    for name, value in template.items():
        if name not in out:
            out[name] = [] if isinstance(value, list) else value
        elif isinstance(value, dict) and isinstance(out[name], dict):
            out[name] = _complete(out[name], value)
    return out


__all__ = ["build", "ns"]
