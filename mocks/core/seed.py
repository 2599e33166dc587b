"""Deterministic seed data: one seeded generator per (seed, api, tenant).

Every random choice in seed data comes from :func:`seeded`, so the same ``--seed`` gives the
same data whatever order tenants are seeded in, and in every worker.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - faker is imported only when a tenant is seeded (start-up)
    from faker import Faker


def derive(seed: int, *scope: str) -> int:
    digest = hashlib.sha256("\x1f".join([str(seed), *scope]).encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class SeedContext:
    """What an API's seed function gets: its generators, its options and the base time."""

    rng: random.Random
    fake: "Faker"
    options: dict[str, Any]
    now: float

    def option(self, name: str, default: Any) -> Any:
        return self.options.get(name, default)


def seeded(seed: int, *scope: str, options: dict[str, Any] | None = None, now: float = 0.0) -> SeedContext:
    value = derive(seed, *scope)
    from faker import Faker  # (a restart on seeded state never pays for importing it)

    fake = Faker("en_US")
    fake.seed_instance(value)
    return SeedContext(rng=random.Random(value), fake=fake, options=options or {}, now=now)
