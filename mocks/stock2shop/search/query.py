"""Query clauses: :func:`compile_query` turns a clause into a matcher, a function doc -> score
(``None``: no match). ``bool`` (must, filter, should + minimum_should_match, must_not),
``match_all``, ``match_none``, ``term``, ``terms``, ``range``, ``match``, ``match_phrase``,
``multi_match``, ``exists``, ``prefix``, ``wildcard``, ``ids``, ``nested`` and ``constant_score``;
anything else raises :class:`SearchError` naming the clause."""
from __future__ import annotations

import contextvars
import fnmatch
import math
import re
from typing import Any, Callable

from mocks.stock2shop.search.docs import Doc
from mocks.stock2shop.search.values import (Json, SearchError, date_math, parse_bound_date, same_value, sort_key,
                                            tokens)

Matcher = Callable[[Doc], "float | None"]   # None: no match; a float: the match's score


def _single_field(clause: Json, name: str) -> tuple[str, Any]:
    if not isinstance(clause, dict) or len(clause) != 1:
        raise SearchError(f"[{name}] query expects exactly one field, got {clause!r}"[:300])
    field, value = next(iter(clause.items()))
    if not isinstance(field, str) or not field:
        raise SearchError(f"[{name}] field name must be a non-empty string")
    return field, value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _min_should(spec: Any, count: int, default: int) -> int:
    if spec is None:
        return default
    if isinstance(spec, bool):
        raise SearchError("[minimum_should_match] must be an integer or a percentage")
    if isinstance(spec, int):
        n = spec
    elif isinstance(spec, str) and re.fullmatch(r"-?\d+%", spec.strip(), re.ASCII):
        pct = int(spec.strip()[:-1])
        n = int(count * pct / 100) if pct >= 0 else count - int(count * -pct / 100)
    elif isinstance(spec, str) and re.fullmatch(r"-?\d+", spec.strip(), re.ASCII):
        n = int(spec)
    else:
        raise SearchError(f"[minimum_should_match] cannot parse {spec!r}")
    if n < 0:
        n = count + n
    return max(0, min(n, count))


def compile_query(query: Json) -> Matcher:
    """Turn a query clause into a function doc -> score or None."""
    if not isinstance(query, dict) or len(query) != 1:
        raise SearchError("a query clause must be an object with exactly one key, e.g. {\"match_all\": {}}")
    kind, body = next(iter(query.items()))
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise SearchError(f"unsupported query clause [{kind}]")
    return builder(body)


def _match_all(body: Json) -> Matcher:
    if not isinstance(body, dict):
        raise SearchError("[match_all] expects an object")
    boost = float(body.get("boost", 1.0))
    return lambda doc: boost


def _match_none(body: Json) -> Matcher:
    return lambda doc: None


def _bool(body: Json) -> Matcher:
    if not isinstance(body, dict):
        raise SearchError("[bool] expects an object")
    unknown = set(body) - {"must", "filter", "should", "must_not", "minimum_should_match", "boost"}
    if unknown:
        raise SearchError(f"[bool] does not support [{sorted(unknown)[0]}]")
    must = [compile_query(q) for q in _as_list(body.get("must"))]
    filt = [compile_query(q) for q in _as_list(body.get("filter"))]
    should = [compile_query(q) for q in _as_list(body.get("should"))]
    must_not = [compile_query(q) for q in _as_list(body.get("must_not"))]
    needed = _min_should(body.get("minimum_should_match"), len(should), 0 if (must or filt) else min(1, len(should)))

    def run(doc: Doc) -> float | None:
        score = 0.0
        for m in must:
            s = m(doc)
            if s is None:
                return None
            score += s
        for m in filt:
            if m(doc) is None:
                return None
        for m in must_not:
            if m(doc) is not None:
                return None
        hits = 0
        for m in should:
            s = m(doc)
            if s is not None:
                hits += 1
                score += s
        if hits < needed:
            return None
        if not must and not should:
            return 0.0 if filt or must_not else 1.0
        return score
    return run


def _constant_score(body: Json) -> Matcher:
    if not isinstance(body, dict) or "filter" not in body:
        raise SearchError("[constant_score] requires a [filter]")
    inner = compile_query(body["filter"])
    boost = float(body.get("boost", 1.0))
    return lambda doc: boost if inner(doc) is not None else None


