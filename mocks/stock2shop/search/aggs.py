"""Aggregations: ``terms`` (with sub-aggregations), ``date_histogram`` (calendar and fixed
intervals, UTC, ``format``), ``filter`` (with sub-aggregations), ``top_hits`` and the metrics
``min``, ``max``, ``avg``, ``sum``, ``value_count``, ``cardinality`` (``min``/``max`` of a date
field: epoch milliseconds and ``value_as_string``, as Elasticsearch answers)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from mocks.core.coerce import to_number
from mocks.stock2shop.search.docs import Doc
from mocks.stock2shop.search.query import compile_query
from mocks.stock2shop.search.values import Json, SearchError, _int_param, java_to_strftime, parse_date, sort_key

_AGG_METRICS = ("min", "max", "avg", "sum", "value_count", "cardinality")
MAX_BUCKETS = 65_536  # Elasticsearch's search.max_buckets
DATE_FORMAT = "yyyy-MM-dd HH:mm:ss"  # how Stock2Shop's date fields are written (and answered back)
def format_date(ms: int, fmt: str | None) -> str:
    """Epoch milliseconds in an Elasticsearch date ``format`` (Java letters, ``'quoted'`` text,
    ``epoch_millis``, ``epoch_second``, the ``strict_date_optional_time`` family); the
    default is the fields' own ``yyyy-MM-dd HH:mm:ss``."""
    fmt = (fmt or DATE_FORMAT).split("||")[0]
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    if fmt == "epoch_millis":
        return str(ms)
    if fmt == "epoch_second":
        return str(ms // 1000)
    if fmt in ("strict_date_optional_time", "date_optional_time", "strict_date_time", "date_time"):
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    if fmt in ("strict_date", "date", "yyyy-MM-dd"):
        return when.strftime("%Y-%m-%d")
    return when.strftime(java_to_strftime(fmt)).replace("{ms}", f"{ms % 1000:03d}")


def _aggregate(docs: list[Doc], aggs: Json) -> dict[str, Any]:
    if not isinstance(aggs, dict):
        raise SearchError("[aggs] must be an object")
    out: dict[str, Any] = {}
    for name, spec in aggs.items():
        if not isinstance(spec, dict):
            raise SearchError(f"aggregation [{name}] must be an object")
        sub = spec.get("aggs", spec.get("aggregations"))
        kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
        if len(kinds) != 1:
            raise SearchError(f"aggregation [{name}] must have exactly one type")
        kind = kinds[0]
        params = spec[kind]
        if kind == "filter":
            matcher = compile_query(params)
            members = [doc for doc in docs if matcher(doc) is not None]
            out[name] = {"doc_count": len(members), **(_aggregate(members, sub) if sub else {})}
            continue
        if kind == "top_hits":
            out[name] = _top_hits(docs, name, params, sub)
            continue
        if not isinstance(params, dict) or not isinstance(params.get("field"), str):
            raise SearchError(f"aggregation [{name}] of type [{kind}] requires [field]")
        field = params["field"]
        if kind == "date_histogram":
            out[name] = _date_histogram(docs, name, field, params, sub)
        elif kind == "terms":
            size = _int_param(params, "size", 10)
            counts: dict[Any, list[Doc]] = {}
            for doc in docs:
                seen = set()
                for v in doc.values(field):
                    key = v if not isinstance(v, float) or not v.is_integer() else v
                    if key in seen:
                        continue
                    seen.add(key)
                    counts.setdefault(key, []).append(doc)
            ordered = sorted(counts.items(), key=lambda kv: (-len(kv[1]), sort_key(kv[0])))
            buckets = []
            for key, members in ordered[:size]:
                bucket: dict[str, Any] = {"key": key, "doc_count": len(members)}
                if sub:
                    bucket.update(_aggregate(members, sub))
                buckets.append(bucket)
            out[name] = {"doc_count_error_upper_bound": 0,
                         "sum_other_doc_count": sum(len(m) for _, m in ordered[size:]), "buckets": buckets}
        elif kind in _AGG_METRICS:
            if sub:
                raise SearchError(f"metric aggregation [{name}] cannot have sub-aggregations")
            raw = [v for doc in docs for v in doc.values(field)]
            if kind == "value_count":
                out[name] = {"value": len(raw)}
            elif kind == "cardinality":
                out[name] = {"value": len({str(v) for v in raw})}
            elif kind in ("min", "max") and raw and all(parse_date(v) is not None for v in raw):
                # a date field: epoch milliseconds and value_as_string, as Elasticsearch answers
                stamps = [int(round(parse_date(v) * 1000)) for v in raw]  # type: ignore[operator]
                ms = min(stamps) if kind == "min" else max(stamps)
                out[name] = {"value": float(ms), "value_as_string": format_date(ms, params.get("format"))}
            else:
                nums = [n for n in (to_number(v) for v in raw) if n is not None]
                if kind == "min":
                    value = min(nums) if nums else None
                elif kind == "max":
                    value = max(nums) if nums else None
                elif kind == "sum":
                    value = sum(nums)
                else:
                    value = sum(nums) / len(nums) if nums else None
                out[name] = {"value": value}
        else:
            raise SearchError(f"unsupported aggregation type [{kind}]")
    return out


_CALENDAR = {"minute": "m", "1m": "m", "hour": "h", "1h": "h", "day": "d", "1d": "d", "week": "w", "1w": "w",
             "month": "M", "1M": "M", "quarter": "q", "1q": "q", "year": "y", "1y": "y"}
_FIXED = re.compile(r"^(\d+)(ms|s|m|h|d)$", re.ASCII)
_FIXED_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3_600, "d": 86_400}


