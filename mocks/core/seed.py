"""Deterministic seed data: one seeded generator per (seed, api, tenant).

Every random choice in seed data comes from :func:`seeded`, so the same ``--seed`` gives the
same data whatever order tenants are seeded in, and in every worker.
"""
from __future__ import annotations

import hashlib
import random
import threading
from collections import OrderedDict
from itertools import accumulate
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


def _sum_weights_once(fake: "Faker") -> None:
    """Faker draws one weighted element (a first name, a last name, a street suffix...) by copying
    the list's weights and summing them again on every call: O(n) per draw over lists of
    thousands, most of a default seed's CPU. Here each provider of this Faker draws it from the
    weights summed once per list, with ``random.choices(cum_weights=...)``: exactly what
    ``random.choices(weights=...)`` computes from the weights itself, so the values are the same
    (``tests/core/test_seed.py`` compares them with a plain Faker's). Every other draw is Faker's."""
    for provider in fake.providers:
        plain = provider.random_elements
        summed: dict[int, tuple[Any, tuple[Any, ...], list[float]]] = {}

        def random_elements(elements: Any = ("a", "b", "c"), length: int | None = None, unique: bool = False,
                            use_weighting: bool | None = None, _plain: Any = plain, _summed: Any = summed,
                            _provider: Any = provider) -> Any:
            weighted = _provider.__use_weighting__ if use_weighting is None else use_weighting
            if length != 1 or unique or not weighted or type(elements) is not OrderedDict:
                return _plain(elements, length, unique, use_weighting)
            hit = _summed.get(id(elements))
            if hit is None or hit[0] is not elements:
                hit = _summed[id(elements)] = (elements, tuple(elements), list(accumulate(elements.values())))
            return _provider.generator.random.choices(hit[1], cum_weights=hit[2], k=1)

        provider.random_elements = random_elements


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
        _sum_weights_once(fake)
    fake.seed_instance(value)
    fake.unique.clear()
    return SeedContext(rng=random.Random(value), fake=fake, options=options or {}, now=now)
