"""Seed data: the records the document's examples expect to exist, then Faker records.

The document's examples read as one session against one store; the seed holds what must already
be there for each example to answer as printed, and leaves out what the examples create:

* customers 1002 (Streak Styris), 1234001 (Missy Colone) and 1234500 (George Kisty, whose email
  the "same email address" example collides with); 123456 and 1001 are left for the examples to create;
* categories 102 Apparel, 1001 Book, 1002 Electronics, 10001 Print; 101, 103 and 1003 are not seeded;
* products 10002, 10034 (simple), 10004, 10008, 10012 (configurable); 10001 and 1001 are not seeded;
* the five orders of the "Multiple Orders" example; 11001 is not seeded.

Options (``SandboxConfig.options["printxpand"]``): ``customers``, ``categories``, ``products``,
``orders``: how many Faker records to add after the examples (defaults 20, 8, 30, 15).
"""
from __future__ import annotations

from typing import Any

from mocks.core.seed import SeedContext
from mocks.core.state import TenantState

CUSTOM_OPTIONS: list[dict[str, Any]] = [
    {"title": "Message for packaging", "type": "field", "sort_order": 1, "is_require": 0, "price": 45,
     "price_type": "fixed", "sku": "85465da", "max_characters": 100},
    {"title": "Test Option", "type": "file", "is_require": 0, "sort_order": 3, "price": 2, "price_type": "fixed",
     "sku": "testsku", "file_extension": "png,jpg", "image_size_x": "100", "image_size_y": "20"},
    {"sort_order": 2, "title": "Color", "price_type": "fixed", "type": "drop_down", "is_require": 0, "price": 23,
     "sku": "854465da", "max_characters": 208, "values": [
         {"title": "RED", "value": "red", "sort_order": 1, "price": 10, "price_type": "fixed", "sku": "fgh45",
          "is_delete": 0},
         {"title": "Yellow", "sort_order": 2, "value": "yellow", "price": 10, "price_type": "fixed",
          "sku": "fhfgh5", "is_delete": 0}]},
    {"title": "My test", "type": "date_time", "sort_order": 3, "is_require": 0, "price": 5, "price_type": "fixed",
     "sku": "85465da"},
]
TIER_PRICE = [{"price": "50", "qty": "15"}, {"price": "40", "qty": "20"}]

EXAMPLE_CUSTOMERS = [
    {"id": "1002", "first_name": "Streak", "last_name": "Styris", "email": "streakstyris@10@gmail.com"},
    {"id": "1234001", "first_name": "Missy", "last_name": "Colone", "email": "mscolne08@gmail.com"},
    {"id": "1234500", "first_name": "George", "last_name": "Kisty", "email": "george.kisty78@gmail.com"},
]
EXAMPLE_CATEGORIES = [
    {"id": "102", "name": "Apparel", "parent_id": "0", "status": 1},
    {"id": "1001", "name": "Book", "parent_id": "0", "status": 1},
    {"id": "1002", "name": "Electronics", "parent_id": "0", "status": 1},
    {"id": "10001", "name": "Print", "parent_id": "0", "status": 1},
]


def _simple(pid: str, name: str, categories: list[str]) -> dict[str, Any]:
    return {"id": pid, "name": name, "type": "simple", "price": "70.12", "special_price": "", "status": 1,
            "enable_product_designer": 1, "category_ids": categories,
            "tier_price": TIER_PRICE, "images": [{"src": "image_url"}], "custom_options": CUSTOM_OPTIONS,
            "attribute_names": "", "variations": []}


def _variation(vid: str, color: str) -> dict[str, Any]:
    return {"id": vid, "status": 1, "price": "55.55", "special_price": "", "images": [{"src": "image_src"}],
            "tier_price": [], "attributes": [{"name": "Size", "option": "M"}, {"name": "Color", "option": color}]}


def _configurable(pid: str, name: str, children: list[tuple[str, str]]) -> dict[str, Any]:
    return {"id": pid, "name": name, "type": "configurable", "price": "55.55", "special_price": "", "status": 1,
            "enable_product_designer": 1, "category_ids": ["102"],
            "tier_price": [], "images": [{"src": "image_src"}, {"src": "image_src"}],
            "custom_options": CUSTOM_OPTIONS, "attribute_names": "Size,Color",
            "variations": [_variation(v, c) for v, c in children]}


EXAMPLE_PRODUCTS = [
    _simple("10002", "Sport Tshirt Red", ["1001"]),
    _simple("10034", "Sport Tshirt Blue", ["1001"]),
    _configurable("10004", "Configurable Product", [("10002", "Red"), ("10003", "Pink")]),
    _configurable("10008", "Adidas Tshirt-11", [("10005", "Red"), ("10006", "Pink"), ("10007", "Purpal")]),
    _configurable("10012", "Adidas Shirt", [("10009", "Red"), ("10010", "Pink"), ("10011", "Purpal")]),
]


