"""The API contracts, made the same way for all five APIs.

Each API's ``mocks/<api>/contract.py`` is the one source of its contract and says two things:
``SCHEMAS``, the contract's folder under ``schemas/`` (found by
:func:`mocks.core.contracts.schemas_root`, which is also where the gateway loads it from), and
``render() -> {file name: text}``, the files it generates there: none for a contract written by
hand (Click2Sync, Stock2Shop, XTND), every file for PrintXpand (built from Python), and
``openapi.yaml`` plus ``api2cart.schema.json`` for API2Cart (built from the vendor's document).

    .venv/bin/python -m tools.contracts                 # write every API's generated files
    .venv/bin/python -m tools.contracts --check         # exit 1 naming the files that differ
    .venv/bin/python -m tools.contracts printxpand      # only these APIs

``tests/test_contracts.py`` fails when a committed file differs from what its contract renders.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from mocks.core.contracts import schemas_root
from mocks.registry import NAMES, PACKAGES


def contract(api: str) -> ModuleType:
    """``mocks.<api>.contract``."""
    return importlib.import_module(f"{PACKAGES[api]}.contract")


def folder(api: str) -> Path:
    """The API's contract folder as a file system path (this tool works in a checkout, where the
    package data is the repository's ``schemas/``)."""
    return Path(str(schemas_root())) / contract(api).SCHEMAS


def stale(api: str) -> list[str]:
    """The generated files of ``api`` whose committed text differs from what its contract renders."""
    base = folder(api)
    out = []
    for name, text in contract(api).render().items():
        path = base / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            out.append(name)
    return out


def write(api: str) -> list[Path]:
    """Write ``api``'s generated files; the paths written."""
    base = folder(api)
    written = []
    for name, text in contract(api).render().items():
        path = base / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.contracts", description=__doc__.splitlines()[0])
    ap.add_argument("apis", nargs="*", metavar="API", help=f"default: all ({', '.join(NAMES)})")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a generated file is out of date")
    args = ap.parse_args(argv)
    unknown = [a for a in args.apis if a not in NAMES]
    if unknown:
        ap.error(f"unknown API {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    apis = args.apis or list(NAMES)
    if args.check:
        problems = [f"schemas/{contract(api).SCHEMAS}/{name}" for api in apis for name in stale(api)]
        for p in problems:
            print(f"out of date: {p} (run python -m tools.contracts)", file=sys.stderr)
        return 1 if problems else 0
    for api in apis:
        for path in write(api):
            print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
