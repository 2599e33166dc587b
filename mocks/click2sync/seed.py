"""Seed data: the document's own example product and order, then Faker records.

Options (``SandboxConfig.options["click2sync"]``): ``products`` (default 60 including the
example), ``orders`` (default 30 including the example).
"""
from __future__ import annotations

from typing import Any

from mocks.click2sync.models import Catalog, Orders, iso, normalise_product, order_total
from mocks.core.seed import SeedContext
from mocks.core.state import TenantState

EXAMPLE_PRODUCT: dict[str, Any] = {
    "_id": "100004777",
    "sku": "100004777",
    "title": 'EON618S JBL SUBWOOFER 18" AMPLIFICADO',
    "url": "",
    "brand": "",
    "mpn": "",
    "model": "",
    "description": "JBL Premium Transducers",
    "tags": [{"value": ""}],
    "variations": [{
        "availabilities": [{"tag": "default", "quantity": "50"}],
        "prices": [{"tag": "default", "currency": "USD", "number": "1060.51"}],
        "images": [{"url": "http://www.example.com/13080-thickbox_default/eon618s-jbl-subwoofer-18-amplificado.jpg"}],
        "videos": [],
        "barcode": "",
        "size": "",
        "color": "",
    }],
}

EXAMPLE_ORDER: dict[str, Any] = {
    "_id": "75554554546",
    "orderid": "777777",
    "status": "payed",
    "dateCreated": "",
    "dateClosed": "",
    "total": {"amount": 350, "currency": "MX"},
    "orderItems": [{"id": "7778545", "variation_id": "0", "quantity": "1", "unitPrice": "350", "currencyId": "MX"}],
    "buyer": {"id": "4578889", "email": "testbuyer@example.com", "phone": "88888888",
              "firstName": "John", "lastName": "Doe"},
}

STATUSES = ["pending", "payed", "payed", "shipped", "delivered", "cancelled"]
CURRENCIES = ["USD", "MXN"]


def seed(state: TenantState, ctx: SeedContext) -> None:
    n_products = int(ctx.option("products", 60))
    n_orders = int(ctx.option("orders", 30))
    rng, fake = ctx.rng, ctx.fake
    products: list[tuple[str, dict[str, Any]]] = []
    if n_products > 0:
        products.append((EXAMPLE_PRODUCT["_id"], normalise_product(EXAMPLE_PRODUCT, ctx.now)))
    for i, number in enumerate(state.reserve_ids("product", max(n_products - 1, 0), start=100_004_778)):
        pid = str(number)
        brand = fake.company().split(" ")[0].strip(",")
        n_var = rng.choice([1, 1, 2, 3])
        currency = rng.choice(CURRENCIES)
        base_price = rng.uniform(5, 2500)
        variations = []
        for v in range(n_var):
            variations.append({
                "availabilities": [{"tag": "default", "quantity": str(rng.randint(0, 200))}],
                "prices": [{"tag": "default", "currency": currency, "number": f"{base_price * (1 + v * 0.1):.2f}"}],
                "images": [{"url": f"http://www.example.com/img/{pid}-{v}.jpg"}],
                "videos": [],
                "barcode": fake.ean13(),
                "size": rng.choice(["", "S", "M", "L", "XL"]),
                "color": rng.choice(["", "black", "white", "red", "blue"]),
            })
        products.append((pid, normalise_product({
            "_id": pid,
            "sku": f"SKU-{pid}",
            "title": f"{brand} {fake.word().capitalize()} {rng.choice(['Speaker', 'Amplifier', 'Mixer', 'Cable', 'Stand', 'Microphone'])}",
            "url": f"http://www.example.com/p/{pid}",
            "brand": brand,
            "mpn": f"MPN-{rng.randint(10000, 99999)}",
            "model": f"{brand[:3].upper()}-{rng.randint(100, 999)}",
            "description": fake.sentence(nb_words=10),
            "tags": [{"value": fake.word()} for _ in range(rng.randint(0, 3))],
            "variations": variations,
        }, ctx.now + i * 3600)))
    Catalog(state).items.put_many(products)

    orders: list[tuple[str, dict[str, Any]]] = []
    if n_orders > 0:
        orders.append((EXAMPLE_ORDER["_id"], dict(EXAMPLE_ORDER)))
    sellable = [p for _, p in products if p["variations"]]
    for i, number in enumerate(state.reserve_ids("order", max(n_orders - 1, 0), start=75_554_554_547)):
        oid = str(number)
        items = []
        for _ in range(rng.randint(1, 3)):
            product = rng.choice(sellable) if sellable else None
            price = product["variations"][0]["prices"][0] if product else {"number": "10.00", "currency": "USD"}
            items.append({"id": product["_id"] if product else "0", "variation_id": "0",
                          "quantity": str(rng.randint(1, 4)), "unitPrice": price["number"],
                          "currencyId": price["currency"]})
        status = rng.choice(STATUSES)
        created = ctx.now + i * 5400
        orders.append((oid, {
            "_id": oid,
            "orderid": str(800_000 + i),
            "status": status,
            "dateCreated": iso(created),
            "dateClosed": iso(created + 86_400 * 3) if status in ("delivered", "cancelled") else "",
            "total": order_total(items),
            "orderItems": items,
            "buyer": {"id": str(rng.randint(1_000_000, 9_999_999)), "email": fake.email(),
                      "phone": fake.numerify("##########"), "firstName": fake.first_name(),
                      "lastName": fake.last_name()},
        }))
    Orders(state).items.put_many(orders)
