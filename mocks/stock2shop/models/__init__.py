"""Stock2Shop state and domain logic (being split into modules by topic; see queue.py)."""
from mocks.stock2shop.models.queue import *  # noqa: F401,F403
from mocks.stock2shop.models.queue import _indexed  # noqa: F401
