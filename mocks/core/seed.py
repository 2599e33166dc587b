"""Deterministic seed data: one seeded generator per (seed, api, tenant).

Every random choice in seed data comes from :func:`seeded`, so the same ``--seed`` gives the
same data whatever order tenants are seeded in, and in every worker.
"""
from __future__ import annotations

import hashlib
import random
import threading
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


_FAKERS = threading.local()


def seeded(seed: int, *scope: str, options: dict[str, Any] | None = None, now: float = 0.0) -> SeedContext:
    """The generators of one tenant's seed. Its Faker is this thread's one, seeded afresh: it
    draws exactly what a new ``Faker("en_US")`` seeded the same way draws (building one costs more
    than a small tenant's whole seed), so a context is good until the next ``seeded`` call of the
    same thread (a tenant's seed never seeds another)."""
    value = derive(seed, *scope)
    fake = getattr(_FAKERS, "fake", None)
    if fake is None:
        from faker import Faker  # (a restart on seeded state never pays for importing it)

        fake = _FAKERS.fake = Faker("en_US")
    fake.seed_instance(value)
    fake.unique.clear()
    return SeedContext(rng=random.Random(value), fake=fake, options=options or {}, now=now)
