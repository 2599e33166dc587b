"""PrintXpand's bulk create/update/delete of customers, categories, products and orders.

Every call takes a batch and answers ``[{"response": [<item result>, ...]}]``: one result per
input item, in input order, with the item's id echoed exactly as sent (string or number).
Item results are built in one place, :func:`item_result`, so per-item behaviour (and faults
injected by a scenario) has a single hook.

Codes: the document prints ``"code": "200"`` (a string) in every all-success example and integer
codes (``200``, ``404``) in every example that has a failing item. :func:`envelope` reproduces
that: codes are strings when every item succeeded, integers otherwise. The HTTP status is 200
when every item succeeded, 201 when some did ("partially succeeded"), and the failing items'
code (400 if any is 400, else 404) when none did.

Modules, by topic:

==============  ===================================================================================
``messages``    the item messages (one spelling per action)
``batch``       item results, the envelope, running a batch, the batch's entries and id lists
``fields``      reading item fields (ids, text, numbers, 0/1 flags, tier prices, images, options)
``customers``   customers
``categories``  categories (a tree by parent id)
``products``    products (simple and configurable)
``orders``      orders
==============  ===================================================================================
"""
from __future__ import annotations

from mocks.printxpand.models.batch import MAX_ITEMS, ItemError, envelope, injected_failure, item_result, run_batch
from mocks.printxpand.models.categories import Categories
from mocks.printxpand.models.customers import Customers
from mocks.printxpand.models.fields import OPTION_GROUPS, PRICE_TYPES, PRODUCT_TYPES
from mocks.printxpand.models.orders import Orders
from mocks.printxpand.models.products import Products

__all__ = [
    "Categories", "Customers", "ItemError", "MAX_ITEMS", "OPTION_GROUPS", "Orders", "PRICE_TYPES", "PRODUCT_TYPES",
    "Products", "envelope", "injected_failure", "item_result", "run_batch",
]
