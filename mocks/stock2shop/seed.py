"""Seed data: two clients, one user per role each, the documents' own example records, then Faker.

Client 21 is the client of the documents' example product (CD ROMs, id 62777) and client 91 the
client of their example order (933302). Sources and channels carry the documents' example ids
(source 318, channel 123) with the client_id of the sandbox client that owns them.

Options (``SandboxConfig.options["stock2shop"]``): ``products`` (default 1,000 per client, the
example included), ``orders`` (default 300), ``customers`` (default 100); ``products_21`` etc.
set one client's figure (the benchmark seeds 100,000 products for client 21 only).
"""
from __future__ import annotations

import copy
from typing import Any

from mocks.core.seed import SeedContext
from mocks.core.state import TenantState
from mocks.stock2shop.models.formats import s2s_time, user_time
from mocks.stock2shop.models.images import image_record
from mocks.stock2shop.models.orders import customer_record, order_totals
from mocks.stock2shop.models.users import ROLES
from mocks.stock2shop.search import no_gc

PASSWORD_SUFFIX = "-s2s-demo"
DEFAULT_PRODUCTS = 1_000   # per client, the documents' example product included
DEFAULT_ORDERS = 300       # per client, the documents' example order included (client 91)
DEFAULT_CUSTOMERS = 100

CLIENTS: dict[str, dict[str, Any]] = {
    "21": {
        "client_name": "Example Client",
        "user_suffix": "",
        "first_user_id": 1,
        "sources": [
            {"id": 57, "created": "2015-03-03T12:30:00+0000", "description": "Example ERP", "sync_token": "0",
             "modified": "2021-08-27T13:57:29+0000", "type": "apifact_sapone", "active": 1, "source_id": None},
            {"id": 58, "created": "2018-02-01T09:00:00+0000", "description": "Example ERP (linked)",
             "sync_token": "0", "modified": "2021-08-27T13:57:29+0000", "type": "apifact_sapone", "active": 1,
             "source_id": 57},
        ],
        "channels": [
            {"id": 47, "created": "2015-08-08T21:32:46+0000", "description": "My Sales Channel",
             "modified": "2020-05-06T09:53:30+0000", "active": 1, "type": "shopify", "price_tier": None,
             "qty_availability": None},
            {"id": 255, "created": "2017-04-11T10:12:00+0000", "description": "B2B Trade Store",
             "modified": "2020-05-06T09:53:30+0000", "active": 1, "type": "trade_store", "price_tier": "Wholesale",
             "qty_availability": None},
        ],
    },
    "91": {
        "client_name": "Second Client",
        "user_suffix": "91",
        "first_user_id": 101,
        "sources": [
            {"id": 318, "created": "2017-07-25T10:32:46+0000", "description": "Example", "sync_token": "0",
             "modified": "2021-08-27T13:57:29+0000", "type": "apifact_sapone", "active": 1, "source_id": None},
        ],
        "channels": [
            {"id": 123, "created": "2015-08-08T21:32:46+0000", "description": "My Sales Channel",
             "modified": "2020-05-06T09:53:30+0000", "active": 1, "type": "shopify", "price_tier": None,
             "qty_availability": None},
            {"id": 191, "created": "2019-01-15T08:00:00+0000", "description": "Woo Store",
             "modified": "2020-05-06T09:53:30+0000", "active": 1, "type": "woocommerce", "price_tier": None,
             "qty_availability": None},
        ],
    },
}

USER_NAMES = {"": ("Bob", "Seger"), "trade": ("Tracy", "Trader"), "read_only": ("Rita", "Reader"),
              "product_editor": ("Pete", "Editor"), "product_meta_editor": ("Mary", "Meta"),
              "customer_read_only": ("Carl", "Customer")}


def users_of(client_id: str) -> list[dict[str, Any]]:
    """The seeded users of a client (static, so credentials can be listed before any request)."""
    spec = CLIENTS[client_id]
    out = []
    for i, role in enumerate(ROLES):
        username = (role or "admin") + spec["user_suffix"]
        name, surname = USER_NAMES[role]
        out.append({"id": spec["first_user_id"] + i, "username": username, "password": username + PASSWORD_SUFFIX,
                    "role": role, "name": name, "surname": surname, "client_id": int(client_id),
                    "email": f"{username}@client{client_id}.example.com", "client_name": spec["client_name"]})
    return out


