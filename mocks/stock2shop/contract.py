"""The Stock2Shop contract: written by hand. ``schemas/stock2shop/openapi.yaml`` and its ``*.schema.json``
files are the source; nothing is generated.

Every API's contract.py says the same two things (see ``tools/contracts.py``): :data:`SCHEMAS`,
its folder under ``schemas/`` (found by :func:`mocks.core.contracts.schemas_root`), and
:func:`render`, the files it generates there.
"""
from __future__ import annotations

#: the contract's folder under ``schemas/``
SCHEMAS = "stock2shop"


def render() -> dict[str, str]:
    """Generated files (name -> text, exactly as committed): none, the files are written by hand."""
    return {}
