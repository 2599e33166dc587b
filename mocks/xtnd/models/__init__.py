"""XTND domain (being split into modules by topic; see orders.py)."""
from mocks.xtnd.models.orders import *  # noqa: F401,F403
