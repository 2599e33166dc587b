"""The XTND contract is written by hand: ``schemas/xtnd/`` is its source (see ``tools/contracts.py``)."""
from __future__ import annotations

SCHEMAS = "xtnd"


def render() -> dict[str, str]:
    return {}  # nothing is generated