EXAMPLE_PRODUCT: dict[str, Any] = {
    "id": 62777, "created": "2015-03-03 12:37:51", "active": True, "source_product_code": "CDROM",
    "modified": "2021-01-05 08:25:04", "client_id": 21, "source_id": 57,
    "body_html": "<p>No one uses CDs in computers anymore. Why is this here? Testing for Wilson.</p>",
    "collection": "Storage", "title": "CD ROMs", "product_type": "Media", "vendor": "",
    "hash": "a22d32a40b598f2fcec0f80e23c06c34",
    "channels": [{"channel_id": "47", "channel_product_code": "62777"},
                 {"channel_id": "255", "channel_product_code": "51"}],
    "tags": "", "options": [{"name": "Selection", "position": 1}],
    "meta": [
        {"id": 244931, "created": "2016-02-15 10:08:04", "key": "release_date", "value": "",
         "modified": "2020-10-28 14:10:47", "template_name": None, "client_id": 21},
        {"id": 1068975, "created": "2017-02-14 07:16:46", "key": "Dimensions",
         "value": "<a href=\"http://www.stock2shop.com\">test</a>", "modified": "2020-10-28 14:10:47",
         "template_name": None, "client_id": 21},
        {"id": 3235454, "created": "2018-10-21 17:49:08", "key": "channel_b2b", "value": "TRUE",
         "modified": "2020-10-28 14:10:47", "template_name": None, "client_id": 21},
    ],
    "images": [{
        "src_50x50": "https://s2s-image.s3.amazonaws.com/thumb/50x50/adf8ded854495aedb72edefaaab4209b.jpg",
        "src_160x160": "https://s2s-image.s3.amazonaws.com/thumb/160x160/adf8ded854495aedb72edefaaab4209b.jpg",
        "id": 271528, "created": "2018-06-12 04:55:30", "source_image_code": None,
        "storage_code": "adf8ded854495aedb72edefaaab4209b.jpg",
        "src": "https://s2s-image.s3.amazonaws.com/adf8ded854495aedb72edefaaab4209b.jpg",
        "modified": "2020-01-30 08:32:19", "client_id": 21, "product_id": 62777, "active": True,
        "hash": "adf8ded854495aedb72edefaaab4209b"}],
    "variants": [
        {"id": 67841, "source_variant_code": "4317647", "price": 10, "barcode": "", "sku": "CD003", "qty": 38,
         "grams": 0, "inventory_management": True, "active": True, "product_id": 62777, "image_id": 271528,
         "client_id": 21, "option1": "Pack of 25", "option2": None, "option3": None,
         "price_tiers": [{"tier": "Wholesale", "price": 28}, {"tier": "Was", "price": 0}], "qty_availability": []},
        {"id": 67842, "source_variant_code": "4317716", "price": 55, "barcode": "", "sku": "CD004", "qty": 39,
         "grams": 0, "inventory_management": True, "active": True, "product_id": 62777, "image_id": 235461,
         "client_id": 21, "option1": "Pack of 50", "option2": None, "option3": None,
         "price_tiers": [{"tier": "Wholesale", "price": 50}, {"tier": "Was", "price": 0}], "qty_availability": []},
    ],
}

EXAMPLE_ORDER: dict[str, Any] = {
    "id": 933302, "created": "2020-06-08 14:03:48", "channel_order_code": "0027795",
    "modified": "2020-06-08 14:04:08", "channel_id": 191, "client_id": 91, "customer_id": 495995,
    "notes": "Send Soon", "status": "ordered", "total_discount": 0, "line_item_sub_total": 0, "line_item_tax": 0,
    "shipping_sub_total": 0, "shipping_tax": 0, "sub_total": 119.23, "tax": 17.88, "total": 137.11,
    "customer": {"channel_customer_code": "5ba71121b3", "email": "abc@example.com", "first_name": "Roger",
                 "last_name": "Waters"},
    "sources": [{"source_id": "318", "source_order_code": "3360213"}],
    "line_items": [{
        "id": 3715344, "grams": 0, "price": 119.23, "sku": "3397006838", "total_discount": 0, "qty": 1,
        "variant_id": 620602, "source_id": 318, "tax_lines": [{"rate": "15"}], "sub_total": 119.23, "tax": 17.88,
        "tax_per_unit": 17.88, "total": 137.11, "sub_total_display": "119.23", "tax_display": "17.88",
        "tax_per_unit_display": "17.88", "total_display": "137.11", "price_display": "119.23",
        "total_discount_display": "0.00"}],
    "meta": [{"key": "customer_reference", "value": "PO 123"}],
    "shipping_address": {"address1": "Sunny Str", "address2": None, "city": None, "company": "Apple", "country": "ZA",
                         "country_code": "ZA", "first_name": "Roger", "last_name": "Waters", "phone": "123456789",
                         "province": None, "province_code": None, "zip": "1234"},
    "billing_address": {"address1": "Sunny Str", "address2": None, "city": None, "company": "Apple", "country": "ZA",
                        "country_code": "ZA", "first_name": "Roger", "last_name": "Waters", "phone": "123456789",
                        "province": None, "province_code": None, "zip": "1234"},
    "shipping_total": 0, "sub_total_display": "119.23", "shipping_total_display": "0.00",
    "shipping_tax_display": "0.00", "tax_display": "17.88", "total_display": "137.11",
    "total_discount_display": "0.00",
}

