"""Contracts: each API's OpenAPI 3.1 document and its JSON Schema 2020-12 files.

Layout: ``schemas/{api}/openapi.yaml`` refers to ``schemas/{api}/*.schema.json`` by relative
``$ref`` (``product.schema.json`` or ``product.schema.json#/$defs/variation``). On load the
files are bundled into one self-contained document: every schema file becomes
``#/components/schemas/{stem}`` and every reference is rewritten to point there. That document
is what ``GET /{prefix}/openapi.json`` serves and what requests and responses are validated
against (jsonschema + referencing, one validator per schema, built once).

Parameters arrive as strings; they are coerced to the declared type before validation, and a
value that cannot be coerced fails validation with the schema's own message.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import pickle
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Iterable

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

try:  # Rust JSON Schema validator: a fast "valid" verdict for large bodies
    import jsonschema_rs as _rs
except ImportError:  # pragma: no cover - it is a dependency; the Python validator still works
    _rs = None
from referencing.jsonschema import DRAFT202012

from mocks import resources
from mocks.core.coerce import ASCII_INT, ASCII_NUMBER

Json = Any
BASE_URI = "https://commerce-sandbox.invalid/"


def schemas_root() -> Traversable:
    """The schemas (package data, :func:`mocks.resources.schemas`)."""
    return resources.schemas()


def _stem(filename: str) -> str:
    name = os.path.basename(filename)
    for suffix in (".schema.json", ".json", ".yaml", ".yml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _rewrite_refs(node: Json, own: str | None) -> Json:
    """Point every $ref at ``#/components/schemas/...`` of the bundled document."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = _target(value, own)
            elif key in ("$id", "$schema") and own is not None:
                continue  # an embedded $id would change the base URI of everything below it
            else:
                out[key] = _rewrite_refs(value, own)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, own) for v in node]
    return node


def _target(ref: str, own: str | None) -> str:
    if ref.startswith("#"):
        if own is None:  # a ref inside the OpenAPI document itself
            return ref
        return f"#/components/schemas/{own}{ref[1:]}"
    path, _, fragment = ref.partition("#")
    return f"#/components/schemas/{_stem(path)}{fragment}"


_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _schema_files(folder: Traversable) -> list[Traversable]:
    return sorted((f for f in folder.iterdir() if f.name.endswith(".schema.json")), key=lambda f: f.name)


def load_document(api: str, root: Traversable | None = None) -> dict[str, Json]:
    """The bundled OpenAPI document of one API.

    Parsing the YAML was most of a restart's CPU: the bundled document is kept in the user's
    cache directory (:func:`_bundle_cache`) under a digest of every source file's bytes, so an
    edited or different schema is always parsed afresh; without a writable cache, it is parsed.
    """
    folder = (root or schemas_root()) / api
    source = (folder / "openapi.yaml").read_bytes()
    files = [(file.name, file.read_bytes()) for file in _schema_files(folder)]
    digest = hashlib.blake2b(_BUNDLE_FORMAT, digest_size=16)
    for name, data in [("openapi.yaml", source), *files]:
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    cached = _bundle_cache(f"{api}-{digest.hexdigest()}")
    if cached is not None:
        try:
            return pickle.loads(cached.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            pass
    doc = yaml.load(source.decode("utf-8"), Loader=_YamlLoader)  # libyaml when present
    doc = _rewrite_refs(doc, None)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, data in files:
        components[_stem(name)] = _rewrite_refs(json.loads(data.decode("utf-8")), _stem(name))
    if cached is not None:
        try:  # written whole, then renamed: a reader never sees half a file
            tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, cached)
        except OSError:
            pass
    return doc


_BUNDLE_FORMAT = b"commerce-sandbox bundled contract 1"


def _bundle_cache(name: str) -> Path | None:
    """Where a bundled document is kept (:func:`mocks.resources.user_cache`, ``contracts``)."""
    from mocks.resources import user_cache

    folder = user_cache("contracts")
    return None if folder is None else folder / f"{name}.pickle"


def load_schema_files(api: str, root: Traversable | None = None) -> dict[str, Json]:
    folder = (root or schemas_root()) / api
    return {file.name: json.loads(file.read_text(encoding="utf-8")) for file in _schema_files(folder)}


# ---------------------------------------------------------------------------------------------
@dataclass
class Param:
    name: str
    location: str
    required: bool
    schema: Json
    validator: Draft202012Validator


@dataclass
class Operation:
    method: str
    template: str
    regex: re.Pattern[str]
    operation_id: str
    params: list[Param]
    body_required: bool
    body_types: dict[str, Draft202012Validator | None]   # content type -> validator
    responses: dict[str, dict[str, Draft202012Validator | None]]  # status -> content type -> validator
    raw: Json = field(repr=False, default=None)

    def path_values(self, path: str) -> dict[str, str]:
        """The path parameters of a path this operation matches (``{id}`` -> ``{"id": ...}``)."""
        m = self.regex.match(path)
        return m.groupdict() if m else {}

    def response_validator(self, status: int, content_type: str) -> tuple[bool, Draft202012Validator | None]:
        """(documented, validator) for a response status and content type."""
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in self.responses:
                content = self.responses[key]
                if not content:
                    return True, None
                ctype = content_type.split(";")[0].strip().lower()
                if ctype in content:
                    return True, content[ctype]
                return False, None
        return False, None


