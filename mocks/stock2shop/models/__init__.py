"""Stock2Shop state and domain logic: users and tokens, sources, channels, products, orders,
customers, the product/image/order queue and the Elasticsearch-style search.

One tenant is one Stock2Shop client (tenant id = ``str(client_id)``). Never imports Flask.

Modules, by topic:

=============  ====================================================================================
``formats``    timestamps, money, lenient numbers and booleans of queued payloads
``users``      roles and permissions, users and tokens, the user record
``sources``    sources and channels (:class:`Catalogue`)
``indexes``    the searchable documents, the index lag and :func:`elastic_search`
``images``     image records, checking queued image data, the served image files
``queue``      the product/image/order queue (applied FIFO once due)
``orders``     orders from channel payloads, their customers and totals
=============  ====================================================================================

This module re-exports the names the rest of the API package uses.
"""
from __future__ import annotations

from mocks.stock2shop.models.formats import money, s2s_time, user_time
from mocks.stock2shop.models.images import CONTENT_TYPES, IMAGE_BASE, MAX_IMAGE_BYTES, Images, image_kind, image_record
from mocks.stock2shop.models.indexes import ES_BASE, INDEX_JOB, INDEXES, IndexLag, elastic_search, warm_indexes
from mocks.stock2shop.models.orders import Orders, address, customer_record, order_totals
from mocks.stock2shop.models.queue import (DEFAULT_QUEUE_DELAY, DEFAULT_QUEUE_KEEP, QUEUE_JOB, Queue, injected_failure,
                                           product_hash, public_item)
from mocks.stock2shop.models.sources import Catalogue
from mocks.stock2shop.models.users import DEFAULT_TOKEN_TTL, PERMISSIONS, ROLE_IDS, ROLES, Users, public_user, require

__all__ = [
    "CONTENT_TYPES", "Catalogue", "DEFAULT_QUEUE_DELAY", "DEFAULT_QUEUE_KEEP", "DEFAULT_TOKEN_TTL", "ES_BASE",
    "IMAGE_BASE", "INDEX_JOB", "INDEXES", "QUEUE_JOB", "IndexLag", "Images", "MAX_IMAGE_BYTES", "Orders", "PERMISSIONS", "Queue", "ROLES",
    "ROLE_IDS", "Users", "address", "customer_record", "elastic_search", "image_kind", "image_record",
    "injected_failure", "money", "order_totals", "product_hash", "public_item", "public_user", "require",
    "s2s_time", "user_time", "warm_indexes",
]
