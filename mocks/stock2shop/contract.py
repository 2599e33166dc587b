"""The Stock2Shop contract is written by hand: ``schemas/stock2shop/`` is its source (see ``tools/contracts.py``)."""
from __future__ import annotations

SCHEMAS = "stock2shop"


def render() -> dict[str, str]:
    return {}  # nothing is generated
