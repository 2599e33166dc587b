"""Package data: the one place that finds the files the running product reads.

| what | in the repository | in the installed package |
|---|---|---|
| each API's schemas and OpenAPI document | ``schemas/{api}/`` | ``mocks._schemas/{api}/`` |
| the copy of the official API2Cart document | ``schemas/api2cart/official/`` | ``mocks._schemas/api2cart/official/`` |
| the scenario schema | ``schemas/scenario.schema.json`` | ``mocks._schemas/`` |
| the scenario library | ``scenarios/*.yaml`` | ``mocks._scenarios/`` |
| the QA console | ``mocks/console/static/`` | ``mocks/console/static/`` |
| the API reference page's own script and style (``apidocs.*``) | ``mocks/console/static/`` | ``mocks/console/static/`` |
| Swagger UI, the renderer of ``/{prefix}/docs`` | the ``flask-swagger-ui`` dependency's ``dist/`` | the same |

``schemas/`` and ``scenarios/`` stay at the top level of the repository and are mapped into the
package by pyproject.toml's ``package-dir``. Everything is read through :mod:`importlib.resources`
(a :class:`~importlib.resources.abc.Traversable`: ``/``, ``iterdir()``, ``read_text()``,
``open()``), never through a path relative to the source tree, so a wheel, an sdist build and an
editable checkout behave the same.

User scenarios: ``SANDBOX_SCENARIOS`` names directories (separated by ``os.pathsep``) whose
``*.yaml`` files are added to the built-in library; ``commerce-sandbox serve --scenarios-dir DIR``
puts DIR there for the server and its workers. Later directories win over earlier ones and every
user directory wins over the built-in library; :mod:`mocks.core.scenarios` reports each clash.
``COMMERCE_SANDBOX_SCHEMAS`` points the contracts at another ``schemas/`` directory (development).
"""
from __future__ import annotations

import json
import os
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

SCENARIOS_ENV = "SANDBOX_SCENARIOS"
SCHEMAS_ENV = "COMMERCE_SANDBOX_SCHEMAS"
SCENARIO_SUFFIXES = (".yaml", ".yml")


def schemas() -> Traversable:
    """The root of the schemas: one folder per API, plus ``scenario.schema.json``."""
    env = os.environ.get(SCHEMAS_ENV)
    return Path(env) if env else files("mocks._schemas")


def schema_dir(api: str) -> Traversable:
    """``schemas/{api}/``: ``openapi.yaml`` and the ``*.schema.json`` files it refers to."""
    return schemas() / api


def schema_json(*parts: str) -> Any:
    """One JSON file under the schemas, parsed: ``schema_json("xtnd", "sandbox-control.schema.json")``."""
    node = schemas()
    for part in parts:
        node = node / part
    return json.loads(node.read_text(encoding="utf-8"))


def console_static() -> Traversable:
    """The QA console's HTML, CSS and JavaScript."""
    return files("mocks.console") / "static"


def swagger_ui() -> Traversable:
    """Swagger UI's distribution files (``swagger-ui-bundle.js``, ``swagger-ui.css``, ``VERSION``, ...):
    package data of the ``flask-swagger-ui`` dependency, which ships them (Apache-2.0, SmartBear)."""
    return files("flask_swagger_ui") / "dist"


def builtin_scenarios() -> Traversable:
    """The ready scenario library that ships with the package."""
    return files("mocks._scenarios")


def user_scenario_dirs() -> list[Path]:
    """The user's scenario directories, from ``SANDBOX_SCENARIOS`` (in order: later ones win)."""
    raw = os.environ.get(SCENARIOS_ENV) or ""
    return [Path(part) for part in raw.split(os.pathsep) if part.strip()]


def add_user_scenario_dirs(dirs: list[str]) -> None:
    """Add directories after those already in ``SANDBOX_SCENARIOS`` (the CLI's ``--scenarios-dir``;
    the environment is what gunicorn's workers inherit)."""
    if dirs:
        current = [str(d) for d in user_scenario_dirs()]
        os.environ[SCENARIOS_ENV] = os.pathsep.join(current + [str(Path(d).resolve()) for d in dirs])


def scenario_folders() -> list[tuple[Traversable, bool]]:
    """``(folder, built_in)`` in increasing priority: the built-in library first, then the user's."""
    return [(builtin_scenarios(), True), *[(folder, False) for folder in user_scenario_dirs()]]


def scenario_files(folder: Traversable) -> list[Traversable]:
    """The scenario files of one folder, sorted by name (a missing folder has none)."""
    if not folder.is_dir():
        return []
    return sorted((entry for entry in folder.iterdir()
                   if entry.name.endswith(SCENARIO_SUFFIXES) and entry.is_file()), key=lambda e: e.name)


def describe(resource: Traversable, built_in: bool) -> str:
    """How a file is named in messages: ``scenarios/NAME.yaml`` for the library, the path for the user's."""
    return f"scenarios/{resource.name}" if built_in else str(resource)


__all__ = ["schemas", "schema_dir", "schema_json", "console_static", "swagger_ui", "builtin_scenarios", "user_scenario_dirs",
           "add_user_scenario_dirs", "scenario_folders", "scenario_files", "describe"]


def user_cache(kind: str) -> Path | None:
    """The folder of one kind of kept work (``contracts``, ``seeds``): ``$COMMERCE_SANDBOX_CACHE``,
    else ``$XDG_CACHE_HOME`` or ``~/.cache``, then ``commerce-sandbox/<kind>``; None when it cannot be
    made (or the variable is set to an empty string: no cache)."""
    base = os.environ.get("COMMERCE_SANDBOX_CACHE")
    if base == "":
        return None
    try:
        if base is None:
            base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "commerce-sandbox")
        folder = Path(base) / kind
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):
        return None
    return folder
