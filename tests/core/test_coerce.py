"""mocks.core.coerce: the one reading of numbers, booleans and blank text from loose input."""
from __future__ import annotations

import json
import math
import re

import pytest

from mocks.core.coerce import (FALSE_WORDS, NOT_BLANK, TRUE_WORDS, finite, is_blank, to_bool, to_int, to_number,
                               zero_one)


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


def test_blank_is_pythons_whitespace_and_the_bom_for_the_pattern_and_the_model_alike():
    """NOT_BLANK refuses exactly the characters str.isspace() takes (so str.strip() and Python's
    ``\\s``: U+001C-U+001F and U+0085 among them) and U+FEFF (ECMAScript's ``\\s`` adds it), and
    is_blank is that pattern; spelled without ``\\s``/``\\S``, whose meaning differs by dialect."""
    pattern = re.compile(NOT_BLANK)
    wrong = [hex(c) for c in range(0x110000)
             if (pattern.search(chr(c)) is None) != (chr(c).isspace() or c == 0xFEFF)]
    assert wrong == []
    assert "\\s" not in NOT_BLANK.lower()
    for text, blank in (("", True), (" \x1c\t\x1f", True), ("\x85\ufeff\u3000\xa0", True),
                        (" a\x1f", False), ("\ufeff.", False), ("\x00", False)):
        assert is_blank(text) is blank, repr(text)
        assert (re.search(NOT_BLANK, text) is None) is blank


def test_no_contract_says_non_blank_another_way():
    """Every contract's "must hold a non-blank character" is NOT_BLANK (hand-written ones too), and
    no pattern anywhere uses ``\\S``."""
    from mocks.core.contracts import schemas_root

    found = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    assert "\\S" not in value, where
                    found.append((where, value))
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{where}/{n}")

    for path in sorted(schemas_root().glob("*/*.schema.json")):
        walk(json.loads(path.read_text(encoding="utf-8")), path.name)
    non_blank = {where for where, value in found if value == NOT_BLANK}
    assert "webhook.schema.json/$defs/write/properties/name" in non_blank
    assert "category-create.schema.json/$defs/category/properties/name" in non_blank
