"""NewApi widgets: state and domain logic over TenantState (never Flask)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from mocks.core.state import TenantState
from mocks.newapi import errors as X

FIRST_ID = 1001


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Widgets:
    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.items = state.collection("widgets")

    def list(self) -> dict[str, Any]:
        widgets = sorted(self.items.values(), key=lambda w: int(w["id"].split("-")[1]))
        return {"widgets": widgets, "total": len(widgets)}

    def one(self, widget_id: str) -> dict[str, Any]:
        widget = self.items.get(widget_id)
        if widget is None:
            raise X.WidgetNotFound(widget_id)
        return widget

    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        # the body was validated against widget-create.schema.json by the chain
        widget_id = f"w-{self.state.next_id('widget', start=FIRST_ID)}"
        widget = {"id": widget_id, "name": data["name"], "price": data["price"],
                  "created_at": iso(self.state.now())}
        self.items.put(widget_id, widget)
        return widget
