"""``when``: whether a matching request fires its rule (always, nth, first, every, after, window,
probability, rate). Pure functions of the rule's stored state."""
from __future__ import annotations

from typing import Any, Callable

from mocks.core.chain.ratelimit import Rate
from mocks.core.chain.ratelimit import step as limiter_step


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
    if "rate" in when:  # the sandbox's one rate limiter: the rule fires on requests over the rate
        per_second = float(when["rate"]["per_second"])
        rate = Rate(per_second, burst=float(when["rate"].get("burst", max(1.0, per_second))))
        bucket, decision = limiter_step({"tokens": st["tokens"], "last": st["last"]} if "last" in st else None,
                                        rate, now)
        st.update(bucket)
        if decision.allowed:
            hit = False  # within the rate: no fault
    st["hit"] = hit
    if hit:
        st["fired"] = int(st.get("fired", 0)) + 1
    return st
