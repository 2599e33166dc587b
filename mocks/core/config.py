"""Sandbox configuration: one dataclass, built by the CLI or by tests, read by create_app."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

@dataclass
class SandboxConfig:
    state: str = "sqlite"                 # memory | sqlite | sqlite:///path.db | redis://host:port/db
    seed: int = 1
    apis: list[str] | None = None         # None: every API that is installed
    root_api: str | None = None           # also mount this API at "/"
    admin_token: str | None = None        # control plane: loopback-only unless this is set
    outbound_hosts: list[str] = field(default_factory=list)  # webhooks/callbacks: loopback + these (mocks.core.outbound)
    journal_size: int = 10_000
    journal_body_limit: int = 4096        # characters of each body the journal keeps (mocks.core.journal)
    violations_size: int = 1_000
    max_body_bytes: int = 5 * 1024 * 1024
    validate_responses: bool = True       # record responses that break their schema
    response_cache_mb: int = 32           # rendered GET answers kept per process (mocks.core.cache); 0: off
    fast_path: bool = True                # answer fresh cache hits before Flask (mocks.core.fastpath)
    scenarios: list[str] = field(default_factory=list)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)   # per-API seed/behaviour options
    testing: bool = False
    background: bool = True               # background threads (the scheduler); off in tests
    scheduler: bool | None = None         # run due work on its own (mocks.core.scheduler); None: when
                                          # background and not testing (serving); True: in tests too

    @classmethod
    def coerce(cls, value: "SandboxConfig | dict[str, Any] | None") -> "SandboxConfig":
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown sandbox config keys: {sorted(unknown)}")
        return cls(**value)

    @property
    def runs_scheduler(self) -> bool:
        return self.scheduler if self.scheduler is not None else (self.background and not self.testing)

    def api_options(self, api: str) -> dict[str, Any]:
        return self.options.get(api, {})
