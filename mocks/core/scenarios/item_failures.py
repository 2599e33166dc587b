"""``item_failures``: the one meaning of the scenario action, for every API with bulk requests.

A rule's ``item_failures`` spec picks items of one bulk request by their 1-based position in the
request and/or their id; each picked item fails on its own while the others are processed:

- ``every: N``     items N, 2N, 3N, ...
- ``first: N``     items 1..N
- ``indices: [..]`` these positions (1-based)
- ``ids: [..]``    the items with these ids (compared as strings)
- ``probability: p`` each item with chance p (seeded: the same scenario seed and request sequence
  pick the same items)
- none of these    every item
- ``code``, ``message``: what the failed item reports (each API has its defaults and shows them
  where the API reports an item's failure: PrintXpand in the item's own result of the bulk
  answer, Stock2Shop on the item's queue entry). A failed item is never written.

No Flask here: models take an :class:`ItemFailures` (the routes pass ``http.item_failures()``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from mocks.core.seed import derive

SELECTORS = ("every", "first", "indices", "ids", "probability")


@dataclass(frozen=True)
class Failure:
    code: Any
    message: str


@dataclass(frozen=True)
class ItemFailures:
    every: int = 0
    first: int = 0
    indices: frozenset[int] = frozenset()
    ids: frozenset[str] = frozenset()
    code: Any = None
    message: str | None = None
    probability: float = 0.0
    seed: int = 0                # the draws of ``probability`` (the engine derives it from the scenario seed)

    @classmethod
    def from_spec(cls, spec: Any, seed: int = 0) -> "ItemFailures | None":
        """The spec of a rule (a mapping), or None for anything that is not one."""
        if isinstance(spec, ItemFailures) or spec is None:
            return spec
        if not isinstance(spec, dict):
            return None
        try:
            every, first = int(spec.get("every") or 0), int(spec.get("first") or 0)
            indices = frozenset(int(i) for i in spec.get("indices") or [])
            probability = min(max(float(spec.get("probability") or 0.0), 0.0), 1.0)
        except (TypeError, ValueError):
            return None
        ids = frozenset(str(i) for i in spec.get("ids") or [])
        if not any(k in spec for k in SELECTORS):
            every = 1  # no selector: every item fails
        message = spec.get("message")
        return cls(max(every, 0), max(first, 0), indices, ids, spec.get("code"),
                   str(message) if message else None, probability, seed)

    def picks(self, position: int, item_id: Any = None) -> bool:
        """Whether the item at 1-based ``position`` (with ``item_id``) fails."""
        return (self.every > 0 and position % self.every == 0) or position <= self.first \
            or position in self.indices or (item_id is not None and str(item_id) in self.ids) \
            or (self.probability > 0 and random.Random(derive(self.seed, "item", str(position))).random()
                < self.probability)

    def failure(self, position: int, item_id: Any = None, *, code: Any, message: str) -> Failure | None:
        """The failure of that item with the API's defaults for ``code`` and ``message``, or None."""
        if not self.picks(position, item_id):
            return None
        return Failure(self.code if self.code is not None else code, self.message or message)
