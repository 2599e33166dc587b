"""NewApi seed data: the document's example widget, then a few generated ones (option ``widgets``)."""
from __future__ import annotations

from mocks.core.seed import SeedContext
from mocks.core.state import TenantState
from mocks.newapi.models import FIRST_ID, iso

EXAMPLE = {"name": "Example widget", "price": 9.99}


def seed(state: TenantState, ctx: SeedContext) -> None:
    count = int(ctx.option("widgets", 3))
    rows = []
    for i, number in enumerate(state.reserve_ids("widget", count, start=FIRST_ID)):
        data = EXAMPLE if i == 0 else {"name": ctx.fake.word().capitalize(), "price": round(ctx.rng.uniform(1, 100), 2)}
        rows.append((f"w-{number}", {"id": f"w-{number}", **data, "created_at": iso(ctx.now + i * 60)}))
    state.collection("widgets").put_many(rows)
