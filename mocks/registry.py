"""The one list of the APIs: each API's name and its package, in the order they are mounted and listed.

Adding an API means adding its package and one entry in :data:`PACKAGES`. Everything else that
names the APIs (the app factory, the CLI's ``--api`` choices, the fuzzer, the tests) reads it
from here. Nothing here imports an API package until :func:`load` is called.
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mocks.core.api import Api

#: API name -> its package
PACKAGES: dict[str, str] = {
    "click2sync": "mocks.click2sync",
    "printxpand": "mocks.printxpand",
    "stock2shop": "mocks.stock2shop",
    "api2cart": "mocks.api2cart",
    "xtnd": "mocks.xtnd",
}
#: every API name, in order
NAMES: tuple[str, ...] = tuple(PACKAGES)


def installed() -> list[str]:
    """The APIs whose package is present (an API lands as one whole package)."""
    return [name for name, module in PACKAGES.items() if importlib.util.find_spec(module) is not None]


def load(names: list[str] | None = None) -> list["Api"]:
    """The :class:`~mocks.core.api.Api` of each named API (default: every installed one), in the
    order given; an unknown or missing name is a ValueError naming the choices."""
    available = installed()
    wanted = names or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise ValueError(f"unknown API {', '.join(unknown)}; choose from {', '.join(available)}")
    return [importlib.import_module(PACKAGES[n]).API for n in wanted]
