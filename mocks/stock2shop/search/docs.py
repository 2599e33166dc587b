"""Searchable documents: dotted-path extraction (arrays of objects contribute every element, as
Elasticsearch's object mapping does) and :class:`Doc`, which extracts each field's values lazily
and keeps them; :class:`DocCache` reuses them while the store hands out the same objects."""
from __future__ import annotations

from typing import Any, Iterable

from mocks.stock2shop.search.values import Json, sort_key, tokens

def flatten(doc: Json, prefix: str = "") -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if path:
                out.setdefault(path, [])  # the object itself exists
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            out.setdefault(path, [])
            for item in node:
                walk(item, path)
        elif node is not None:
            out.setdefault(path, []).append(node)

    walk(doc, prefix)
    return out


def extract(node: Any, parts: list[str], leaves_only: bool = True) -> list[Any]:
    """Values at a dotted path; arrays at any level contribute every element."""
    out: list[Any] = []

    def walk(n: Any, i: int) -> None:
        if isinstance(n, list):
            for x in n:
                walk(x, i)
            return
        if i == len(parts):
            if n is not None and (not leaves_only or not isinstance(n, dict)):
                if isinstance(n, dict) and not n:
                    return
                out.append(n)
            return
        if isinstance(n, dict):
            child = n.get(parts[i], _MISSING)
            if child is not _MISSING:
                walk(child, i + 1)

    walk(node, 0)
    return out


_MISSING = object()


class Doc:
    """One searchable document: its id, its source and, lazily per field, its values."""

    __slots__ = ("id", "source", "prefix", "_vals", "_keys", "_nested", "_tokens", "_flat")

    def __init__(self, doc_id: str, source: Json, prefix: str = "") -> None:
        self.id = doc_id
        self.source = source
        self.prefix = prefix
        # per-field caches, created on first use (an index over 100,000 documents keeps them all)
        self._vals: dict[str, list[Any]] | None = None
        self._keys: dict[str, list[tuple[int, Any]]] | None = None
        self._nested: dict[str, list[Doc]] | None = None
        self._tokens: dict[str, list[list[str]]] | None = None
        self._flat: dict[str, list[Any]] | None = None

    def _parts(self, field: str) -> list[str] | None:
        if self.prefix:
            if not field.startswith(self.prefix + "."):
                return None
            field = field[len(self.prefix) + 1:]
        return field.split(".")

    def values(self, field: str, cache: bool = True) -> list[Any]:
        """The field's values (``cache=False``: not kept, for one-off passes such as index builds)."""
        vals = self._vals
        hit = None if vals is None else vals.get(field)
        if hit is None:
            if not self.prefix and "." not in field and type(self.source) is dict:
                # a top-level field holding a scalar (the common case): no path walk, nothing kept
                v = self.source.get(field)
                if v is None:
                    return []
                if not isinstance(v, (dict, list)):
                    return [v]
            name = field[: -len(".keyword")] if field.endswith(".keyword") else field
            parts = self._parts(name)
            hit = [] if parts is None else extract(self.source, parts)
            if cache:
                if vals is None:
                    vals = self._vals = {}
                vals[field] = hit
        return hit

    def present(self, field: str) -> bool:
        if self.values(field):
            return True
        parts = self._parts(field)
        return bool(parts) and bool(extract(self.source, parts, leaves_only=False))

    def keys(self, field: str) -> list[tuple[int, Any]]:
        hit = None if self._keys is None else self._keys.get(field)
        if hit is None:
            hit = [sort_key(v) for v in self.values(field)]
            if self._keys is None:
                self._keys = {}
            self._keys[field] = hit
        return hit

    def keys_once(self, field: str) -> list[tuple[int, Any]]:
        """Sort keys without keeping them (index builds)."""
        hit = None if self._keys is None else self._keys.get(field)
        return hit if hit is not None else [sort_key(v) for v in self.values(field, cache=False)]

    def token_lists(self, field: str) -> list[list[str]]:
        hit = None if self._tokens is None else self._tokens.get(field)
        if hit is None:
            hit = [tokens(v) for v in self.values(field)]
            if self._tokens is None:
                self._tokens = {}
            self._tokens[field] = hit
        return hit

    def nested(self, path: str) -> list["Doc"]:
        hit = None if self._nested is None else self._nested.get(path)
        if hit is None:
            if self._nested is None:
                self._nested = {}
            parts = self._parts(path)
            elements = [] if parts is None else extract(self.source, parts, leaves_only=False)
            hit = [Doc(self.id, e, path) for e in elements if isinstance(e, dict)]
            self._nested[path] = hit
        return hit

    def field_names(self) -> Iterable[str]:
        if self._flat is None:
            self._flat = flatten(self.source, self.prefix)
        return self._flat.keys()


class DocCache:
    """Flattened documents per key, reused while the store hands out the same object."""

    def __init__(self) -> None:
        self._docs: dict[str, Doc] = {}

    def docs(self, items: list[tuple[str, Json]]) -> list[Doc]:
        out = []
        cache = self._docs
        for key, value in items:
            doc = cache.get(key)
            if doc is None or doc.source is not value:
                doc = Doc(key, value)
                cache[key] = doc
            out.append(doc)
        if len(cache) > len(items) * 2 + 1000:  # drop deleted documents now and then
            live = {k for k, _ in items}
            for key in [k for k in cache if k not in live]:
                del cache[key]
        return out
