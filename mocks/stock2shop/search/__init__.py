"""The Elasticsearch query evaluator (being split into modules by topic; see query.py)."""
from mocks.stock2shop.search.query import *  # noqa: F401,F403
