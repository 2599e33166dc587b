"""Values as the search sees them: tokens, dates (and date math on the sandbox clock), numbers,
Elasticsearch's term equality and the sort keys every part compares with."""
from __future__ import annotations

import calendar
import contextvars
import datetime as dt
import re
from functools import lru_cache
from typing import Any

from mocks.core.coerce import is_ascii_digits, to_number

Json = Any
_TOKEN = re.compile(r"[0-9a-z]+")


class SearchError(ValueError):
    """The query cannot be evaluated (unsupported or malformed clause)."""


def tokens(value: Any) -> list[str]:
    if value is None or isinstance(value, bool):
        return [str(value).lower()] if isinstance(value, bool) else []
    return _TOKEN.findall(str(value).lower())


_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$", re.ASCII)


def _parse_date_text(value: str) -> float | None:
    # the common shape, ``2021-08-27 08:23:04``: the day from a cache, the time by arithmetic
    # (an index over 100,000 products parses as many distinct dates when it is built)
    if len(value) == 19 and value[10] in " T" and value[13] == ":" and value[16] == ":":
        hms = value[11:13] + value[14:16] + value[17:19]
        if hms.isascii() and hms.isdigit():
            day = _parse_full(value[:10])
            h, mi, sec = int(hms[:2]), int(hms[2:4]), int(hms[4:])
            if day is None or h > 23 or mi > 59 or sec > 59:
                return None
            return day + (h * 3600 + mi * 60 + sec)
    return _parse_full(value)


@lru_cache(maxsize=65_536)
def _parse_full(value: str) -> float | None:
    m = _DATE_RE.match(value)
    if m is None:
        return None
    y, mo, d, h, mi, sec, tz = m.groups()
    try:
        dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))  # validates ranges
    except ValueError:
        return None
    ts = calendar.timegm((int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0), 0, 0, 0))
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        ts -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return float(ts)


def parse_date(value: Any) -> float | None:
    """Epoch seconds of a date string (``2021-08-27 08:23:04``, ``2021-08-27``, ISO-8601), else None."""
    if not isinstance(value, str) or len(value) < 10 or not is_ascii_digits(value[:4]):
        return None
    return _parse_date_text(value)


#: what ``now`` means in date math while a search runs (set by :func:`mocks.stock2shop.search.search`)
#: (a float, or a function giving it: the sandbox clock is read only by a search that uses ``now``,
#: so that any other search's answer can be cached, mocks.core.cache)
_NOW: contextvars.ContextVar[Any] = contextvars.ContextVar("s2s_search_now", default=None)
_MATH = re.compile(r"([+-])(\d+)([yMwdhHms])", re.ASCII)
_UNIT = {"y": 365 * 86_400, "M": 30 * 86_400, "w": 7 * 86_400, "d": 86_400, "h": 3_600, "H": 3_600, "m": 60, "s": 1}


def date_math(expr: str) -> float:
    """``now``, ``now-1d``, ``now+2h``, ``now-1d/d`` (months are 30 days, years 365)."""
    now = _NOW.get()
    if callable(now):
        now = now()
    if now is None:
        now = dt.datetime.now(dt.timezone.utc).timestamp()
    rest, _, rounding = expr[3:].partition("/")
    pos = 0
    for m in _MATH.finditer(rest):
        if m.start() != pos:
            break
        amount = int(m.group(2)) * _UNIT[m.group(3)]
        now += amount if m.group(1) == "+" else -amount
        pos = m.end()
    if pos != len(rest) or (rounding and rounding not in _UNIT):
        raise SearchError(f"cannot parse date math [{expr}]")
    if rounding:
        unit = _UNIT[rounding]
        now -= now % unit
    return now


def same_value(stored: Any, wanted: Any) -> bool:
    """Term equality with Elasticsearch's coercions (``"47" == 47``, ``"true" == true``)."""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return str(stored).lower() == str(wanted).lower()
    if stored == wanted:
        return True
    a, b = to_number(stored), to_number(wanted)
    if a is not None and b is not None:
        return a == b
    return False


