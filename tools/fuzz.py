"""Fuzz the five APIs with schemathesis negative-mode cases and hostile text, in process: no answer
may be a 5xx unless a scenario injected it (answers carrying ``X-Sandbox-Scenario``).

    python -m tools.fuzz [--cases 10000] [--api NAME ...] [--seed 1]
                         [--mode negative|positive|both|text|mixed]

``text`` takes valid cases and poisons one string of each (a JSON body's value or key, else a query
parameter) with what no store can hold: lone surrogates (``\ud800``, ``\udfff``), bytes that are not
UTF-8 (``\xff\xfe``, overlong ``\xc0\xaf``, encoded surrogates ``\xed\xa0\x80``) or NUL. ``mixed``
(the default, what ``make fuzz`` runs) is half negative cases, half poisoned text.

Every operation of every API's OpenAPI document gets its share of ``--cases``; rounds with new
seeds continue until that many cases ran (Hypothesis may find fewer distinct cases than asked for
a small operation). Valid credentials go on every case, so the cases reach validation and the
routes rather than stopping at authentication. Prints a summary per API; exit 1 on any 5xx.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zlib
from collections import Counter, defaultdict
from typing import Any, Callable

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed as hseed, settings
from schemathesis.generation import GenerationMode

from mocks import create_app
from mocks.registry import NAMES

APIS = NAMES


def auth_for(app: Any, api: str) -> Callable[[Any], None]:
    """A function putting the API's demo credentials on a case."""
    client = app.test_client()
    creds = client.get("/__sandbox/credentials").get_json()[api]
    if api == "click2sync":
        headers, query = {"C2SKey": creds["key"]}, {}
    elif api == "xtnd":
        headers, query = {"Authorization": f"Bearer {creds['api_key']}"}, {}
    elif api == "printxpand":
        headers, query = {"Authorization": f"Bearer {creds['bearer_token']}"}, {}
    elif api == "stock2shop":
        r = client.post("/stock2shop/v1/users/authenticate",
                        json={"system_user_auth": {"username": "admin", "password": "admin-s2s-demo"}})
        headers, query = {}, {"token": r.get_json()["system_user"]["token"]}
    else:
        acc = creds["accounts"][0]
        headers, query = {}, {"api_key": acc["api_key"], "store_key": acc["stores"][0]["store_key"]}

    def apply(case: Any) -> None:
        case.headers = {**(case.headers or {}), **headers}
        if query:
            q = case.query if isinstance(case.query, dict) else {}
            case.query = {**q, **query}
    return apply


class Tally:
    def __init__(self) -> None:
        self.cases: Counter = Counter()
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.injected: Counter = Counter()
        self.failures: list[dict[str, Any]] = []
        self.errors: list[str] = []


#: what a poisoned string holds: (raw bytes inside a JSON string, percent-encoded for a query)
POISONS = [
    (b"\\ud800", "%ED%A0%80"),          # a lone high surrogate, escaped (what JavaScript cuts an emoji into)
    (b"ab\\udfff", "ab%ED%BF%BF"),      # a lone low surrogate
    (b"\\ud83d\\ude00x\\ud83d", "%F0%9F%98%80%ED%A0%BD"),  # a pair, then half of one
    (b"\xff\xfe", "%FF%FE"),              # bytes that are never UTF-8
    (b"\xc0\xaf", "%C0%AF"),              # an overlong encoding of "/"
    (b"\xed\xa0\x80", "%ED%A0%80"),      # a surrogate encoded as UTF-8 bytes
    (b"a\\u0000b", "a%00b"),             # NUL
]
MARK = "__FUZZ_POISON__"


