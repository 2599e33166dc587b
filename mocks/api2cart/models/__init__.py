"""API2Cart domain logic: accounts and their stores, and each store's catalogue, customers,
orders, returns, webhook subscriptions and live shipping services. Models never import Flask.

Tenancy: every connected store is its own tenant (its data lives under its tenant id); an
account is a tenant too and holds the registry of its stores (``stores`` collection), which is
the single source of truth for "which store_key opens which store".

Modules, by topic:

=================  ===============================================================================
``params``         :class:`Params` (the request's parameters, vendor coercion), dates, field selection
``paging``         start/count and ``page_cursor``, sorting, date filters
``platforms``      the supported carts, their credentials and versions; cart.list, supported_platforms
``accounts``       tenant ids and keys, :class:`Account` (one API key's stores), cart.info
``bridges``        the manual bridge flow: cart.bridge's store keys, bridge.download's bridge.zip
``base``           :class:`StoreBase`: one store's collections and the look-ups topics share
``catalog``        products and variants, categories, customers; their entity builders
``options``        product images and options (store-level options, their product assignments)
``orders``         orders and shipments; order builders, addresses
``returns``        order returns and the platforms' return rules
``subscriptions``  webhook subscriptions (delivery is :mod:`mocks.api2cart.webhooks`)
``reports``        Amazon SP-API reads through the Reports API ("Report is not ready yet", the 15-minute cache)
=================  ===============================================================================

This module combines the topics into :class:`StoreData` and re-exports the names the rest of
the API package uses (``from mocks.api2cart import models as M``).
"""
from __future__ import annotations

from mocks.api2cart.models.accounts import (Account, account_tenant_id, cart_info, new_key, norm_url,
                                            require_connection, store_tenant_id)
from mocks.api2cart.models.base import StoreBase
from mocks.api2cart.models.bridges import Bridges, bridge_zip
from mocks.api2cart.models.catalog import (Catalog, Variants, new_category, new_customer, new_product)
from mocks.api2cart.models.options import ProductExtras
from mocks.api2cart.models.orders import ORDER_STATUSES, Orders, country_obj, new_order, order_item, order_select
from mocks.api2cart.models.paging import MAX_COUNT, id_key, page, window
from mocks.api2cart.models.params import (Params, a2c_date, apply_response_fields, parse_date,
                                          parse_response_fields, plain_date, public, select)
from mocks.api2cart.models.platforms import (API_CARTS, BRIDGE_CARTS, BRIDGE_VERSION, LIVE_SHIPPING_CARTS,
                                             NO_URL_CARTS, POLL_INTERVAL_S, POLLED_CARTS, VERSIONS, all_cart_ids,
                                             cart_name, supported_carts, supported_platforms)
from mocks.api2cart.models.reports import REPORT_METHODS, Reports, uses_reports
from mocks.api2cart.models.returns import RETURN_ACTIONS, RETURN_REASONS, RETURN_STATUSES, Returns, return_statuses
from mocks.api2cart.models.subscriptions import WEBHOOK_EVENTS, Subscriptions, webhook_events


class StoreData(Catalog, ProductExtras, Orders, Returns, Subscriptions):
    """Everything one store (tenant) holds: the catalogue, orders and shipments, returns and webhook
    subscriptions. ``events`` collects (entity, action, entity dict) for webhooks."""


__all__ = [
    "API_CARTS", "Account", "BRIDGE_CARTS", "Bridges", "BRIDGE_VERSION", "Catalog", "LIVE_SHIPPING_CARTS", "MAX_COUNT",
    "NO_URL_CARTS", "ORDER_STATUSES", "Orders", "POLLED_CARTS", "ProductExtras", "POLL_INTERVAL_S", "Params", "RETURN_ACTIONS",
    "REPORT_METHODS", "RETURN_REASONS", "RETURN_STATUSES", "Reports", "Returns", "StoreBase", "StoreData", "Subscriptions", "VERSIONS",
    "Variants", "WEBHOOK_EVENTS", "a2c_date", "account_tenant_id", "bridge_zip", "all_cart_ids", "apply_response_fields",
    "cart_info", "cart_name", "country_obj", "id_key", "new_category", "new_customer", "new_key", "new_order",
    "new_product", "norm_url", "order_item", "order_select", "page", "parse_date", "parse_response_fields",
    "plain_date", "public", "require_connection", "return_statuses", "select", "store_tenant_id", "supported_carts",
    "supported_platforms", "uses_reports", "webhook_events", "window",
]
