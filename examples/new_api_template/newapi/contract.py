"""The NewApi contract is written by hand: ``schemas/newapi/`` is its source (see ``tools/contracts.py``)."""
from __future__ import annotations

SCHEMAS = "newapi"


def render() -> dict[str, str]:
    return {}  # nothing is generated
