"""The sandbox's one rate limiter (mocks.core.chain.ratelimit): the pure step and its store buckets."""
from __future__ import annotations

from mocks.core.chain.ratelimit import Decision, Limit, Rate, step, take
from mocks.core.scenarios import triggers as T


def run(rate, times):
    state, out = None, []
    for now in times:
        state, decision = step(state, rate, now)
        out.append(decision.allowed)
    return out, state


def test_token_bucket_refills_continuously():
    allowed, _ = run(Rate(3), [0, 0, 0, 0, 0.2, 1 / 3 + 0.01, 1 / 3 + 0.02])
    assert allowed == [True, True, True, False, False, True, False]
    _, decision = step({"tokens": 0.5, "last": 10.0}, Rate(2), 10.0)
    assert not decision.allowed and decision.retry_after == 0.25 and decision.retry_after_s() == 1


def test_fixed_window_refills_at_the_period_boundary():
    allowed, state = run(Rate(2, 60, fixed_window=True), [0, 10, 59, 60, 61, 119.9])
    assert allowed == [True, True, False, True, True, False]
    _, decision = step(state, Rate(2, 60, fixed_window=True), 119.9)
    assert round(decision.retry_after, 6) == 0.1


def test_burst_is_the_capacity():
    allowed, _ = run(Rate(1, burst=3), [0, 0, 0, 0])
    assert allowed == [True, True, True, False]


def test_the_scenario_rate_trigger_is_the_same_limiter():
    """A rate rule fires exactly on the requests the limiter refuses."""
    st, fired = None, []
    times = [0, 0, 0.5, 1.0, 1.0, 3.0]
    for now in times:
        st = T.step(st, {"rate": {"per_second": 1}}, now, 0.0, lambda n: 0.0)
        fired.append(st["hit"])
    allowed, _ = run(Rate(1, burst=1), times)
    assert fired == [not a for a in allowed] == [False, True, True, False, True, False]


def test_take_keeps_the_bucket_in_the_store(app_factory):
    app = app_factory(apis=["click2sync"])
    sandbox = app.extensions["sandbox"]
    state = sandbox.state("click2sync", "t1")
    limit = Limit(state, "k", Rate(1), error=lambda d: AssertionError(d))
    assert take(limit).allowed and not take(limit).allowed
    assert state.collection("rate_buckets").lookup("k")["tokens"] < 1
    other = Limit(sandbox.state("click2sync", "t2"), "k", Rate(1), error=lambda d: AssertionError(d))
    assert take(other) == Decision(True)  # one bucket per tenant
    sandbox.clock.advance(1)  # refilled on the sandbox clock
    assert take(limit).allowed
