"""PrintXpand's bulk calls (being split into modules by topic; see products.py)."""
from mocks.printxpand.models.products import *  # noqa: F401,F403
