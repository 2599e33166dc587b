"""Stock2Shop sources and channels of one client."""
from __future__ import annotations

from typing import Any

from mocks.core.state import TenantState

class Catalogue:
    def __init__(self, state: TenantState) -> None:
        self.state = state

    def sources(self) -> list[dict[str, Any]]:
        return self.state.collection("sources").values()

    def channels(self) -> list[dict[str, Any]]:
        return self.state.collection("channels").values()

    def source(self, source_id: Any) -> dict[str, Any] | None:
        return self.state.collection("sources").lookup(str(source_id))

    def channel(self, channel_id: Any) -> dict[str, Any] | None:
        return self.state.collection("channels").lookup(str(channel_id))
