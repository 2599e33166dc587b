"""Scenario files: loading and validation.

A scenario is a named, seeded, ordered list of fault rules (``scenarios/*.yaml``, or the same
shape as JSON in ``POST /__sandbox/scenarios``). The library is the built-in files plus the user's
directories (``SANDBOX_SCENARIOS``, ``--scenarios-dir``), found by :mod:`mocks.resources`. Every definition is validated against
``schemas/scenario.schema.json`` and a few checks the schema cannot express; a broken file gets
a :class:`ScenarioError` that names the file, the line and the field.

The engine that applies them is :mod:`mocks.core.scenarios.engine`.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from mocks import resources
from mocks.core.scenarios.matchers import parse_path



class ScenarioError(ValueError):
    """A scenario that cannot be used; ``str()`` names the source, line and field."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 field: str | None = None, path: list[Any] | None = None) -> None:
        self.source, self.line, self.field, self.reason = source, line, field, message
        self.path = path if path is not None else ([field] if field else [])
        where = source or "scenario"
        if line is not None:
            where += f":{line}"
        text = f"{where}: {field + ': ' if field else ''}{message}"
        super().__init__(text)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "field": self.field, "reason": self.reason}


# -- validation the schema cannot express ---------------------------------------------------
def check_rule(rule: dict[str, Any]) -> None:
    """Raise ``ValueError("field.path: reason")`` for a rule that cannot work."""
    action = rule.get("action", {})
    window = rule.get("when", {}).get("window")
    if window and window.get("to_s") is not None and window.get("to_s") <= window.get("from_s", 0):
        raise ValueError("when.window.to_s: must be greater than from_s")
    uniform = action.get("delay", {}).get("uniform_ms")
    if uniform and uniform[0] > uniform[1]:
        raise ValueError("action.delay.uniform_ms: the lower bound is above the upper bound")
    terminal = [k for k in ("timeout", "reset") if action.get(k)]
    if len(terminal) > 1:
        raise ValueError("action: timeout and reset cannot be combined")
    if terminal and any(k in action for k in ("status", "body", "empty", "malformed", "dribble")):
        raise ValueError(f"action.{terminal[0]}: never answers, so it cannot be combined with a status or body")
    if "body" in action and "status" not in action:
        raise ValueError("action.body: a body needs a status")
    for key, pattern in (rule.get("match") or {}).get("body", {}).items():
        try:
            parse_path(key)
        except ValueError as exc:
            raise ValueError(f"match.body: {exc}") from None


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    # (the schema is checked against the meta-schema by the tests, not on every start)
    return Draft202012Validator(resources.schema_json("scenario.schema.json"))


def _field(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _node_line(node: Any, path: list[Any]) -> int | None:
    """The 1-based line of the YAML node at ``path`` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _best_error(errors: list[Any]) -> Any:
    from jsonschema.exceptions import best_match
    return best_match(errors)


def validate(definition: Any, source: str | None = None, node: Any = None) -> dict[str, Any]:
    """Check a definition against the schema and the rules the schema cannot express."""
    if not isinstance(definition, dict):
        raise ScenarioError("a scenario must be a mapping with name, description, seed and rules",
                            source=source, line=1 if node is not None else None)
    errors = list(_validator().iter_errors(definition))
    if errors:
        err = _best_error(errors)
        path = list(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties":
            message = message.replace("Additional properties are not allowed", "unknown field(s)")
        elif err.validator == "oneOf" and path:
            message = f"{json.dumps(err.instance)[:80]} is not one of the allowed forms"
        raise ScenarioError(message, source=source, line=_node_line(node, path) if node is not None else None,
                            field=_field(path), path=path)
    for i, rule in enumerate(definition.get("rules", [])):
        try:
            check_rule(rule)
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            path = ["rules", i, *[p for p in field.split(".") if p]]
            raise ScenarioError(reason or str(exc), source=source,
                                line=_node_line(node, path) if node is not None else None,
                                field=_field(path), path=path) from None
    definition.setdefault("description", "")
    definition.setdefault("seed", 0)
    return definition


_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str, source: str = "scenario") -> dict[str, Any]:
    """Parse and validate one YAML (or JSON) document.

    Read once with libyaml when present (the library is read on every start); a document that
    is not valid YAML or not a valid scenario is read again with PyYAML's own loader, whose
    messages and line numbers (of the node a problem is in) the errors report."""
    try:
        data = yaml.load(text, Loader=_FastLoader)
    except yaml.YAMLError:
        data = None
    else:
        try:
            return validate(data, source)
        except ScenarioError:
            pass  # again below, with the lines
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", source=source,
                            line=mark.line + 1 if mark is not None else None) from None
    return validate(data, source, node)


def load_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read: {exc}", source=str(path)) from None
    return parse(text, str(path))


def _library() -> tuple[dict[str, dict[str, Any]], dict[str, str], list[str]]:
    """(definitions by name, the file each came from, clashes). The built-in library first, then
    each user directory (``SANDBOX_SCENARIOS``, ``--scenarios-dir``): a later file with a name
    already taken replaces it, and the clash is reported."""
    out: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    clashes: list[str] = []
    for folder, built_in in resources.scenario_folders():
        here: set[str] = set()
        for entry in resources.scenario_files(folder):
            source = resources.describe(entry, built_in)
            try:
                text = entry.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ScenarioError(f"cannot read: {exc}", source=source) from None
            definition = parse(text, source)
            name = definition["name"]
            if name in here:  # twice in one folder: which one is meant cannot be told
                raise ScenarioError(f"the name {name!r} is used twice", source=source, field="name")
            here.add(name)
            if name in origin:
                clashes.append(f"scenario {name!r}: {source} replaces {origin[name]}")
            out[name], origin[name] = definition, source
    return out, origin, clashes


def library() -> dict[str, dict[str, Any]]:
    """Every scenario by name: the built-in library and the user's (broken files raise)."""
    return _library()[0]


def sources() -> dict[str, str]:
    """Scenario name -> the file it comes from (``scenarios/NAME.yaml`` for a built-in one)."""
    return _library()[1]


def clashes() -> list[str]:
    """One line per user scenario that replaces another of the same name (the user's file wins)."""
    return _library()[2]


def get(name: str) -> dict[str, Any]:
    """One scenario by name, freshly loaded."""
    if not resources.user_scenario_dirs():  # the built-in library alone: its files are named after their scenarios
        for suffix in resources.SCENARIO_SUFFIXES:
            entry = resources.builtin_scenarios() / f"{name}{suffix}"
            if entry.is_file():
                definition = parse(entry.read_text(encoding="utf-8"), resources.describe(entry, True))
                if definition["name"] == name:
                    return definition
    found = library().get(name)
    if found is None:
        raise KeyError(name)
    return found


def names() -> list[str]:
    return sorted(library())