def _order(oid: str, name: str, address1: str, address2: str, city: str, state: str, zip_code: str) -> dict[str, Any]:
    return {"order_id": oid, "status": "Success", "sub_total": "220.00",
            "shipping_address": {"name": name, "address1": address1, "address2": address2, "phone": "777-777-7777",
                                 "city": city, "state": state, "country": "USA", "country_code": "US",
                                 "zip": zip_code},
            "items": [{"design_id": d, "price": "22.00", "qty": q} for d, q in (("1524", 2), ("1525", 3), ("1526", 5))]}


EXAMPLE_ORDERS = [
    _order("1406539694128", "Vinni Seika", "830 W Washington Blvd", "830 W Washington Blvd", "Fakecity",
           "California", "90004"),
    _order("1406539923504", "Jane Peter", "830 W Washington Blvd", "830 W Washington Blvd", "Los Angeles",
           "California", "90004"),
    _order("1409158479920", "Veronica", "321 Alps Commercial", "Midway Street", "Dallas", "Texas", "53014"),
    _order("1409170898992", "Veronica", "321 Alps Commercial", "Midway Street", "Dallas", "Texas", "90014"),
    _order("1409172930608", "Veronica", "321 Alps Commercial", "Midway Street", "Dallas", "Texas", "90014"),
]


def seed(state: TenantState, ctx: SeedContext) -> None:
    rng, fake, now = ctx.rng, ctx.fake, ctx.now
    stamp = {"created_at": now, "updated_at": now}

    customers = [(c["id"], {**c, **stamp}) for c in EXAMPLE_CUSTOMERS]
    for i in range(int(ctx.option("customers", 20))):
        cid = str(2_000_001 + i)
        first, last = fake.first_name(), fake.last_name()
        customers.append((cid, {"id": cid, "first_name": first, "last_name": last,
                                "email": f"{first}.{last}.{cid}@example.com".lower(), **stamp}))
    state.collection("customers").put_many(customers)

    categories = [(c["id"], {**c, **stamp}) for c in EXAMPLE_CATEGORIES]
    extra_categories: list[str] = []
    for i in range(int(ctx.option("categories", 8))):
        cid = str(3001 + i)
        parent = rng.choice(["0", "102", "1001", *extra_categories[:2]])
        categories.append((cid, {"id": cid, "name": fake.word().title(), "parent_id": parent,
                                 "status": rng.choice([1, 1, 1, 0]), **stamp}))
        extra_categories.append(cid)
    state.collection("categories").put_many(categories)

    products = [(p["id"], {**p, **stamp}) for p in EXAMPLE_PRODUCTS]
    known = [c for c, _ in categories]
    for i in range(int(ctx.option("products", 30))):
        pid = str(20_001 + i)
        product = _simple(pid, f"{fake.color_name()} {rng.choice(['Tshirt', 'Mug', 'Poster', 'Hoodie', 'Cap'])}",
                          rng.sample(known, rng.randint(0, 2)))
        product.update({"price": f"{rng.uniform(5, 120):.2f}", "status": rng.choice([1, 1, 0]),
                        "enable_product_designer": rng.choice([0, 1]),
                        "tier_price": [], "custom_options": [], "images": [{"src": f"https://example.com/img/{pid}.png"}],
                        **stamp})
        products.append((pid, product))
    state.collection("products").put_many(products)

    orders = [(o["order_id"], {**o, **stamp}) for o in EXAMPLE_ORDERS]
    for i in range(int(ctx.option("orders", 15))):
        oid = str(1_500_000_000_000 + i)
        lines = [{"design_id": str(rng.randint(1000, 9999)), "price": f"{rng.uniform(5, 60):.2f}",
                  "qty": rng.randint(1, 5)} for _ in range(rng.randint(1, 3))]
        total = sum(float(line["price"]) * line["qty"] for line in lines)
        orders.append((oid, {"order_id": oid, "status": rng.choice(["Open", "Success", "Success"]),
                             "sub_total": f"{total:.2f}",
                             "shipping_address": {"name": fake.name(), "address1": fake.street_address(),
                                                  "address2": "", "phone": fake.numerify("###-###-####"),
                                                  "city": fake.city(), "state": fake.state(), "country": "USA",
                                                  "country_code": "US", "zip": fake.zipcode()},
                             "items": lines, **stamp}))
    state.collection("orders").put_many(orders)