def sort_key(value: Any) -> tuple[int, Any]:
    """Comparable key: numbers, then dates (as epoch ms), then strings."""
    num = to_number(value) if not isinstance(value, str) else None
    if num is not None:
        return (0, num)
    date = parse_date(value)
    if date is not None:
        return (0, date * 1000)
    if isinstance(value, str):
        num = to_number(value)
        if num is not None:
            return (0, num)
        return (1, value.lower())
    if isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


def sort_value(value: Any) -> Any:
    """What Elasticsearch reports in ``hits.hits[].sort``: dates as epoch milliseconds."""
    date = parse_date(value)
    if date is not None:
        return int(date * 1000)
    if isinstance(value, bool):
        return int(value)
    return value


def _int_param(body: Json, name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool):
        raise SearchError(f"[{name}] must be an integer")
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value, re.ASCII):
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise SearchError(f"[{name}] must be a non-negative integer")
    return value


#: Java date pattern letters (Elasticsearch's ``format``) -> strftime, longest first
_JAVA = [("yyyy", "%Y"), ("uuuu", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"),
         ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("SSS", "{ms}"), ("EEEE", "%A"), ("EEE", "%a"),
         ("a", "%p"), ("XXX", "+00:00"), ("Z", "+0000"), ("X", "Z")]




def java_to_strftime(fmt: str) -> str:
    """An Elasticsearch (Java) date pattern as a strftime/strptime pattern (``'quoted'`` text kept;
    ``SSS`` becomes ``{ms}`` for the caller); an unknown letter is Elasticsearch's error."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "'":
            end = fmt.find("'", i + 1)
            end = len(fmt) if end < 0 else end
            out.append(fmt[i + 1:end].replace("%", "%%"))
            i = end + 1
            continue
        for java, py in _JAVA:
            if fmt.startswith(java, i):
                out.append(py)
                i += len(java)
                break
        else:
            if fmt[i].isalpha():
                raise SearchError(f"illegal_argument_exception: Invalid format: [{fmt}]: Unknown pattern letter: {fmt[i]}")
            out.append(fmt[i].replace("%", "%%"))
            i += 1
    return "".join(out)


#: fields Stock2Shop maps as dates (the documents' ``created``/``modified`` and their kin)
DATE_SUFFIXES = ("_date", "_at", "_time")


def is_date_field(field: str) -> bool:
    last = field.rsplit(".", 1)[-1]
    return last in ("created", "modified", "date", "timestamp") or last.endswith(DATE_SUFFIXES)


def parse_bound_date(field: str, value: Any, fmt: str | None) -> float | None:
    """A range bound on a date field, in epoch milliseconds: with ``format`` (Java letters, or
    ``epoch_millis``/``epoch_second``, ``||``-separated alternatives) or the default formats; None
    when it is not a date field and no format is given. An unparsable value is Elasticsearch's 400."""
    if fmt is None and not is_date_field(field):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)  # epoch milliseconds, as Elasticsearch reads a number for a date
    text = str(value)
    for one in (fmt or "strict_date_optional_time||epoch_millis").split("||"):
        if one == "epoch_millis" and is_ascii_digits(text.lstrip("-")):
            return float(text)
        if one == "epoch_second" and is_ascii_digits(text.lstrip("-")):
            return float(text) * 1000
        if one in ("strict_date_optional_time", "date_optional_time", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"):
            ts = parse_date(text)
            if ts is not None:
                return ts * 1000
            continue
        if one in ("epoch_millis", "epoch_second"):
            continue
        try:
            when = dt.datetime.strptime(text, java_to_strftime(one).replace("{ms}", "%f"))
        except ValueError:
            continue
        return when.replace(tzinfo=dt.timezone.utc).timestamp() * 1000
    raise SearchError(f"parse_exception: failed to parse date field [{text}] with format "
                      f"[{fmt or 'strict_date_optional_time||epoch_millis'}]")
