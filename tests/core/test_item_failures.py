"""item_failures' one meaning (mocks.core.scenarios.item_failures), as both APIs with bulk requests apply it."""
from __future__ import annotations

from mocks.core.scenarios.item_failures import Failure, ItemFailures
from mocks.printxpand.models.batch import injected_failure as printxpand_failure
from mocks.stock2shop.models.queue import injected_failure as stock2shop_failure


def picked(spec, n=10, ids=None, seed=0):
    failures = ItemFailures.from_spec(spec, seed=seed)
    return [i for i in range(1, n + 1) if failures.picks(i, (ids or {}).get(i))]


def test_selectors():
    assert picked({"every": 3}) == [3, 6, 9]
    assert picked({"first": 2}) == [1, 2]
    assert picked({"indices": [2, 5]}) == [2, 5]
    assert picked({"ids": ["b"]}, ids={2: "b", 4: "c"}) == [2]
    assert picked({"every": 4, "first": 1}) == [1, 4, 8]   # selectors add up
    assert picked({"code": 400}) == list(range(1, 11))    # no selector: every item
    assert ItemFailures.from_spec("nonsense") is None and ItemFailures.from_spec({"every": "x"}) is None


def test_probability_is_seeded():
    a = picked({"probability": 0.5}, n=40, seed=7)
    assert a == picked({"probability": 0.5}, n=40, seed=7) and 5 < len(a) < 35
    assert a != picked({"probability": 0.5}, n=40, seed=8)


def test_each_api_reports_with_its_own_defaults_the_same_items():
    spec = {"every": 2}
    assert [i for i in range(1, 7) if printxpand_failure(i, None, spec)] == [2, 4, 6]
    assert [i for i in range(1, 7) if stock2shop_failure(spec, i)] == [2, 4, 6]
    assert printxpand_failure(2, None, spec) == (400, "Could not save the item.")
    assert stock2shop_failure(spec, 2) == "injected failure (code 500)"
    assert ItemFailures.from_spec({"first": 1, "code": 409, "message": "m"}).failure(1, code=400, message="d") \
        == Failure(409, "m")