class Contract:
    """One API's bundled OpenAPI document with validators for its operations."""

    def __init__(self, api: str, document: Json, case_insensitive: bool = False) -> None:
        self.api = api
        self.document = document
        self.case_insensitive = case_insensitive
        uri = f"{BASE_URI}{api}/openapi.json"
        self._uri = uri
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(uri, resource)
        self._fast: dict[int, Any] = {}
        self._rs_registry: Any = None
        self.operations: list[Operation] = []
        for template, item in (document.get("paths") or {}).items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                    continue
                self.operations.append(self._operation(template, method, op, shared))
        # literal segments beat templated ones (/products/search before /products/{id})
        self.operations.sort(key=lambda o: (o.template.count("{"), -len(o.template)))

    # -- fast path -------------------------------------------------------------------
    def _fast_validator(self, validator: Draft202012Validator) -> Any:
        """jsonschema-rs for the same schema (built once), or None without it.

        Only a *valid* verdict is taken from it: anything it rejects is validated again by
        :mod:`jsonschema`, whose verdict and error messages are the ones reported. Formats are
        checked, so it is at least as strict as the Python validator on them.
        """
        key = id(validator)
        try:
            return self._fast[key]
        except KeyError:
            pass
        fast = None
        if _rs is not None:
            try:
                if self._rs_registry is None:
                    self._rs_registry = _rs.Registry([(self._uri, self.document)])
                fast = _rs.validator_for(validator.schema, registry=self._rs_registry, validate_formats=True)
            except Exception:  # a schema it cannot compile: the Python validator alone
                fast = None
        self._fast[key] = fast
        return fast

    # -- building --------------------------------------------------------------------
    def _validator(self, schema: Json) -> Draft202012Validator:
        return Draft202012Validator(_absolutise(schema, self._uri), registry=self.registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    def _resolve(self, node: Json) -> Json:
        while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/components/") \
                and not node["$ref"].startswith("#/components/schemas/"):
            target: Json = self.document
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    def _operation(self, template: str, method: str, op: Json, shared: list[Json]) -> Operation:
        params = []
        by_key: dict[tuple[str, str], Json] = {}
        for p in [*shared, *(op.get("parameters") or [])]:
            p = self._resolve(p)
            by_key[(p["name"], p["in"])] = p
        for (name, location), p in by_key.items():
            schema = p.get("schema", {})
            params.append(Param(name, location, bool(p.get("required")) or location == "path",
                                schema, self._validator(schema)))
        body_types: dict[str, Draft202012Validator | None] = {}
        body = self._resolve(op.get("requestBody") or {})
        for ctype, media in (body.get("content") or {}).items():
            body_types[ctype.lower()] = self._validator(media["schema"]) if "schema" in media else None
        responses: dict[str, dict[str, Draft202012Validator | None]] = {}
        for status, resp in (op.get("responses") or {}).items():
            resp = self._resolve(resp)
            responses[str(status).upper()] = {
                ctype.lower(): (self._validator(media["schema"]) if "schema" in media else None)
                for ctype, media in (resp.get("content") or {}).items()
            }
        pattern = "^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        pattern = re.sub(r"\(\?P<([^>]+)>", lambda m: "(?P<" + re.sub(r"\W", "_", m.group(1)) + ">", pattern)
        flags = re.IGNORECASE if self.case_insensitive else 0
        return Operation(method.upper(), template, re.compile(pattern, flags),
                         op.get("operationId", f"{method} {template}"), params,
                         bool(body.get("required")), body_types, responses, op)

    # -- matching and validation -----------------------------------------------------
    def match(self, method: str, path: str) -> Operation | None:
        method = method.upper()
        if method == "HEAD":
            method = "GET"
        for op in self.operations:
            if op.method == method and op.regex.match(path):
                return op
        return None

    def path_allowed_methods(self, path: str) -> list[str]:
        return sorted({op.method for op in self.operations if op.regex.match(path)})

    def canonical_query(self, op: Operation, query: Any) -> Any:
        """For a case-insensitive API (XTND: ASP.NET binds query names without case), ``query``
        with every name that matches a declared query parameter's without case renamed to the
        declared spelling (``itemnumbers`` -> ``itemNumbers``); values keep their order. Unchanged
        (the same object) for other APIs or when every name is already spelled as declared."""
        if not self.case_insensitive:
            return query
        declared = {p.name.lower(): p.name for p in op.params if p.location == "query"}
        if all(declared.get(k.lower(), k) == k for k in query.keys()):
            return query
        pairs = [(declared.get(k.lower(), k), v) for k, v in query.items(multi=True)]
        return type(query)(pairs)

    def validate_params(self, op: Operation, path: str, query: Any, headers: Any) -> list[dict[str, str]]:
        """Errors as [{"pointer", "reason"}]; ``query`` is a MultiDict, ``headers`` case-insensitive."""
        errors: list[dict[str, str]] = []
        m = op.regex.match(path)
        path_values = m.groupdict() if m else {}
        for p in op.params:
            if p.location == "query":
                raw = query.getlist(p.name) if p.name in query else None
            elif p.location == "header":
                raw = [headers[p.name]] if p.name in headers else None
            elif p.location == "path":
                key = re.sub(r"\W", "_", p.name)
                raw = [path_values[key]] if key in path_values else None
            else:
                continue
            pointer = f"/{p.location}/{p.name}"
            if raw is None:
                if p.required:
                    errors.append(Problem(pointer, f"'{p.name}' is a required {p.location} parameter",
                                          validator="required", expected=[p.name], missing=p.name))
                continue
            value = coerce(raw, p.schema)
            error = best_match(p.validator.iter_errors(value))
            if error is not None:
                errors.append(Problem.of(error, pointer))
        return errors

    def validate_body(self, validator: Draft202012Validator, body: Json) -> list[dict[str, str]]:
        fast = self._fast_validator(validator)
        if fast is not None and fast.is_valid(body):
            return []  # the Rust validator agrees it is valid: no need to walk it in Python
        error = best_match(validator.iter_errors(body))
        if error is None:
            return []
        return [Problem.of(error, "/body")]


class Problem(dict):
    """One validation problem: ``{"pointer", "reason"}`` (what violations and error bodies show),
    plus the structured jsonschema error for renderers that map errors to an API's own wording:
    ``validator`` (the failing keyword: "required", "type", "maxItems", ...), ``expected`` (the
    keyword's value in the schema), ``path`` (JSON path parts below the pointer's root) and, for
    ``required``, ``missing`` (the first missing property). Never parse ``reason``: it is
    jsonschema's English and changes between versions.
    """

    def __init__(self, pointer: str, reason: str, *, validator: str | None = None, expected: Any = None,
                 path: tuple[Any, ...] = (), missing: str | None = None) -> None:
        super().__init__(pointer=pointer, reason=reason)
        self.validator, self.expected, self.path, self.missing = validator, expected, path, missing

    @classmethod
    def of(cls, error: ValidationError, root: str) -> "Problem":
        missing = None
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = next((str(k) for k in error.validator_value if k not in error.instance), None)
        return cls(root + _pointer(error), _reason(error), validator=str(error.validator),
                   expected=error.validator_value, path=tuple(error.absolute_path), missing=missing)


def _absolutise(node: Json, uri: str) -> Json:
    if isinstance(node, dict):
        return {k: (uri + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _absolutise(v, uri))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_absolutise(v, uri) for v in node]
    return node


REASON_LIMIT = 300


def _reason(error: ValidationError) -> str:
    """The validator's message, cut: jsonschema quotes the offending value, which can be the
    whole (megabytes of) body; errors and violation records stay small."""
    text = error.message
    return text if len(text) <= REASON_LIMIT else text[:REASON_LIMIT - 1] + "…"


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{part}" for part in error.absolute_path)


def _schema_type(schema: Json) -> str | None:
    t = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t


def coerce(raw: list[str], schema: Json) -> Json:
    """Turn query/header strings into the declared type (best effort; leave what fails)."""
    t = _schema_type(schema)
    if t == "array":
        items = schema.get("items", {}) if isinstance(schema, dict) else {}
        values: Iterable[str] = raw
        if len(raw) == 1 and "," in raw[0] and schema.get("x-comma-separated", True):
            values = raw[0].split(",")
        return [coerce([v], items) for v in values]
    value = raw[-1] if raw else ""
    try:
        if t == "integer":  # ASCII digits only (coerce.ASCII_INT): "٣" is not 3
            if ASCII_INT.fullmatch(value.strip()):
                return int(value)
        elif t == "number":
            if ASCII_NUMBER.fullmatch(value.strip()):
                if ASCII_INT.fullmatch(value.strip()):
                    return int(value)
                number = float(value)
                if math.isfinite(number):  # 1e400 is beyond float range: left as text, refused
                    return number
        elif t == "boolean":
            low = value.lower()
            if low in ("true", "1"):
                return True
            if low in ("false", "0"):
                return False
    except ValueError:
        pass
    return value


@lru_cache(maxsize=None)
def load_contract(api: str, case_insensitive: bool = False, root: str | None = None) -> Contract:
    return Contract(api, load_document(api, Path(root) if root else None), case_insensitive)


def public_document(contract: Contract, server_url: str) -> Json:
    doc = copy.deepcopy(contract.document)
    doc["servers"] = [{"url": server_url}]
    return doc
