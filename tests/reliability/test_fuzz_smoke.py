"""A short `make fuzz`: schemathesis negative cases on every operation of the five APIs, in process;
no answer may be a 5xx unless a scenario injected it. The full run (10,000+ cases) is `make fuzz`."""
from __future__ import annotations

import os

import pytest

from tools import fuzz

pytestmark = pytest.mark.slow


def test_negative_cases_never_get_a_5xx():
    cases = int(os.environ.get("FUZZ_SMOKE_CASES", "256"))
    tally = fuzz.run(cases=cases, seed=7, log=None, max_seconds=120)
    assert set(tally.cases) == set(fuzz.APIS), tally.cases
    assert sum(tally.cases.values()) >= min(cases, 128)
    assert not tally.failures, fuzz.summary(tally, 0)


def test_poisoned_text_never_gets_a_5xx():
    """Valid cases with one string poisoned: lone surrogates, bytes that are not UTF-8, NUL."""
    tally = fuzz.run(cases=int(os.environ.get("FUZZ_SMOKE_CASES", "128")), seed=11, modes=("text",), log=None,
                     max_seconds=60)
    assert set(tally.cases) == set(fuzz.APIS), tally.cases
    assert not tally.failures, fuzz.summary(tally, 0)
