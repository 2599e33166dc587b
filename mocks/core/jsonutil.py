"""Fast JSON for what the sandbox writes itself (responses, stored state, the journal).

orjson encodes and decodes several times faster than the standard library; what it cannot
encode (integers beyond 64 bits, non-string keys, Decimal) falls back to :mod:`json` with
the same compact output, marked by one leading space so that :func:`loads` reads it back with
:mod:`json` too (orjson would turn a big integer into a float). Request bodies are *not* parsed here: the gateway's strict parser
(duplicate keys, NaN) stays on the standard library.
"""
from __future__ import annotations

import json
from typing import Any

import orjson

_std = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumpb(obj: Any) -> bytes:
    """Compact UTF-8 JSON bytes."""
    try:
        return orjson.dumps(obj)
    except TypeError:  # orjson.JSONEncodeError: big ints, int keys, ...
        return b" " + _std(obj).encode("utf-8")


def dumps(obj: Any) -> str:
    """Compact JSON text."""
    try:
        return orjson.dumps(obj).decode("utf-8")
    except TypeError:
        return " " + _std(obj)


def loads(data: str | bytes) -> Any:
    if data[:1] in (" ", b" "):  # written by the fallback encoder: exact big integers
        return json.loads(data)
    return orjson.loads(data)
