"""The Click2Sync contract is written by hand: ``schemas/click2sync/`` is its source (see ``tools/contracts.py``)."""
from __future__ import annotations

SCHEMAS = "click2sync"


def render() -> dict[str, str]:
    return {}  # nothing is generated
