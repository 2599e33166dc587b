"""The markdown table of a results dict (also what ``docs/bench.md`` quotes)."""
from __future__ import annotations

from typing import Any

#: the targets of issue 21 (server CPU per request is the primary figure; req/s shown beside it)
TARGETS = {"sandbox/flask": 0.75, "sandbox/wiremock": 1.0, "sandbox/prism": 2.5,
           "sandbox_s2s_search/flask_s2s_search": 0.5}
TARGETS.update({f"cpu {k}": v for k, v in list(TARGETS.items())})


def _f(value: Any, fmt: str = "{:,.0f}") -> str:
    return "—" if value is None else fmt.format(value)


def markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    rec = results.get("recording", {})
    lines = [
        "# commerce-sandbox benchmark",
        "",
        f"Load: {s['load_tool']} -t{s['wrk_threads']} -c{s['connections']}, {s['duration_s']:g}s x "
        f"{s['rounds']} rounds interleaved across peers after a {s['warmup_s']:g}s warm-up each (WireMock 8x, Prism 4x), "
        f"median; load average {results.get('loadavg_start')} at the start, {results.get('loadavg_end')} at the end; loopback, "
        f"{results['machine']['cpus']} CPUs shared by server and load. Servers: {s['gunicorn']} for the "
        f"Python ones. Operation: `GET {rec.get('path')}?{rec.get('query')}` with `C2SKey` "
        f"({rec.get('bytes')} bytes recorded from the sandbox).",
        "",
        "| peer | version | **server CPU ms/req** | req/s | p50 ms | p99 ms | errors / non-2xx | start-up s | RSS |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, run in results["runs"].items():
        rss = results["rss"].get(run["peer"], {})
        if "per_worker_mb" in rss:
            rss_text = f"{' / '.join(f'{v:.0f}' for v in rss['per_worker_mb'])} MB per worker"
        elif rss:
            rss_text = f"{rss['total_mb']:.0f} MB ({rss['processes']} proc)"
        else:
            rss_text = "—"
        lines.append(f"| {name} | {run.get('version') or '—'} | **{_f(run.get('cpu_ms_per_req'), '{:.3f}')}** | "
                     f"{_f(run['rps'])} | {_f(run['p50_ms'], '{:.2f}')} | "
                     f"{_f(run['p99_ms'], '{:.2f}')} | {run['errors']} / {run['non_2xx']} | "
                     f"{_f(run['startup_s'], '{:.2f}')} | {rss_text} |")
    for name, reason in results["skipped"].items():
        lines.append(f"| {name} | skipped | | | | | | | {reason.splitlines()[0][:160]} |")
    lines += ["", "Ratios (above 1: the sandbox does better): `cpu A/B` is B's server CPU ms per request over A's "
                  "(the primary figure: other load on the machine moves it much less); `A/B` is req/s over req/s.", "",
              "| ratio | measured | target |", "|---|---:|---:|"]
    for key, value in results.get("ratios", {}).items():
        target = TARGETS.get(key)
        mark = "" if value is None or target is None else (" ✓" if value >= target else " ✗")
        lines.append(f"| {key} | {_f(value, '{:.2f}')}{mark} | {'≥ ' + str(target) if target else '—'} |")
    st = results.get("startup", {})
    lines += ["", f"`commerce-sandbox serve` start-up to first answered request: new state file "
                  f"{_f(st.get('cold_s'), '{:.2f}')} s (from the seeded state an earlier start kept), "
                  f"{_f(st.get('seeding_s'), '{:.2f}')} s when nothing is kept (it seeds); restart on existing state "
                  f"{_f(st.get('restart_s'), '{:.2f}')} s (median of {st.get('restart_runs_s')}); target < 1.0 s. "
                  f"CPU used by the master and workers until then: new state {_f(st.get('cold_cpu_s'), '{:.2f}')} s, "
                  f"seeding {_f(st.get('seeding_cpu_s'), '{:.2f}')} s, restart {_f(st.get('restart_cpu_s'), '{:.2f}')} s "
                  "(on 2 cores; it is less moved by other load)."]
    stages = results.get("stages")
    if stages and stages.get("markdown"):
        lines += ["", "Per-stage cost (`python -m bench.stages`: in-process, one thread, SQLite state, validation, journal "
                      "and scenario engine on; each stage's own CPU, exclusive of the stages it calls):", "",
                  stages["markdown"].rstrip()]
    elif stages:
        lines += ["", f"per-stage table failed: {stages.get('error')}"]
    lines += _figures(results.get("figures") or {})
    if results.get("notes"):
        lines += ["", "Notes:"] + [f"- {n}" for n in results["notes"]]
    prof = results.get("profile")
    if prof and prof.get("inclusive"):
        lines += ["", f"py-spy ({prof.get('mode')}), sandbox workers under load of {prof.get('target', 'sandbox')} ({prof['samples']} samples in request threads, "
                      f"{prof['load_rps_while_sampling']:.0f} req/s while sampling):", "",
                  "| inclusive | function | | self | function |", "|---:|---|---|---:|---|"]
        for inc, own in zip(prof["inclusive"][:20], prof["self"][:20]):
            lines.append(f"| {inc['share']:.1%} | `{inc['function']}` | | {own['share']:.1%} | `{own['function']}` |")
    elif prof and prof.get("skipped"):
        lines += ["", f"profile skipped: {prof.get('skipped')}"]
    return "\n".join(lines) + "\n"


def _figures(figures: dict[str, Any]) -> list[str]:
    """The per-API figures (bench/stock2shop_search.py, bench/printxpand_bulk.py, bench/state_scale.py)."""
    if not figures:
        return []
    lines = ["", "In-process figures (each in its own process):", ""]
    s2s = figures.get("stock2shop_search")
    if s2s:
        if "error" in s2s:
            lines.append(f"- Stock2Shop search: failed: {s2s['error'][:200]}")
        for r in s2s.get("results", []) if isinstance(s2s.get("results"), list) else []:
            http = r.get("http_validated_ms") or r.get("http_ms") or {}
            paging = r.get("paging", {})
            rss = r.get("rss_mb", {})
            lines.append(
                f"- Stock2Shop `elastic_search` over {r.get('products', 0):,} products ({r.get('store')}): "
                f"p50 {_f(http.get('p50'), '{:.1f}')} ms, p95 {_f(http.get('p95'), '{:.1f}')} ms (target < 50); "
                f"first search after a write {_f(r.get('first_search_after_a_write_ms'), '{:.0f}')} ms; "
                f"whole catalogue paged by modified in {_f(paging.get('seconds'), '{:.1f}')} s "
                f"({paging.get('requests')} requests, target < 60 s); RSS {_f(rss.get('peak'), '{:.0f}')} MB peak "
                f"in this one process, which also seeds the catalogue and, on memory, holds the whole store "
                f"(not a serving worker: the per-worker figure is the server's, below).")
    st = figures.get("state_scale")
    if st:
        if "error" in st:
            lines.append(f"- State at scale: failed: {st['error'][:200]}")
        sc = st.get("scale")
        if sc:
            after = sc.get("first_search_after_a_write_ms_per_worker") or {}
            lines.append(
                f"- Server, SQLite, {sc.get('workers')} workers, {sc.get('products_per_client', 0):,} products per client: "
                f"first search answered {_f(sc.get('start_to_first_search_s'), '{:.1f}')} s after start (target < 20); "
                f"RSS per worker {sc.get('rss_per_worker_mb_after_searching')} MB (target < 300); search p95 "
                f"{_f(sc.get('search_ms', {}).get('p95'), '{:.1f}')} ms (target < 50); first search after a write "
                f"{_f(max(after.values(), default=None), '{:.0f}')} ms (target < 50); paging by modified "
                f"{_f(sc.get('paging', {}).get('seconds'), '{:.1f}')} s (target < 30).")
        for key in ("contention-default", "contention-big"):
            r = st.get(key)
            if r:
                lines.append(
                    f"- Two writers queueing flat out, one search every 0.5 s for {r.get('duration_s')} s "
                    f"({r.get('products_per_client')} products per client): search p95 "
                    f"{_f(r.get('search_ms', {}).get('p95'), '{:.0f}')} ms, max {_f(r.get('search_ms', {}).get('max'), '{:.0f}')} ms, "
                    f"{r.get('over_1s')} over 1 s, {r.get('timeouts')} timeouts (targets < 100 ms, 0, 0).")
        load = st.get("machine", {}).get("loadavg")
        if load:
            lines.append(f"  (load average when it started: {', '.join(f'{x:.1f}' for x in load)} on {st['machine'].get('cpus')} CPUs)")
    px = figures.get("printxpand_bulk")
    if px:
        if "error" in px:
            lines.append(f"- PrintXpand bulk: failed: {px['error'][:200]}")
        for r in px.get("results", []):
            lines.append(
                f"- PrintXpand bulk create of {px.get('items', 1000):,} products in one request ({r.get('state')}): "
                f"median {_f(r.get('create_median_s'), '{:.2f}')} s wall, {_f(r.get('create_cpu_median_s'), '{:.2f}')} s CPU; "
                f"as updates {_f(r.get('update_median_s'), '{:.2f}')} s (target < 1 s).")
    return lines