def poison(kwargs: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A valid request's test-client kwargs with one string poisoned (see POISONS)."""
    raw, pct = rng.choice(POISONS)
    body = kwargs.pop("json", None)
    if isinstance(body, (dict, list)):
        slots: list[tuple[Any, Any, bool]] = []   # (container, key or index, is a key)
        stack = [body]
        while stack:
            node = stack.pop()
            pairs = node.items() if isinstance(node, dict) else enumerate(node)
            for k, v in list(pairs):
                if isinstance(node, dict):
                    slots.append((node, k, True))
                if isinstance(v, str):
                    slots.append((node, k, False))
                elif isinstance(v, (dict, list)):
                    stack.append(v)
        if slots:
            node, k, is_key = rng.choice(slots)
            if is_key:
                node[MARK] = node.pop(k)
            else:
                node[k] = MARK
        elif isinstance(body, dict):
            body[MARK] = MARK
        else:
            body.append(MARK)
        kwargs["data"] = json.dumps(body).encode().replace(MARK.encode(), raw, 1)
        return kwargs
    if body is not None:
        kwargs["json"] = body
    query = kwargs.get("query_string") or {}
    from urllib.parse import urlencode
    text = urlencode(query, doseq=True) if isinstance(query, dict) else str(query)
    kwargs["query_string"] = (text + "&" if text else "") + ("q=" if not query else f"{next(iter(query))}=") + pct
    return kwargs


def run(cases: int = 10_000, apis: tuple[str, ...] = APIS, seed: int = 1, modes: tuple[str, ...] = ("negative",),
        log: Callable[[str], None] | None = print, max_seconds: float | None = None) -> Tally:
    tally = Tally()
    app = create_app({"state": "memory", "testing": True, "seed": seed, "apis": list(apis)})
    started = time.monotonic()
    client = app.test_client()
    plan = []
    for api in apis:
        schema = schemathesis.openapi.from_wsgi(f"/{api}/openapi.json", app)
        apply = auth_for(app, api)
        for result in schema.get_all_operations():
            try:
                op = result.ok()
            except Exception as exc:  # an operation schemathesis cannot load is a finding too
                tally.errors.append(f"{api}: cannot load an operation: {exc}")
                continue
            plan.append((api, op, apply))
    if not plan:
        return tally
    per_mode = max(1, cases // len(modes))
    for mode_name in modes:
        mode = GenerationMode.NEGATIVE if mode_name == "negative" else GenerationMode.POSITIVE
        poisoner = client if mode_name == "text" else None
        target = per_mode
        done_before = sum(tally.cases.values())
        round_no = 0
        while sum(tally.cases.values()) - done_before < target and round_no < 12:
            remaining = target - (sum(tally.cases.values()) - done_before)
            share = max(1, -(-remaining // len(plan)))
            ran_this_round = 0
            for api, op, apply in plan:
                if max_seconds is not None and time.monotonic() - started > max_seconds:
                    break
                ran_this_round += _fuzz_operation(api, op, apply, mode, share, seed * 1000 + round_no, tally,
                                                  poisoner)
            round_no += 1
            if log:
                log(f"{mode_name} round {round_no}: {sum(tally.cases.values()) - done_before} cases so far")
            if ran_this_round == 0 or (max_seconds is not None and time.monotonic() - started > max_seconds):
                break
    return tally


def _fuzz_operation(api: str, op: Any, apply: Callable[[Any], None], mode: GenerationMode, examples: int,
                    seed_value: int, tally: Tally, poisoner: Any = None) -> int:
    """Run up to ``examples`` cases of one operation; ``poisoner`` (a test client): send each valid
    case with one string poisoned instead (``text`` mode)."""
    ran = [0]
    rng = random.Random(seed_value * 7919 + zlib.crc32(op.label.encode()))
    try:
        strategy = op.as_strategy(generation_mode=mode)
    except Exception as exc:
        tally.errors.append(f"{api} {op.label}: no {mode.value} strategy ({type(exc).__name__}: {exc})"[:300])
        return 0

    @hseed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=(Phase.explicit, Phase.generate))
    @given(strategy)
    def one(case: Any) -> None:
        apply(case)
        sent: Any = case.body
        try:
            if poisoner is not None:
                kwargs = poison(case.as_transport_kwargs(), rng)
                sent = kwargs.get("data", kwargs.get("query_string"))
                if isinstance(sent, bytes):
                    sent = sent.decode("utf-8", "backslashreplace")
                response = poisoner.open(**kwargs)
            else:
                response = case.call()
        except Exception as exc:  # the WSGI app raised: as bad as a 500
            status, body, injected = 599, f"{type(exc).__name__}: {exc}", False
        else:
            status = response.status_code
            body = response.text[:300] if hasattr(response, "text") else str(response)[:300]
            injected = "X-Sandbox-Scenario" in response.headers
        ran[0] += 1
        tally.cases[api] += 1
        tally.statuses[api][status] += 1
        if injected:
            tally.injected[api] += 1
        elif status >= 500 and len(tally.failures) < 200:
            tally.failures.append({"api": api, "operation": op.label, "status": status, "body": body,
                                   "method": case.method, "path": case.formatted_path,
                                   "query": _short(case.query), "headers": _short(case.headers),
                                   "body_sent": _short(sent)})

    try:
        one()
    except Exception as exc:  # hypothesis gave up (unsatisfiable etc.): note it, go on
        tally.errors.append(f"{api} {op.label}: {type(exc).__name__}: {str(exc)[:200]}")
    return ran[0]


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text[:300]


def summary(tally: Tally, seconds: float) -> str:
    lines = [f"fuzz: {sum(tally.cases.values())} cases in {seconds:.0f} s"]
    for api in sorted(tally.cases):
        st = tally.statuses[api]
        fives = sum(n for s, n in st.items() if s >= 500) - tally.injected[api]
        buckets = Counter()
        for s, n in st.items():
            buckets[f"{str(s)[0]}xx"] += n
        lines.append(f"  {api:<11} {tally.cases[api]:>6} cases  " + "  ".join(f"{k} {v}" for k, v in sorted(buckets.items()))
                     + f"  5xx not injected: {max(0, fives)}")
    lines.append(f"answers 5xx (not injected): {len(tally.failures)}")
    for f in tally.failures[:10]:
        lines.append(f"  {f['status']} {f['api']} {f['method']} {f['path']} query={f['query']} body={f['body_sent'][:120]}"
                     f" -> {f['body'][:160]}")
    if tally.errors:
        lines.append(f"operations hypothesis could not fully run: {len(tally.errors)}")
        for e in tally.errors[:5]:
            lines.append(f"  {e}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=10_000)
    p.add_argument("--api", action="append", choices=APIS, help="only these APIs (default: all five)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mode", choices=["negative", "positive", "both", "text", "mixed"], default="mixed")
    p.add_argument("--json", metavar="PATH", help="also write the summary and the failures as JSON")
    args = p.parse_args(argv)
    modes = {"both": ("negative", "positive"), "mixed": ("negative", "text")}.get(args.mode, (args.mode,))
    started = time.monotonic()
    tally = run(args.cases, tuple(args.api or APIS), args.seed, modes, log=lambda line: print(line, flush=True))
    seconds = time.monotonic() - started
    print(summary(tally, seconds))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cases": dict(tally.cases), "statuses": {a: dict(s) for a, s in tally.statuses.items()},
                       "injected": dict(tally.injected), "failures": tally.failures, "errors": tally.errors}, fh, indent=1)
    total = sum(tally.cases.values())
    if total < args.cases:
        print(f"fuzz: FAIL only {total} of {args.cases} cases ran")
        return 1
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