EXAMPLE_CUSTOMER = {"channel_customer_code": "5ba71121b3", "email": "abc@example.com", "first_name": "Roger",
                    "last_name": "Waters"}

COLLECTIONS = ["Storage", "Audio", "Cables", "Peripherals", "Networking", "Office", "Gaming"]
PRODUCT_TYPES = ["Media", "Hardware", "Accessory", "Consumable", "Software"]
NOUNS = ["Keyboard", "Mouse", "Cable", "Speaker", "Headset", "Monitor", "Router", "Charger", "Webcam", "Drive"]
SIZES = ["S", "M", "L", "XL", "XXL"]


_N_VARIANTS = (1, 1, 2, 3)
# EAN-13's check digit weighs the 12 digits 1, 3, 1, 3, ...: per group of three digits, the
# weighted digit sum when the group starts on a weight of 1 (_W131) or of 3 (_W313)
_W131 = [d // 100 + 3 * (d // 10 % 10) + d % 10 for d in range(1000)]
_W313 = [3 * (d // 100) + d // 10 % 10 + 3 * (d % 10) for d in range(1000)]


def ean13(random: Any) -> str:
    """A valid EAN-13 from one draw of ``random()`` (a seeded generator's ``random`` method)."""
    n = int(random() * 1e12)
    total = _W131[n // 1_000_000_000] + _W313[n // 1_000_000 % 1000] + _W131[n // 1000 % 1000] + _W313[n % 1000]
    return f"{n:012d}{(10 - total % 10) % 10}"


def seed(state: TenantState, ctx: SeedContext) -> None:
    # hundreds of thousands of new objects and nothing cyclic: the collector would only walk them
    with no_gc():
        _seed(state, ctx)


def _seed(state: TenantState, ctx: SeedContext) -> None:
    tenant = state.tenant
    spec = CLIENTS[tenant]
    client_id = int(tenant)
    rng, fake = ctx.rng, ctx.fake
    now = int(ctx.now) if float(ctx.now).is_integer() else ctx.now  # whole seconds format faster

    users = state.collection("users")
    for u in users_of(tenant):
        record = {k: v for k, v in u.items() if k != "password"}
        record.update({"created": user_time(ctx.now - 86_400 * 400), "modified": user_time(ctx.now - 86_400 * 10),
                       "active": 1, "admin": 0 if u["role"] else 1, "token": None, "customer_id": None})
        users.put(str(u["id"]), record)
    state.collection("sources").put_many([(str(s["id"]), {**s, "client_id": client_id}) for s in spec["sources"]])
    state.collection("channels").put_many([(str(c["id"]), {**c, "client_id": client_id}) for c in spec["channels"]])
    source_id = spec["sources"][0]["id"]
    channel_ids = [c["id"] for c in spec["channels"]]

    # products ----------------------------------------------------------------------------------
    n_products = int(ctx.option(f"products_{tenant}", ctx.option("products", DEFAULT_PRODUCTS)))
    products: list[tuple[str, dict[str, Any]]] = []
    if tenant == "21" and n_products > 0:
        products.append(("62777", copy.deepcopy(EXAMPLE_PRODUCT)))
    count = max(n_products - len(products), 0)
    pids = state.reserve_ids("product", count, start=62_778 if tenant == "21" else 162_778)
    # id blocks reserved in one write each (a per-id counter write is slow on the sqlite backend)
    variant_ids = iter(state.reserve_ids("variant", count * 3, start=80_000))
    image_ids = iter(state.reserve_ids("image", count, start=300_000))
    meta_ids = iter(state.reserve_ids("meta", count, start=4_000_000))
    # Faker is slow per call: draw pools once, then pick from them with the seeded rng. Every draw
    # below is one ``rng.random()`` (``randint``/``choice`` cost ten times more in Python).
    brands = [fake.company().split(" ")[0].strip(",") for _ in range(min(150, count) or 1)]
    words = fake.words(nb=300)
    sentences = [f"<p>{fake.sentence(nb_words=12)}</p>" for _ in range(min(200, count) or 1)]
    titles = [w.capitalize() for w in words]
    R, bits = rng.random, rng.getrandbits
    n_brands, n_words, n_sentences = len(brands), len(words), len(sentences)
    n_nouns, n_colls, n_types = len(NOUNS), len(COLLECTIONS), len(PRODUCT_TYPES)
    with_size = [{"name": "Size", "position": 1}]
    for i, pid in enumerate(pids):
        created = now - (30 + int(R() * 871)) * 86_400
        modified = now - (count - i) * 3_600 - int(R() * 3_600)
        created_s, modified_s = s2s_time(created), s2s_time(modified)
        brand = brands[int(R() * n_brands)]
        code = f"P{pid}"
        n_var = _N_VARIANTS[int(R() * 4)]
        cents = 500 + int(R() * 199_501)          # 5.00 .. 2,000.00
        channels = []
        for c in channel_ids:
            if R() > 0.4:
                channels.append({"channel_id": str(c), "channel_product_code": str(10_000 + int(R() * 90_000))})
        n_tags = int(R() * 4)
        tags = ""
        if n_tags:
            picked: list[str] = []
            while len(picked) < n_tags:
                w = words[int(R() * n_words)]
                if w not in picked:
                    picked.append(w)
            tags = ",".join(picked)
        product: dict[str, Any] = {
            "id": pid, "created": created_s, "active": R() > 0.08, "source_product_code": code,
            "modified": modified_s, "client_id": client_id, "source_id": source_id,
            "body_html": sentences[int(R() * n_sentences)], "collection": COLLECTIONS[int(R() * n_colls)],
            "title": f"{brand} {titles[int(R() * n_words)]} {NOUNS[int(R() * n_nouns)]}",
            "product_type": PRODUCT_TYPES[int(R() * n_types)],
            "vendor": brand, "hash": "", "channels": channels, "tags": tags,
            "options": list(with_size) if n_var > 1 else [],
            "meta": [], "images": [], "variants": [],
        }
        if R() > 0.5:
            product["meta"].append({"id": next(meta_ids), "created": created_s,
                                    "key": "warranty", "value": f"{1 + int(R() * 3)} years",
                                    "modified": modified_s, "template_name": None, "client_id": client_id})
        image_id = None
        if R() > 0.3:
            image = image_record(state, next(image_ids), pid, f"{bits(128):032x}.jpg", None, created)
            image["modified"] = modified_s
            product["images"].append(image)
            image_id = image["id"]
        variants = product["variants"]
        wholesale = round(cents * 0.8) / 100
        for v in range(n_var):
            sku = f"{code}-{SIZES[v]}" if n_var > 1 else code
            variants.append({
                "id": next(variant_ids), "source_variant_code": sku,
                "price": round(cents * (10 + v) / 10) / 100, "barcode": ean13(R), "sku": sku,
                "qty": int(R() * 251), "grams": int(R() * 5_001), "inventory_management": True,
                "active": True, "product_id": pid, "image_id": image_id, "client_id": client_id,
                "option1": SIZES[v] if n_var > 1 else None, "option2": None, "option3": None,
                "price_tiers": [{"tier": "Wholesale", "price": wholesale}],
                "qty_availability": [{"description": "Main Warehouse", "qty": int(R() * 101)}],
            })
        product["hash"] = f"{bits(128):032x}"  # an opaque content hash, as the documents show
        products.append((str(pid), product))
    state.collection("products").put_many(products)

    # customers ---------------------------------------------------------------------------------
    n_customers = int(ctx.option(f"customers_{tenant}", ctx.option("customers", DEFAULT_CUSTOMERS)))
    customers: list[dict[str, Any]] = []
    if tenant == "91" and n_customers > 0:
        customers.append(customer_record(495995, client_id, 191, EXAMPLE_CUSTOMER, ctx.now - 86_400 * 300))
    for cid in state.reserve_ids("customer", max(n_customers - len(customers), 0), start=500_000):
        first, last = fake.first_name(), fake.last_name()
        c = {"channel_customer_code": f"{rng.getrandbits(40):010x}", "first_name": first, "last_name": last,
             "email": f"{first.lower()}.{last.lower()}{cid % 1000}@{fake.free_email_domain()}"}
        rec = customer_record(cid, client_id, rng.choice(channel_ids), c, ctx.now - rng.randint(1, 400) * 86_400)
        rec["accepts_marketing"] = rng.random() > 0.5
        rec["addresses"] = [{"address1": fake.street_address(), "city": fake.city(), "country_code": "ZA",
                             "zip": fake.postcode()}]
        customers.append(rec)
    state.collection("customers").put_many([(str(c["id"]), c) for c in customers])
    trade_user = next(u for u in users_of(tenant) if u["role"] == "trade")
    if customers:
        users.update(str(trade_user["id"]), lambda old: {**old, "customer_id": customers[-1]["id"]})

    # orders ------------------------------------------------------------------------------------
    n_orders = int(ctx.option(f"orders_{tenant}", ctx.option("orders", DEFAULT_ORDERS)))
    orders: list[tuple[str, dict[str, Any]]] = []
    if tenant == "91" and n_orders > 0:
        orders.append(("933302", copy.deepcopy(EXAMPLE_ORDER)))
    sellable = [(p, v) for _, p in products for v in p["variants"]]
    count = n_orders - len(orders)
    line_ids = iter(state.reserve_ids("line_item", max(count, 0) * 3, start=4_000_000))
    pool = min(max(count, 0), 60) or 1   # Faker is slow per call: addresses drawn once, picked with the rng
    streets, cities = [fake.street_address() for _ in range(pool)], [fake.city() for _ in range(pool)]
    phones, postcodes = [fake.numerify("0#########") for _ in range(pool)], [fake.postcode() for _ in range(pool)]
    for i, oid in enumerate(state.reserve_ids("order", max(count, 0), start=940_000)):
        created = ctx.now - (count - i) * 7_200 - rng.randint(0, 3_599)
        # the first orders belong to the trade user's customer, so a trade login has some to see
        cust = (customers[-1] if i < 3 else rng.choice(customers)) if customers else None
        items = []
        for _ in range(rng.randint(1, 3) if sellable else 0):
            _, variant = rng.choice(sellable)
            items.append({"id": next(line_ids), "grams": variant["grams"],
                          "price": float(variant["price"]), "sku": variant["sku"], "total_discount": 0,
                          "qty": rng.randint(1, 4), "variant_id": variant["id"], "source_id": source_id})
        shipping = rng.choice([0.0, 0.0, 65.0, 99.0])
        addr = {"address1": rng.choice(streets), "address2": None, "city": rng.choice(cities), "company": None,
                "country": "South Africa", "country_code": "ZA",
                "first_name": cust["first_name"] if cust else "", "last_name": cust["last_name"] if cust else "",
                "phone": rng.choice(phones), "province": None, "province_code": None, "zip": rng.choice(postcodes)}
        status = rng.choice(["ordered", "ordered", "processing", "fulfilled", "cancelled"])
        orders.append((str(oid), {
            "id": oid, "created": s2s_time(created), "channel_order_code": f"{rng.randint(1000, 99999):07d}",
            "modified": s2s_time(created + rng.randint(10, 7_000)), "channel_id": rng.choice(channel_ids),
            "client_id": client_id, "customer_id": cust["id"] if cust else None,
            "notes": rng.choice(["", "", "Send Soon", "Leave at reception"]), "status": status,
            **order_totals(items, shipping),
            "customer": {"channel_customer_code": cust["channel_customer_code"], "email": cust["email"],
                         "first_name": cust["first_name"], "last_name": cust["last_name"]} if cust else
            {"channel_customer_code": "", "email": "", "first_name": "", "last_name": ""},
            "sources": [{"source_id": str(source_id), "source_order_code": str(3_360_000 + i)}]
            if status != "ordered" else [],
            "line_items": items, "meta": [],
            "shipping_address": addr, "billing_address": dict(addr),
        }))
    state.collection("orders").put_many(orders)
