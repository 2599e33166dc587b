"""API2Cart domain logic (being split into modules by topic; see catalog.py)."""
from mocks.api2cart.models.catalog import *  # noqa: F401,F403
