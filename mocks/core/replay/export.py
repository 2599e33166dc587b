"""Session export: everything needed to replay what happened (the journal, the active scenarios
and their seeds), as ``GET /__sandbox/export`` and ``commerce-sandbox record`` give it."""
from __future__ import annotations

from typing import Any

SESSION_FORMAT = "commerce-sandbox-session"


def session(sandbox: Any, faults: Any, base_url: str, since: int = 0) -> dict[str, Any]:
    """Everything needed to replay what happened: the journal, the scenarios and their seeds."""
    clock = sandbox.clock.describe()
    return {
        "format": SESSION_FORMAT,
        "version": 1,
        "exported_at": clock["iso"],
        "base_url": base_url,
        "seed": sandbox.config.seed,
        "apis": list(sandbox.apis),
        "clock": clock,
        "scenarios": [{k: r.get(k) for k in ("id", "name", "seed", "tenant", "activated_at", "source", "definition")}
                      for r in faults.active()],
        "requests": sandbox.store.journal(since),
    }
