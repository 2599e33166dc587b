"""XTND Extend Commerce domain: products, warehouses and balances, customers, best prices,
customer orders and their lifecycle, webhook subscriptions.

Models take a :class:`TenantState` and an ``emit(event, payload)`` callable for webhook events;
they never touch Flask. Timestamps on the wire are ISO 8601 UTC with milliseconds
(``2024-01-01T00:00:00.000Z``); that fixed format sorts like time, so "changed since" filters
compare strings.

Modules, by topic:

=================  ================================================================================
``common``         the emit callable, wire timestamps, paging, money, look-ups (404), masterdata changes
``products``       products (masterdata; ProductChanged)
``availability``   balances per item and warehouse (AvailableBalanceChanged)
``customers``      customers and their best prices
``orders``         customer orders and their lifecycle on the sandbox clock
``subscriptions``  webhook subscriptions (delivery is :mod:`mocks.xtnd.webhooks`)
=================  ================================================================================

This module re-exports the names the rest of the API package uses.
"""
from __future__ import annotations

from mocks.xtnd.models.availability import Availability, balance_key, balance_view
from mocks.xtnd.models.common import DEFAULT_PAGE_SIZE, FOREVER, Emit, iso, money, paged, parse_time, public
from mocks.xtnd.models.customers import CUSTOMER_DEFAULTS, CUSTOMER_FIELDS, Customers, Prices, valid_at
from mocks.xtnd.models.orders import (CANCELLABLE, DEFAULT_LIFECYCLE, FLOW, MOVE_TRIGGERS, TERMINAL, Orders,
                                      event_payload, hash_number)
from mocks.xtnd.models.products import PRODUCT_FIELDS, Products
from mocks.xtnd.models.subscriptions import TRIGGER_ALIASES, TRIGGERS, Webhooks

__all__ = [
    "Availability", "CANCELLABLE", "CUSTOMER_DEFAULTS", "CUSTOMER_FIELDS", "Customers", "DEFAULT_LIFECYCLE",
    "DEFAULT_PAGE_SIZE", "Emit", "FLOW", "FOREVER", "MOVE_TRIGGERS", "Orders", "PRODUCT_FIELDS", "Prices",
    "Products", "TERMINAL", "TRIGGERS", "TRIGGER_ALIASES", "Webhooks", "balance_key", "balance_view",
    "event_payload", "hash_number", "iso", "money", "paged", "parse_time", "public", "valid_at",
]