def _bucket_start(ts: float, unit: str) -> float:
    """Start (epoch seconds, UTC) of the calendar bucket holding ``ts``."""
    d = dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)
    if unit == "m":
        d = d.replace(second=0, microsecond=0)
    elif unit == "h":
        d = d.replace(minute=0, second=0, microsecond=0)
    elif unit == "d":
        d = d.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "w":  # ISO weeks start on Monday, as Elasticsearch's
        d = (d - dt.timedelta(days=d.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "M":
        d = d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "q":
        d = d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        d = d.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return d.timestamp()


def _bucket_next(start: float, unit: str) -> float:
    d = dt.datetime.fromtimestamp(start, tz=dt.timezone.utc)
    if unit in ("m", "h", "d", "w"):
        return start + {"m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400}[unit]
    months = {"M": 1, "q": 3, "y": 12}[unit]
    month = d.month - 1 + months
    return d.replace(year=d.year + month // 12, month=month % 12 + 1).timestamp()


def _date_histogram(docs: list[Doc], name: str, field: str, params: dict[str, Any], sub: Any) -> dict[str, Any]:
    unknown = set(params) - {"field", "calendar_interval", "fixed_interval", "interval", "format",
                             "min_doc_count", "time_zone", "order", "keyed"}
    if unknown:
        raise SearchError(f"[date_histogram] aggregation [{name}] does not support [{sorted(unknown)[0]}]")
    if params.get("time_zone") not in (None, "UTC", "Z", "+00:00", "00:00"):
        raise SearchError(f"[date_histogram] aggregation [{name}]: only time_zone UTC is supported")
    if params.get("order") is not None or params.get("keyed"):
        raise SearchError(f"[date_histogram] aggregation [{name}]: [order] and [keyed] are not supported")
    spec = params.get("calendar_interval", params.get("fixed_interval", params.get("interval")))
    if not isinstance(spec, str) or not spec:
        raise SearchError(f"[date_histogram] aggregation [{name}] requires [calendar_interval] or [fixed_interval]")
    unit = _CALENDAR.get(spec) if "fixed_interval" not in params else None
    step = 0.0
    if unit is None:
        m = _FIXED.match(spec)
        if m is None or int(m.group(1)) <= 0:
            raise SearchError(f"[date_histogram] aggregation [{name}]: cannot parse interval [{spec}]")
        step = int(m.group(1)) * _FIXED_UNIT[m.group(2)]
    min_count = _int_param(params, "min_doc_count", 0)
    groups: dict[float, list[Doc]] = {}
    for doc in docs:
        seen: set[float] = set()
        for v in doc.values(field):
            ts = parse_date(v)
            if ts is None:
                n = to_number(v)
                ts = None if n is None else n / 1000  # epoch milliseconds, as Elasticsearch dates
            if ts is None:
                continue
            start = _bucket_start(ts, unit) if unit else ts - ts % step
            if start not in seen:
                seen.add(start)
                groups.setdefault(start, []).append(doc)
    starts = sorted(groups)
    if min_count == 0 and starts:  # Elasticsearch fills the empty buckets between the first and the last
        filled, cur = [], starts[0]
        while cur <= starts[-1] and len(filled) <= MAX_BUCKETS:
            filled.append(cur)
            cur = _bucket_next(cur, unit) if unit else cur + step
        if len(filled) > MAX_BUCKETS:
            raise SearchError(f"Trying to create too many buckets. Must be less than or equal to: [{MAX_BUCKETS}] "
                              f"but was [{len(filled)}]. This limit can be set by changing the "
                              "[search.max_buckets] cluster level setting.")
        starts = filled
    buckets = []
    for start in starts:
        members = groups.get(start, [])
        if len(members) < min_count:
            continue
        key = int(start * 1000)
        bucket: dict[str, Any] = {"key_as_string": format_date(key, params.get("format")), "key": key,
                                  "doc_count": len(members)}
        if sub:
            bucket.update(_aggregate(members, sub))
        buckets.append(bucket)
    return {"buckets": buckets}


def _top_hits(docs: list[Doc], name: str, params: Any, sub: Any) -> dict[str, Any]:
    """The bucket's first ``size`` documents (default 3; ``from``), in id order unless ``sort``
    names one field; ``_source`` false or a list of fields."""
    if not isinstance(params, dict):
        raise SearchError(f"[top_hits] aggregation [{name}] must be an object")
    if sub:
        raise SearchError(f"Aggregator [{name}] of type [top_hits] cannot accept sub-aggregations")
    size, start = _int_param(params, "size", 3), _int_param(params, "from", 0)
    ordered = list(docs)
    sort = params.get("sort")
    if sort:
        first = sort[0] if isinstance(sort, list) else sort
        field, order = (first, "asc") if isinstance(first, str) else next(iter(first.items()))
        order = order.get("order", "asc") if isinstance(order, dict) else order
        ordered.sort(key=lambda d: sort_key(next(iter(d.values(field)), None)), reverse=order == "desc")
    source = params.get("_source", True)
    hits = []
    for doc in ordered[start:start + size]:
        hit: dict[str, Any] = {"_id": str(doc.id), "_score": None if sort else 1.0}
        if source is True:
            hit["_source"] = doc.source
        elif isinstance(source, list):
            hit["_source"] = {k: doc.source[k] for k in source if isinstance(k, str) and k in doc.source}
        hits.append(hit)
    return {"hits": {"total": len(docs), "max_score": None if sort else (1.0 if docs else None), "hits": hits}}