def _field_params(clause: Json, name: str, key: str) -> tuple[str, dict[str, Any]]:
    field, value = _single_field(clause, name)
    if isinstance(value, dict):
        if key not in value:
            raise SearchError(f"[{name}] query for [{field}] is missing [{key}]")
        return field, value
    return field, {key: value}


def _term(body: Json) -> Matcher:
    field, params = _field_params(body, "term", "value")
    wanted = params["value"]
    if isinstance(wanted, (dict, list)):
        raise SearchError("[term] value must be a scalar")
    boost = float(params.get("boost", 1.0))
    if field == "_id":
        return lambda doc: boost if str(doc.id) == str(wanted) else None
    return lambda doc: boost if any(same_value(v, wanted) for v in doc.values(field)) else None


def _terms(body: Json) -> Matcher:
    if not isinstance(body, dict):
        raise SearchError("[terms] expects an object")
    fields = {k: v for k, v in body.items() if k != "boost"}
    if len(fields) != 1:
        raise SearchError("[terms] query expects exactly one field")
    field, wanted = next(iter(fields.items()))
    if not isinstance(wanted, list) or any(isinstance(w, (dict, list)) for w in wanted):
        raise SearchError("[terms] value must be an array of scalars")
    boost = float(body.get("boost", 1.0))
    if field == "_id":
        ids = {str(w) for w in wanted}
        return lambda doc: boost if str(doc.id) in ids else None
    return lambda doc: boost if any(same_value(v, w) for v in doc.values(field) for w in wanted) else None


def _range(body: Json) -> Matcher:
    field, params = _single_field(body, "range")
    if not isinstance(params, dict):
        raise SearchError("[range] expects an object of bounds")
    bounds = {k: v for k, v in params.items() if k in ("gt", "gte", "lt", "lte")}
    unknown = set(params) - {"gt", "gte", "lt", "lte", "format", "boost", "time_zone"}
    if unknown:
        raise SearchError(f"[range] does not support [{sorted(unknown)[0]}]")
    fmt = params.get("format")
    if fmt is not None and (not isinstance(fmt, str) or not fmt):
        raise SearchError("[range] [format] must be a date format string")
    checks: list[tuple[str, tuple[int, Any]]] = []
    for op, bound in bounds.items():
        if isinstance(bound, (dict, list)) or bound is None:
            raise SearchError(f"[range] bound [{op}] must be a number or a date")
        if isinstance(bound, str) and bound.startswith("now"):
            checks.append((op, (0, date_math(bound) * 1000)))
            continue
        ms = parse_bound_date(field, bound, fmt)  # a date field or a format: Elasticsearch's date parsing
        checks.append((op, (0, ms) if ms is not None else sort_key(bound)))
    boost = float(params.get("boost", 1.0))

    def ok(key: tuple[int, Any]) -> bool:
        for op, bound in checks:
            if key[0] != bound[0]:
                return False
            if op == "gt" and not key[1] > bound[1]:
                return False
            if op == "gte" and not key[1] >= bound[1]:
                return False
            if op == "lt" and not key[1] < bound[1]:
                return False
            if op == "lte" and not key[1] <= bound[1]:
                return False
        return True
    def run(doc: Doc) -> float | None:
        return boost if any(ok(k) for k in doc.keys(field)) else None
    run.bounds = checks  # type: ignore[attr-defined]  # read by DocIndex.plan
    return run


def _text_matcher(field: str, query: Any, operator: str, msm: Any, prefix_last: bool = False,
                  autocomplete: bool = False) -> Callable[[Doc], float | None]:
    wanted = tokens(query)
    operator = str(operator).lower()
    if operator not in ("or", "and"):
        raise SearchError(f"[operator] must be or/and, got {operator!r}")

    def present(doc: Doc, term: str) -> bool:
        for toks in doc.token_lists(field):
            if autocomplete:
                if any(t.startswith(term) for t in toks):
                    return True
            elif term in toks:
                return True
        return False

    def run(doc: Doc) -> float | None:
        if not wanted:
            return None
        found = [t for t in wanted if present(doc, t)]
        need = len(wanted) if operator == "and" else _min_should(msm, len(wanted), 1)
        if len(found) < max(need, 1):
            return None
        return bm25(doc, field, found, autocomplete)
    return run


# -- relevance: BM25 (Elasticsearch's default similarity, k1=1.2, b=0.75) ---------------------------
K1, B = 1.2, 0.75


