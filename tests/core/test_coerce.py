"""mocks.core.coerce: the one reading of numbers and booleans from loose input."""
from __future__ import annotations

import math

import pytest

from mocks.core.coerce import FALSE_WORDS, TRUE_WORDS, finite, to_bool, to_int, to_number, zero_one


@pytest.mark.parametrize("value, expected", [
    (3, 3.0), (2.5, 2.5), ("4", 4.0), (" -1.5 ", -1.5), ("1e3", 1000.0),
    (True, None), (False, None), (None, None), ("", None), ("   ", None), ("abc", None), ([1], None), ({}, None),
])
def test_to_number(value, expected):
    assert to_number(value) == expected


def test_to_number_keeps_floats_grammar_and_finite_drops_the_rest():
    assert math.isnan(to_number("nan")) and to_number("-inf") == -math.inf
    assert finite(to_number("nan")) is None and finite(to_number("inf")) is None and finite(None) is None
    assert finite(to_number(" 7 ")) == 7.0


@pytest.mark.parametrize("value, expected", [
    (5, 5), ("12", 12), (" -3 ", -3), ("+4", 4), (True, None), (5.0, None), ("5.0", None), ("", None), ("x1", None),
])
def test_to_int(value, expected):
    assert to_int(value) == expected


def test_to_bool_reads_the_words_it_is_given():
    assert [to_bool(w) for w in TRUE_WORDS] == [True] * len(TRUE_WORDS)
    assert [to_bool(w) for w in FALSE_WORDS] == [False] * len(FALSE_WORDS)
    assert to_bool(" Yes ") is True and to_bool(True) is True and to_bool(False) is False
    assert to_bool("maybe") is None and to_bool("y") is None
    assert to_bool("y", true=(*TRUE_WORDS, "y")) is True


@pytest.mark.parametrize("value, expected", [
    (True, 1), (False, 0), (0, 0), (1, 1), ("0", 0), ("1", 1), (1.0, 1), (2, None), (" 1", None), ("yes", None), ([], None),
])
def test_zero_one(value, expected):
    assert zero_one(value) == expected
