"""XTND fixtures: an app with only the XTND API mounted, and its client."""
from __future__ import annotations

from typing import Any

import pytest

KEY = {"Authorization": "Bearer xtnd-demo-key"}
OTHER = {"Authorization": "Bearer xtnd-demo-key-2"}
READONLY = {"Authorization": "Bearer xtnd-readonly-key"}
V1 = "/xtnd/api/v1"


@pytest.fixture
def xapp(shared_app: Any) -> Any:
    return shared_app(apis=["xtnd"])


@pytest.fixture
def xc(xapp: Any) -> Any:
    return xapp.test_client()
