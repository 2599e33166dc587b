"""The one set of number, boolean and blank-text parsing helpers.

Every reading of a number or a yes/no from loose input (query text, queued JSON payloads,
scenario options) goes through :func:`to_number`, :func:`to_int` or :func:`to_bool`; what an API
then does with the result (a default, a clamp, rounding, an error of its own) stays with the API.
The rule about what counts as a number is made here, in one place: only ASCII digits are digits
(``int("٣")`` is 3 in Python, never in an HTTP API); :data:`ASCII_INT`, :data:`ASCII_NUMBER` and
:func:`is_ascii_digits` for the grammars that need a pattern or a check.

Not routed through here (their own grammars, each ASCII-only too: ``re.ASCII`` or the patterns
below): the gateway's parameter coercion (``mocks.core.contracts``), the search DSL's
``from``/``size`` and ``minimum_should_match`` (``mocks.stock2shop.search``), PrintXpand's decimal
and count fields (``mocks.printxpand.models.fields``) and the JSON Schema patterns.

What counts as *blank* text is made here too: :data:`NOT_BLANK` for a contract's ``pattern``
and :func:`is_blank` for a model, one definition for both, so a value passes the contract iff
the model does not refuse it as blank.
"""
from __future__ import annotations

import math
import re
from typing import Any

#: the words :func:`to_bool` reads as yes and no by default (lower case, compared after strip())
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")

#: an optionally signed whole number in ASCII digits only (``\d`` and ``int()`` also take "٣")
ASCII_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
#: a decimal number in ASCII: 12, -1.5, .5, 1e3
ASCII_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
_INT = ASCII_INT

#: A JSON Schema ``pattern`` a string matches iff it holds a character that is not blank. Blank
#: characters: what ``str.isspace()`` (so ``str.strip()`` and Python's ``\s``) calls whitespace,
#: U+001C-U+001F and U+0085 among them, plus U+FEFF, which ECMAScript's ``\s`` adds. Written out
#: rather than built on ``\s``, which means a different set in each regex dialect (ECMAScript's
#: lacks U+001C-U+001F and U+0085, Rust's U+001C-U+001F, Go's and Java's are ASCII only): a
#: schema-driven generator (schemathesis) sent "\x1f" for ``\S`` and the model refused it. Only
#: ``\xHH`` and ``\uHHHH`` escapes, which ECMAScript, Python's ``re`` and Rust's ``regex`` read alike.
NOT_BLANK = r"[^\x09-\x0d\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_NOT_BLANK = re.compile(NOT_BLANK)


def is_ascii_digits(text: Any) -> bool:
    """True for a non-empty string of the ASCII digits 0-9 only (what ``str.isdigit`` should mean)."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def is_blank(text: str) -> bool:
    """True when ``text`` is empty or all blank characters (exactly the strings :data:`NOT_BLANK`
    refuses)."""
    return _NOT_BLANK.search(text) is None


def to_number(value: Any) -> float | None:
    """The number a value holds: an int or float as it is, a string that reads as one (surrounding
    whitespace allowed; ``float()``'s grammar, so ``"1e3"``, ``"nan"``, ``"inf"`` too), else None.
    Booleans are not numbers. A float too large for an int raises OverflowError, as ``float()``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text or not text.isascii():  # only ASCII digits are digits: float("٣") is 3.0
            return None
        try:
            return float(text)
        except ValueError:
            return None
    return None


def finite(number: float | None) -> float | None:
    """``number`` unless it is None, NaN or infinite."""
    return number if number is not None and math.isfinite(number) else None


def to_int(value: Any) -> int | None:
    """A whole number given as an int or as a string of digits with an optional sign (surrounding
    whitespace allowed), else None. Booleans and floats (even ``5.0``) are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value)
    return None


def to_bool(value: Any, true: tuple[str, ...] = TRUE_WORDS, false: tuple[str, ...] = FALSE_WORDS) -> bool | None:
    """A boolean as it is; otherwise its text, stripped and lower-cased, looked up in ``true`` and
    ``false``; None when it is in neither."""
    if isinstance(value, bool):
        return value
    low = str(value).strip().lower()
    if low in true:
        return True
    if low in false:
        return False
    return None


def zero_one(value: Any) -> int | None:
    """A 0/1 flag: a boolean, the numbers 0 and 1, or exactly the strings ``"0"``/``"1"``; else None."""
    if isinstance(value, bool):
        return int(value)
    if value in (0, 1, "0", "1"):
        return int(value)
    return None