class Corpus:
    """What BM25 needs besides the document: per field, how many documents hold it and their average
    length in tokens, and per term, how many documents hold it. Counted over the documents the search
    evaluates (its candidate set, after the request's own filters), lazily, once per field and term:
    the cost follows the hits evaluated, never the whole collection."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs
        self._fields: dict[str, tuple[int, float]] = {}
        self._df: dict[tuple[str, str, bool], int] = {}

    def field(self, field: str) -> tuple[int, float]:
        hit = self._fields.get(field)
        if hit is None:
            count = total = 0
            for doc in self.docs:
                length = sum(len(toks) for toks in doc.token_lists(field))
                if length:
                    count += 1
                    total += length
            hit = self._fields[field] = (count, total / count if count else 1.0)
        return hit

    def df(self, field: str, term: str, prefix: bool) -> int:
        key = (field, term, prefix)
        hit = self._df.get(key)
        if hit is None:
            hit = self._df[key] = sum(1 for doc in self.docs if _tf(doc.token_lists(field), term, prefix))
        return hit


CORPUS: contextvars.ContextVar[Corpus | None] = contextvars.ContextVar("s2s_search_corpus", default=None)


def _tf(lists: list[list[str]], term: str, prefix: bool) -> int:
    if prefix:
        return sum(1 for toks in lists for t in toks if t.startswith(term))
    return sum(toks.count(term) for toks in lists)


def bm25(doc: Doc, field: str, terms: Any, prefix: bool = False) -> float:
    """Sum over ``terms`` of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)), a value of a
    multi-valued field counting as one text (Elasticsearch concatenates them)."""
    lists = doc.token_lists(field)
    dl = sum(len(toks) for toks in lists)
    corpus = CORPUS.get()
    count, avgdl = corpus.field(field) if corpus is not None else (1, float(dl or 1))
    score = 0.0
    for term in terms:
        tf = _tf(lists, term, prefix)
        if not tf:
            continue
        df = max(1, corpus.df(field, term, prefix) if corpus is not None else 1)
        n = max(count, df)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * dl / (avgdl or 1.0)))
    return score


def _match(body: Json) -> Matcher:
    field, params = _field_params(body, "match", "query")
    base, auto = _field_and_mode(field)
    inner = _text_matcher(base, params["query"], params.get("operator", "or"),
                          params.get("minimum_should_match"), autocomplete=auto)
    boost = float(params.get("boost", 1.0))
    return lambda doc: None if (s := inner(doc)) is None else s * boost


def _match_phrase(body: Json) -> Matcher:
    field, params = _field_params(body, "match_phrase", "query")
    wanted = tokens(params["query"])
    boost = float(params.get("boost", 1.0))

    def run(doc: Doc) -> float | None:
        if not wanted:
            return None
        n = len(wanted)
        for toks in doc.token_lists(field):
            for i in range(len(toks) - n + 1):
                if toks[i:i + n] == wanted:
                    return float(n) * boost
        return None
    return run


def _field_and_mode(field: str) -> tuple[str, bool]:
    """``id.autocomplete`` is the edge-ngram sub-field of ``id``: prefix matching on its tokens."""
    if field.endswith(".autocomplete"):
        return field[: -len(".autocomplete")], True
    return field, False


def _multi_match(body: Json) -> Matcher:
    if not isinstance(body, dict) or "query" not in body:
        raise SearchError("[multi_match] requires [query]")
    fields = body.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise SearchError("[multi_match] requires [fields], an array of field names")
    mtype = body.get("type", "best_fields")
    if mtype not in ("best_fields", "most_fields", "cross_fields", "phrase", "phrase_prefix", "bool_prefix"):
        raise SearchError(f"[multi_match] does not support type [{mtype}]")
    operator = body.get("operator", "or")
    msm = body.get("minimum_should_match")
    per_field: list[tuple[str, float, bool]] = []
    for spec in fields:
        name, _, boost = spec.partition("^")
        try:
            weight = float(boost) if boost else 1.0
        except ValueError:
            raise SearchError(f"[multi_match] bad boost in field [{spec}]") from None
        base, auto = _field_and_mode(name)
        per_field.append((base, weight, auto or mtype in ("phrase_prefix", "bool_prefix")))
    wanted = tokens(body["query"])
    if str(operator).lower() not in ("or", "and"):
        raise SearchError(f"[operator] must be or/and, got {operator!r}")
    need_all = str(operator).lower() == "and"

    def expand(doc: Doc, pattern: str) -> list[str]:
        if "*" in pattern:
            return [f for f in doc.field_names() if fnmatch.fnmatchcase(f, pattern)]
        return [pattern]

    def run(doc: Doc) -> float | None:
        if not wanted:
            return None
        best = total = 0.0
        found_any: set[str] = set()
        per_term: dict[str, float] = {}
        for pattern, weight, auto in per_field:
            for field in expand(doc, pattern):
                lists = doc.token_lists(field)
                found = {t for t in wanted
                         if any((any(x.startswith(t) for x in toks) if auto else t in toks) for toks in lists)}
                if mtype in ("best_fields", "phrase", "phrase_prefix", "bool_prefix", "most_fields"):
                    # operator applies per field in best_fields (Elasticsearch's rule)
                    need = len(wanted) if need_all else _min_should(msm, len(wanted), 1)
                    if len(found) >= max(need, 1):
                        score = bm25(doc, field, found, auto) * weight
                        best, total = max(best, score), total + score
                elif found:  # cross_fields: each term scores in its best field
                    for t in found:
                        per_term[t] = max(per_term.get(t, 0.0), bm25(doc, field, [t], auto) * weight)
                found_any |= found
        if mtype == "cross_fields":
            need = len(wanted) if need_all else _min_should(msm, len(wanted), 1)
            return sum(per_term.values()) if len(found_any) >= max(need, 1) else None
        if mtype == "most_fields":  # Elasticsearch: the fields' scores add up
            return total if total > 0 else None
        return best if best > 0 else None
    return run


def _exists(body: Json) -> Matcher:
    if not isinstance(body, dict) or not isinstance(body.get("field"), str):
        raise SearchError("[exists] requires [field]")
    field = body["field"]
    return lambda doc: 1.0 if doc.present(field) else None


def _prefix(body: Json) -> Matcher:
    field, params = _field_params(body, "prefix", "value")
    wanted = str(params["value"])
    insensitive = bool(params.get("case_insensitive", False))
    w = wanted.lower() if insensitive else wanted

    def run(doc: Doc) -> float | None:
        for v in doc.values(field):
            s = str(v)
            if (s.lower() if insensitive else s).startswith(w):
                return 1.0
        return None
    return run


def _wildcard(body: Json) -> Matcher:
    field, params = _field_params(body, "wildcard", "value")
    pattern = str(params["value"])
    insensitive = bool(params.get("case_insensitive", False))
    regex = re.compile(fnmatch.translate(pattern), re.IGNORECASE if insensitive else 0)
    return lambda doc: 1.0 if any(regex.match(str(v)) for v in doc.values(field)) else None


def _ids(body: Json) -> Matcher:
    if not isinstance(body, dict) or not isinstance(body.get("values"), list):
        raise SearchError("[ids] requires [values], an array")
    ids = {str(v) for v in body["values"]}
    return lambda doc: 1.0 if str(doc.id) in ids else None


#: the lists of objects Stock2Shop's indexes map as ``nested`` (products, orders, customers)
NESTED_PATHS = frozenset({"variants", "images", "meta", "options", "channels", "price_tiers", "qty_availability",
                          "line_items", "sources", "addresses", "fulfillments", "shipping_lines", "segments"})


def _nested(body: Json) -> Matcher:
    if not isinstance(body, dict) or not isinstance(body.get("path"), str) or "query" not in body:
        raise SearchError("[nested] requires [path] and [query]")
    path = body["path"]
    if path.rsplit(".", 1)[-1] not in NESTED_PATHS and not body.get("ignore_unmapped"):
        raise SearchError(f"query_shard_exception: [nested] nested object under path [{path}] is not of nested type")
    inner = compile_query(body["query"])

    def run(doc: Doc) -> float | None:
        best = None
        for sub in doc.nested(path):
            s = inner(sub)
            if s is not None and (best is None or s > best):
                best = s
        return best
    return run


_BUILDERS: dict[str, Callable[[Json], Matcher]] = {
    "bool": _bool, "match_all": _match_all, "match_none": _match_none, "term": _term, "terms": _terms,
    "range": _range, "match": _match, "match_phrase": _match_phrase, "multi_match": _multi_match,
    "exists": _exists, "prefix": _prefix, "wildcard": _wildcard, "ids": _ids, "nested": _nested,
    "constant_score": _constant_score,
}
